/** Reads a configuration file into a located document, with a display name for diagnostics. */
import { readFile } from "node:fs/promises";
import { isAbsolute, relative } from "node:path";
import { type LocatedDocument, parseYamlSource } from "./yaml-source.js";

/** A path as users should see it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const fromCwd = relative(process.cwd(), path);
  return fromCwd !== "" && !fromCwd.startsWith("..") && !isAbsolute(fromCwd) ? fromCwd : path;
}

/** Undefined when the file cannot be read; the caller reports that where the path was named. */
export async function readYamlFile(path: string): Promise<LocatedDocument | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  return parseYamlSource({ name: displayPath(path), text });
}
