/**
 * The `compile-target` stage: cross-compiles the generated C from `codegen`
 * for the board with arm-none-eabi-gcc and links it twice.
 *
 * - The *device* link (templates/c/model/tf_model_device.c: one inference
 *   on a static input) uses the board's real memory map with each region's
 *   length set to its budget, size_bytes − reserved_bytes, and no stack or
 *   heap: the board's reserve is where the application keeps those (the
 *   stack starts at the real end of SRAM). It has no semihosting: the
 *   start-up code and newlib's stub system calls never talk to a debugger,
 *   so the image runs on the board as it is. The
 *   linker therefore enforces the flash and SRAM budgets; a model over
 *   budget fails the stage naming the region and the overflow in bytes. The
 *   footprint (text, rodata, data, bss) comes from this ELF and its map file.
 * - The *emulator* build (templates/c/model/tf_model_target.c: reads inputs
 *   from a semihosting file, runs each between the instruction-count
 *   markers, writes the outputs) is linked for QEMU's memory map, with the
 *   emulator's full code and RAM regions: the device link has already
 *   checked the budgets, and the harness's stdio buffers, heap and stack
 *   must not fail the build of a model that fits. verify-target runs it.
 * - The same emulator build with -DTF_MODEL_DEBUG, which also writes every
 *   layer's output: verify-target runs it only on a mismatch, to name the
 *   first layer that differs on the target. Built here, not there, so that
 *   verify-target depends on binaries alone and stays cached when a
 *   template edit leaves them unchanged.
 * - The same emulator build with -DTF_MODEL_PROFILE, in which every layer
 *   is its own instruction-count region: verify-target runs it on one image
 *   for the per-layer profile the report sets beside the predicted one.
 *
 * The programs are linked by src/toolchain/model-programs.ts, which the
 * resource calibration uses too.
 *
 * Inputs:  codegen outputs; templates/c/harness and the two harnesses
 * Outputs: tf_model_device.elf, tf_model_target.elf, tf_model_target_debug.elf,
 *          tf_model_target_profile.elf, compile-target.json
 */

import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BoardProfile } from "../config/types.js";
import type { StageConfig } from "../graph-runner/stage.js";
import { byteCount } from "../report/number-format.js";
import { deviceHarness, harnessDir, targetHarness } from "../toolchain/c-sources.js";
import { TARGET_CC, TARGET_SIZE } from "../toolchain/tools.js";
import { linkUpstream } from "./codegen.js";
import type { StageFactory } from "./index.js";

export const DEVICE_ELF = "tf_model_device.elf";
export const TARGET_ELF = "tf_model_target.elf";
export const TARGET_DEBUG_ELF = "tf_model_target_debug.elf";
export const TARGET_PROFILE_ELF = "tf_model_target_profile.elf";
export const COMPILE_TARGET_REPORT = "compile-target.json";

export interface BudgetUsage {
  used_bytes: number;
  budget_bytes: number;
  /** budget − used; never negative in a written report (over budget fails the stage). */
  margin_bytes: number;
}

/** compile-target.json: the device link's footprint against the board's budgets. */
export interface CompileTargetReport {
  board: string;
  sections: { text_bytes: number; rodata_bytes: number; data_bytes: number; bss_bytes: number };
  /** text + rodata + data (the initial values of .data are stored in flash). */
  flash: BudgetUsage;
  /** data + bss. */
  sram: BudgetUsage;
  /** The C function of each layer, in layer order (from codegen.json), for diagnoses. */
  layer_kernels: string[];
}

/** The board keys the target stages read. */
export const TARGET_BOARD_KEYS = [
  "board.name",
  "board.core",
  "board.fpu",
  "board.dsp",
  "board.memory",
  "board.compiler",
  "board.emulator",
] as const;

/**
 * The board profile from the declared keys. The clock is not declared (it
 * changes no build), so it reads as 0.
 */
export function boardFromConfig(config: StageConfig): BoardProfile {
  return {
    name: config["board.name"] as string,
    core: config["board.core"] as string,
    fpu: config["board.fpu"] as string,
    dsp: config["board.dsp"] as boolean,
    clock_hz: 0,
    memory: config["board.memory"] as BoardProfile["memory"],
    compiler: config["board.compiler"] as BoardProfile["compiler"],
    emulator: config["board.emulator"] as BoardProfile["emulator"],
  };
}

