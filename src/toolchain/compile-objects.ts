/**
 * Compiles C sources to object files, one compiler process per source and as
 * many at once as the machine has cores. The stages that link one program
 * several ways (compile-host: release and debug; compile-target: device,
 * emulator and emulator debug) compile the kernels once and link the objects
 * into every variant, instead of compiling every source once per link.
 */
import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";

export interface CompileObjectsOptions {
  /** The compiler executable. */
  compiler: string;
  /** Every flag but -c, the source and -o. */
  flags: readonly string[];
  sources: readonly string[];
  /** Where the objects go (created); each is named after its source. */
  outDir: string;
  /** @default the number of cores */
  concurrency?: number;
}

/** The object files, in the order of `sources`. */
export async function compileObjects(options: CompileObjectsOptions): Promise<string[]> {
  await mkdir(options.outDir, { recursive: true });
  const names = new Set<string>();
  const objects = options.sources.map((source, i) => {
    // Two sources with one name (from different directories) get an index.
    let name = `${basename(source, ".c")}.o`;
    if (names.has(name)) name = `${i}-${name}`;
    names.add(name);
    return join(options.outDir, name);
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.sources.length) {
      const i = next++;
      const args = [
        ...options.flags,
        "-c",
        options.sources[i] as string,
        "-o",
        objects[i] as string,
      ];
      const result = await execTool(options.compiler, args);
      if (result.exitCode !== 0) {
        const { command, stdout, stderr } = result;
        throw new ToolchainError({ reason: "compile-failed", command, stdout, stderr });
      }
    }
  };
  const workers = Math.max(
    1,
    Math.min(options.concurrency ?? availableParallelism(), objects.length),
  );
  await Promise.all(Array.from({ length: workers }, worker));
  return objects;
}
