/** Makes a `switch` over a union exhaustive: a new variant is a compile error here. */
export function unreachable(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