const REGION_NAMES: Record<string, string> = { FLASH: "flash", SRAM: "SRAM" };

export const createCompileTargetStage: StageFactory = () => ({
  implementation: import.meta.url,
  configKeys: [...TARGET_BOARD_KEYS],
  fileInputs: () => [harnessDir, deviceHarness, targetHarness],
  tools: [TARGET_CC, TARGET_SIZE],
  async run(context) {
    const [
      { compileModelKernels, linkDeviceModel, linkEmulatorModel },
      { ToolchainError },
      { readFootprint },
      { readLayerKernels },
    ] = await Promise.all([
      import("../toolchain/model-programs.js"),
      import("../toolchain/errors.js"),
      import("../toolchain/footprint.js"),
      import("../codegen/summary-file.js"),
    ]);
    const board = boardFromConfig(context.config);
    const dir = await linkUpstream(context, "codegen");
    // The kernels are the same in all four links (they depend on neither the
    // memory map nor the runtime): compiled once, linked four times.
    const objects = await compileModelKernels({
      board,
      codegenDir: dir,
      outDir: join(context.scratchDir, "objects"),
    });
    const budgets = {
      FLASH: board.memory.flash.size_bytes - board.memory.flash.reserved_bytes,
      SRAM: board.memory.sram.size_bytes - board.memory.sram.reserved_bytes,
    };

    const deviceElf = join(context.scratchDir, "device", DEVICE_ELF);
    let device: Awaited<ReturnType<typeof linkDeviceModel>>;
    try {
      device = await linkDeviceModel({ board, codegenDir: dir, objects, output: deviceElf });
    } catch (error) {
      if (error instanceof ToolchainError && error.failure.reason === "region-overflow") {
        const parts = error.failure.overflows.map((o) => {
          const budget = budgets[o.region as keyof typeof budgets];
          return (
            `${REGION_NAMES[o.region] ?? o.region} overflows by ${byteCount(o.overflowBytes)}` +
            (budget === undefined ? "" : ` (budget ${byteCount(budget)})`)
          );
        });
        throw new Error(`the model does not fit the ${board.name}: ${parts.join("; ")}`);
      }
      throw error;
    }
    const footprint = await readFootprint(device.output, device.mapFile);
    const usage = (used: number, budget: number): BudgetUsage => ({
      used_bytes: used,
      budget_bytes: budget,
      margin_bytes: budget - used,
    });
    const report: CompileTargetReport = {
      board: board.name,
      sections: {
        text_bytes: footprint.textBytes,
        rodata_bytes: footprint.rodataBytes,
        data_bytes: footprint.dataBytes,
        bss_bytes: footprint.bssBytes,
      },
      flash: usage(
        footprint.textBytes + footprint.rodataBytes + footprint.dataBytes,
        budgets.FLASH,
      ),
      sram: usage(footprint.dataBytes + footprint.bssBytes, budgets.SRAM),
      layer_kernels: await readLayerKernels(dir),
    };

    // The emulator builds: the same program with the semihosting harness.
    const emulator = (name: string, variant: "plain" | "debug" | "profile") =>
      linkEmulatorModel({
        board,
        codegenDir: dir,
        objects,
        variant,
        output: join(context.scratchDir, "emulator", name),
      });
    const [target, debug, profile] = await Promise.all([
      emulator(TARGET_ELF, "plain"),
      emulator(TARGET_DEBUG_ELF, "debug"),
      emulator(TARGET_PROFILE_ELF, "profile"),
    ]);

    await copyFile(device.output, join(context.outDir, DEVICE_ELF));
    await copyFile(target.output, join(context.outDir, TARGET_ELF));
    await copyFile(debug.output, join(context.outDir, TARGET_DEBUG_ELF));
    await copyFile(profile.output, join(context.outDir, TARGET_PROFILE_ELF));
    await writeFile(
      join(context.outDir, COMPILE_TARGET_REPORT),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    context.progress(
      `${board.name}: flash ${byteCount(report.flash.used_bytes)} of ${byteCount(budgets.FLASH)}, ` +
        `SRAM ${byteCount(report.sram.used_bytes)} of ${byteCount(budgets.SRAM)}`,
      { flashBytes: report.flash.used_bytes, sramBytes: report.sram.used_bytes },
    );
  },
});
