/**
 * Cross-compiles and links a bare-metal program for a board with
 * arm-none-eabi-gcc: the board's compiler flags, newlib-nano, our own
 * start-up code (no crt0) and a linker script rendered from the board
 * profile. Two runtimes: "semihosting" (rdimon: stdio and exit through the
 * debugger or QEMU, plus the instruction-count markers) for programs run
 * under the emulator, "bare" (nosys: nothing talks to a debugger) for the
 * image a board runs. A program too big for the board fails with a
 * ToolchainError whose failure is `region-overflow`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BoardProfile } from "../config/types.js";
import { kernelIncludeDir, markerSources, targetStartupSources } from "./c-sources.js";
import { type CompileResult, defineFlags } from "./compile-host.js";
import { compileObjects } from "./compile-objects.js";
import { parseRegionOverflows, ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import {
  type LinkerLayoutOptions,
  renderLinkerScript,
  resolveLinkerLayout,
} from "./linker-script.js";
import { requireTool, TARGET_CC } from "./tools.js";

/** Added to the board's flags for every target build. */
export const TARGET_CFLAGS: readonly string[] = ["-std=c99", "-Wall", "-Wextra", "-Werror"];
/** newlib-nano with semihosting, and our own start-up code instead of crt0. */
export const TARGET_LDFLAGS: readonly string[] = [
  "--specs=nano.specs",
  "--specs=rdimon.specs",
  "-nostartfiles",
];
/** newlib-nano with stub system calls: a device image that never talks to a debugger. */
export const TARGET_BARE_LDFLAGS: readonly string[] = [
  "--specs=nano.specs",
  "--specs=nosys.specs",
  "-nostartfiles",
];

export type TargetRuntime = "semihosting" | "bare";

export interface TargetCompileOptions {
  board: BoardProfile;
  /** The program's sources; the start-up code and markers are added. */
  sources: readonly string[];
  /** Objects compiled beforehand with the same flags (compileTargetObjects), linked in too. */
  objects?: readonly string[];
  includeDirs?: readonly string[];
  defines?: Readonly<Record<string, string | number | undefined>>;
  /** ELF file to write; the linker script and map file go next to it. */
  output: string;
  /** Memory map to link for. @default { target: "emulator" } */
  layout?: LinkerLayoutOptions;
  /** @default "semihosting" */
  runtime?: TargetRuntime;
  extraFlags?: readonly string[];
}

export interface TargetCompileResult extends CompileResult {
  linkerScript: string;
  mapFile: string;
}

type TargetFlagOptions = Pick<
  TargetCompileOptions,
  "board" | "includeDirs" | "defines" | "extraFlags" | "runtime"
>;

/** The compile flags of a target build: the board's, ours, includes and defines. */
function targetCompileFlags(options: TargetFlagOptions): string[] {
  const semihosting = (options.runtime ?? "semihosting") === "semihosting";
  return [
    ...options.board.compiler.cflags,
    ...TARGET_CFLAGS,
    ...(options.includeDirs ?? []).map((d) => `-I${d}`),
    `-I${kernelIncludeDir}`,
    ...defineFlags({ ...options.defines, ...(semihosting ? { TF_SEMIHOSTING: undefined } : {}) }),
    ...(options.extraFlags ?? []),
  ];
}

/**
 * Compiles sources shared by several links of one program (the kernels) to
 * objects in `outDir`, with the flags compileTarget would use.
 */
export async function compileTargetObjects(
  options: TargetFlagOptions & { sources: readonly string[]; outDir: string },
): Promise<string[]> {
  return compileObjects({
    compiler: await requireTool(TARGET_CC),
    flags: targetCompileFlags(options),
    sources: options.sources,
    outDir: options.outDir,
  });
}

export async function compileTarget(options: TargetCompileOptions): Promise<TargetCompileResult> {
  const gcc = await requireTool(TARGET_CC);
  const dir = dirname(options.output);
  await mkdir(dir, { recursive: true });
  const layout = resolveLinkerLayout(options.board, options.layout ?? { target: "emulator" });
  const linkerScript = join(dir, `${layout.board}-${layout.target}.ld`);
  await writeFile(linkerScript, await renderLinkerScript(layout));
  const mapFile = `${options.output}.map`;
  const semihosting = (options.runtime ?? "semihosting") === "semihosting";
  const args = [
    ...targetCompileFlags(options),
    ...(semihosting ? TARGET_LDFLAGS : TARGET_BARE_LDFLAGS),
    `-T${linkerScript}`,
    ...options.board.compiler.ldflags,
    `-Wl,-Map=${mapFile}`,
    ...targetStartupSources,
    ...(semihosting ? markerSources : []),
    ...options.sources,
    ...(options.objects ?? []),
    "-o",
    options.output,
  ];
  const result = await execTool(gcc, args);
  if (result.exitCode !== 0) {
    const overflows = parseRegionOverflows(result.stderr);
    const out = { command: result.command, stdout: result.stdout, stderr: result.stderr };
    throw new ToolchainError(
      overflows.length > 0
        ? { reason: "region-overflow", overflows, ...out }
        : { reason: "compile-failed", ...out },
    );
  }
  return {
    output: options.output,
    command: result.command,
    stderr: result.stderr,
    linkerScript,
    mapFile,
  };
}
