/**
 * Persists a generated program: every file under one output directory.
 * Returns the C sources and include directories a compiler needs.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GeneratedFile } from "./generate.js";

export interface WrittenProgram {
  dir: string;
  /** tf_model.c and kernels/*.c, absolute, in file order. */
  sources: string[];
  /** The output directory (tf_model.h) and its include/ (kernel headers). */
  includeDirs: string[];
  /** Sources already compiled to objects (with the same flags), linked instead of compiled. */
  objects?: string[];
}

export async function writeGeneratedFiles(
  dir: string,
  files: readonly GeneratedFile[],
): Promise<WrittenProgram> {
  for (const file of files) {
    const path = join(dir, ...file.path.split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.contents);
  }
  return {
    dir,
    sources: files.filter((f) => f.path.endsWith(".c")).map((f) => join(dir, ...f.path.split("/"))),
    includeDirs: [dir, join(dir, "include")],
  };
}
