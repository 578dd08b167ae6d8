/**
 * Module resolution hooks that make importing TensorFlow.js an error; see
 * forbid-tfjs.ts. Commands that train nothing must not pay its load time.
 */
type Resolve = (specifier: string, context: unknown) => Promise<unknown>;

export async function resolve(
  specifier: string,
  context: unknown,
  next: Resolve,
): Promise<unknown> {
  if (specifier.startsWith("@tensorflow/")) {
    throw new Error(`TensorFlow.js was loaded by a command that trains nothing: ${specifier}`);
  }
  return next(specifier, context);
}
