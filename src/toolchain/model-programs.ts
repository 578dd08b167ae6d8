/**
 * The target programs built from a generated model (a codegen output
 * directory: tf_model.c, include/, kernels/), as compile-target builds them
 * and as the resource calibration and its tests rebuild them:
 *
 * - the *device* program (templates/c/model/tf_model_device.c): the board's
 *   real memory map, each region as long as its budget, no semihosting, the
 *   stack in the board's reserve; its footprint is what the budgets are
 *   checked against;
 * - the *emulator* program (templates/c/model/tf_model_target.c): QEMU's
 *   memory map with the emulator's whole regions, semihosting and the
 *   instruction-count markers; plain (one region per inference), debug
 *   (-DTF_MODEL_DEBUG: every layer's output written) or profile
 *   (-DTF_MODEL_PROFILE: one region per layer).
 *
 * The kernels do not depend on the memory map or the runtime, so they are
 * compiled once (compileModelKernels) and linked into every program.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { BoardProfile } from "../config/types.js";
import { deviceHarness, harnessDir, targetHarness } from "./c-sources.js";
import { compileTarget, compileTargetObjects, type TargetCompileResult } from "./compile-target.js";
import type { LinkerLayoutOptions } from "./linker-script.js";
import { runQemu } from "./run-qemu.js";

/** What an emulator program reports: inferences, every layer's output, or every layer's instructions. */
export type EmulatorVariant = "plain" | "debug" | "profile";

const VARIANT_DEFINES: Record<EmulatorVariant, Record<string, undefined>> = {
  plain: {},
  debug: { TF_MODEL_DEBUG: undefined },
  profile: { TF_MODEL_PROFILE: undefined },
};

/** A codegen output directory's include directories. */
export function modelIncludeDirs(codegenDir: string): string[] {
  return [codegenDir, join(codegenDir, "include")];
}

/**
 * The board as the emulator program is linked for it: the emulator's whole
 * code and RAM regions (the device link has already checked the budgets,
 * and the harness's stdio buffers, heap and stack must not fail the build
 * of a model that fits).
 */
export function emulatorBoard(board: BoardProfile): BoardProfile {
  return {
    ...board,
    memory: {
      flash: { ...board.memory.flash, size_bytes: board.emulator.code.size_bytes },
      sram: { ...board.memory.sram, size_bytes: board.emulator.ram.size_bytes },
    },
  };
}

/** The kernel sources codegen copied into `codegenDir`/kernels, sorted. */
export async function listModelKernels(codegenDir: string): Promise<string[]> {
  const files = (await readdir(join(codegenDir, "kernels"))).filter((f) => f.endsWith(".c"));
  return files.sort().map((f) => join(codegenDir, "kernels", f));
}

/** Compiles kernel sources once with the board's flags, for every program of a model. */
export async function compileModelKernels(options: {
  board: BoardProfile;
  /** Kernel sources (default: those of `codegenDir`). */
  sources?: readonly string[];
  codegenDir: string;
  outDir: string;
}): Promise<string[]> {
  return compileTargetObjects({
    board: options.board,
    sources: options.sources ?? (await listModelKernels(options.codegenDir)),
    includeDirs: modelIncludeDirs(options.codegenDir),
    runtime: "bare",
    outDir: options.outDir,
  });
}

export interface ModelLinkOptions {
  board: BoardProfile;
  codegenDir: string;
  /** The kernel objects (compileModelKernels). */
  objects: readonly string[];
  /** The ELF to write; its linker script and map file go next to it. */
  output: string;
}

/**
 * The device program's memory map: the board's regions, each as long as its
 * budget, no stack or heap in them (the stack starts at the real end of
 * SRAM, in the reserve).
 */
export const DEVICE_LAYOUT: LinkerLayoutOptions = {
  target: "device",
  reserve: true,
  stackBytes: 0,
  heapBytes: 0,
  stackInReserve: true,
};

/** Links the device program for the board's real memory map (budgets enforced by the linker). */
export function linkDeviceModel(options: ModelLinkOptions): Promise<TargetCompileResult> {
  return compileTarget({
    board: options.board,
    sources: [join(options.codegenDir, "tf_model.c"), deviceHarness],
    objects: options.objects,
    includeDirs: modelIncludeDirs(options.codegenDir),
    output: options.output,
    layout: DEVICE_LAYOUT,
    runtime: "bare",
  });
}

/** Links an emulator program (semihosting, markers) of the given variant. */
export function linkEmulatorModel(
  options: ModelLinkOptions & { variant: EmulatorVariant },
): Promise<TargetCompileResult> {
  return compileTarget({
    board: emulatorBoard(options.board),
    sources: [join(options.codegenDir, "tf_model.c"), targetHarness],
    objects: options.objects,
    includeDirs: [...modelIncludeDirs(options.codegenDir), harnessDir],
    defines: VARIANT_DEFINES[options.variant],
    output: options.output,
  });
}

export interface EmulatorRun {
  /** The outputs, back to back (outputs.bin). */
  outputs: Uint8Array;
  /**
   * Instructions of each marked region, minus the empty region the harness
   * measures first: per inference (plain) or per layer of each inference
   * (profile); empty without counting.
   */
  regions: number[];
}

/**
 * Runs an emulator program under QEMU on int8 inputs in `workDir` (created):
 * inputs.bin in, outputs.bin (and the debug build's trace.bin) out.
 */
export async function runEmulatorModel(options: {
  elf: string;
  board: BoardProfile;
  inputs: readonly Int8Array[];
  workDir: string;
  countInstructions: boolean;
  pluginCacheDir?: string;
  timeoutMs?: number;
}): Promise<EmulatorRun> {
  await mkdir(options.workDir, { recursive: true });
  const elf = join(options.workDir, basename(options.elf));
  await copyFile(options.elf, elf);
  const joined = new Uint8Array(options.inputs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of options.inputs) {
    joined.set(new Uint8Array(x.buffer, x.byteOffset, x.length), at);
    at += x.length;
  }
  await writeFile(join(options.workDir, "inputs.bin"), joined);
  const run = await runQemu({
    elf,
    board: options.board,
    cwd: options.workDir,
    countInstructions: options.countInstructions,
    pluginCacheDir: options.pluginCacheDir,
    timeoutMs: options.timeoutMs ?? 300_000,
  });
  const outputs = new Uint8Array(await readFile(join(options.workDir, "outputs.bin")));
  const [empty = 0, ...marked] = run.regionInstructions;
  return { outputs, regions: marked.map((n) => n - empty) };
}
