/**
 * Compiles C for the host machine with gcc (-std=c99 -O2 -Wall -Wextra
 * -Werror): the first rung of the verification ladder and the way kernel
 * tests run thousands of cases quickly.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { compileObjects } from "./compile-objects.js";
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import { HOST_CC, requireTool } from "./tools.js";

export const HOST_CFLAGS: readonly string[] = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"];

export interface HostCompileOptions {
  /** C sources to compile and link into one executable. */
  sources: readonly string[];
  /** Objects compiled beforehand with the same flags (compileHostObjects), linked in too. */
  objects?: readonly string[];
  /** -I directories. */
  includeDirs?: readonly string[];
  /** -D macros (value undefined: `-DNAME`). */
  defines?: Readonly<Record<string, string | number | undefined>>;
  /** Executable to write (its directory is created). */
  output: string;
  /** Build with -fsanitize=address,undefined (and -fno-sanitize-recover). @default false */
  sanitize?: boolean;
  /** Appended after the standard flags. */
  extraFlags?: readonly string[];
}

export interface CompileResult {
  /** Path of the produced executable / ELF file. */
  output: string;
  command: string;
  /** Compiler diagnostics (empty on a clean -Werror build). */
  stderr: string;
}

export function defineFlags(defines: HostCompileOptions["defines"]): string[] {
  return Object.entries(defines ?? {}).map(([k, v]) =>
    v === undefined ? `-D${k}` : `-D${k}=${v}`,
  );
}

type HostFlagOptions = Pick<
  HostCompileOptions,
  "includeDirs" | "defines" | "sanitize" | "extraFlags"
>;

function hostCompileFlags(options: HostFlagOptions): string[] {
  return [
    ...HOST_CFLAGS,
    ...(options.sanitize
      ? ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
      : []),
    ...(options.includeDirs ?? []).map((d) => `-I${d}`),
    ...defineFlags(options.defines),
    ...(options.extraFlags ?? []),
  ];
}

/**
 * Compiles sources shared by several links of one program (the kernels) to
 * objects in `outDir`, with the flags compileHost would use.
 */
export async function compileHostObjects(
  options: HostFlagOptions & { sources: readonly string[]; outDir: string },
): Promise<string[]> {
  return compileObjects({
    compiler: await requireTool(HOST_CC),
    flags: hostCompileFlags(options),
    sources: options.sources,
    outDir: options.outDir,
  });
}

export async function compileHost(options: HostCompileOptions): Promise<CompileResult> {
  const gcc = await requireTool(HOST_CC);
  await mkdir(dirname(options.output), { recursive: true });
  const args = [
    ...hostCompileFlags(options),
    ...options.sources,
    ...(options.objects ?? []),
    "-o",
    options.output,
  ];
  const result = await execTool(gcc, args);
  if (result.exitCode !== 0) {
    throw new ToolchainError({ reason: "compile-failed", ...pick(result) });
  }
  return { output: options.output, command: result.command, stderr: result.stderr };
}

function pick(r: { command: string; stdout: string; stderr: string }) {
  return { command: r.command, stdout: r.stdout, stderr: r.stderr };
}
