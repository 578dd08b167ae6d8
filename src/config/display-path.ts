/** Paths as users should see them in messages. */
import { isAbsolute, relative } from "node:path";

/** Relative to the working directory when inside it, else absolute. */
export function displayPath(path: string): string {
  const fromCwd = relative(process.cwd(), path);
  return fromCwd !== "" && !fromCwd.startsWith("..") && !isAbsolute(fromCwd) ? fromCwd : path;
}
