/**
 * Which kernel sources a generated model needs: the files of the kernels it
 * calls plus, transitively, the internal helpers those call. Every file in
 * templates/c/kernels defines one function named like the file, so a call
 * `tf_xyz(` in a source means it needs `tf_xyz.c`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kernelIncludeDir, kernelSourceDir } from "../toolchain/c-sources.js";

/** A C file copied into the generated program. */
export interface CopiedSource {
  /** File name (no directory). */
  name: string;
  text: string;
}

function readSources(dir: string, ext: string): Map<string, string> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

/**
 * Declarations and definitions start a line with their return type
 * (`tf_status tf_x(`); what remains of `tf_x(` are calls.
 */
const DECLARATION =
  /^\s*(?:static\s+)?(?:inline\s+)?(?:const\s+)?(?!return\b)[a-z_0-9]+\s+\**tf_\w+\s*\(/gm;

function callsIn(text: string): IterableIterator<RegExpMatchArray> {
  return text.replace(DECLARATION, "").matchAll(/\b(tf_[a-z0-9_]+)\s*\(/g);
}

/**
 * The kernel files `functions` (e.g. `tf_conv_1x1_s8`) need, sorted by name,
 * and every header of the kernel library.
 */
export function collectKernelSources(functions: Iterable<string>): {
  kernels: CopiedSource[];
  headers: CopiedSource[];
} {
  const all = readSources(kernelSourceDir, ".c");
  const headerFiles = readSources(kernelIncludeDir, ".h");
  // A source's text with the library headers it includes (their inline
  // functions may call helpers too), each header once.
  const withHeaders = (text: string, seen = new Set<string>()): string => {
    let out = text;
    for (const match of text.matchAll(/#include\s+"([^"]+)"/g)) {
      const name = match[1] as string;
      const header = headerFiles.get(name);
      if (header === undefined || seen.has(name)) continue;
      seen.add(name);
      out += withHeaders(header, seen);
    }
    return out;
  };
  const needed = new Set<string>();
  const queue = [...functions].map((f) => `${f}.c`);
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (needed.has(file)) continue;
    const text = all.get(file);
    if (text === undefined)
      throw new Error(`codegen: no kernel source ${file} in the kernel library`);
    needed.add(file);
    for (const match of callsIn(withHeaders(text))) {
      const callee = `${match[1]}.c`;
      if (callee !== file && all.has(callee) && !needed.has(callee)) queue.push(callee);
    }
  }
  const kernels = [...needed].sort().map((name) => ({ name, text: all.get(name) as string }));
  const headers = [...headerFiles].map(([name, text]) => ({ name, text }));
  return { kernels, headers };
}
