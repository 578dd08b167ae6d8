/**
 * Module resolution hooks that make importing the packages listed in
 * TINYFORMER_FORBID_IMPORTS (comma-separated prefixes, default
 * `@tensorflow/`) an error; see forbid-imports.ts. Used to prove that
 * commands which do not need a heavy dependency never load it.
 */
type Resolve = (specifier: string, context: unknown) => Promise<unknown>;

const forbidden = (process.env.TINYFORMER_FORBID_IMPORTS ?? "@tensorflow/")
  .split(",")
  .filter((p) => p !== "");

export async function resolve(
  specifier: string,
  context: unknown,
  next: Resolve,
): Promise<unknown> {
  const match = forbidden.find((prefix) => specifier === prefix || specifier.startsWith(prefix));
  if (match !== undefined) {
    throw new Error(`forbidden import in this command: ${specifier}`);
  }
  return next(specifier, context);
}
