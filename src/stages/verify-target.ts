/**
 * The `verify-target` stage: runs the emulator build from `compile-target`
 * under QEMU (board.emulator: mps2-an500, Cortex-M7) on the first
 * `verification.target_images` test images, normalised and quantized as
 * verify-host does, and requires its output bytes to equal the reference
 * interpreter's. The insn_count plugin counts the instructions of every
 * inference (tf_model_run between the markers, minus the markers' own cost
 * measured on an empty region), which is deterministic: the same build and
 * inputs always give the same counts.
 *
 * On a mismatch it runs compile-target's debug build
 * (tf_model_target_debug.elf) on the first differing image and names the
 * first layer whose output differs from the interpreter's dump, as host
 * verification does. Then it runs the profile build
 * (tf_model_target_profile.elf) on the first image: the instructions of
 * every layer, which the report sets beside the predicted ones.
 *
 * The plugin is built with the host gcc into `tools/` under the workspace's
 * cache directory (or the user's tool cache when that cannot be found).
 *
 * Inputs:  dataset (test split, or validation), quantize/model-int8.*,
 *          compile-target/tf_model_target.elf, tf_model_target_debug.elf,
 *          tf_model_target_profile.elf, compile-target.json (layer kernels,
 *          for the diagnosis and the profile's length);
 *          templates/c/qemu-plugin/insn_count.c (the plugin's source)
 * Outputs: verify-target.json ({ images, instructions_per_inference,
 *          instructions, layer_instructions })
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { qemuPluginSource } from "../toolchain/c-sources.js";
import { HOST_CC, QEMU_SYSTEM_ARM, TARGET_NM } from "../toolchain/tools.js";
import {
  boardFromConfig,
  COMPILE_TARGET_REPORT,
  type CompileTargetReport,
  TARGET_BOARD_KEYS,
  TARGET_DEBUG_ELF,
  TARGET_ELF,
  TARGET_PROFILE_ELF,
} from "./compile-target.js";
import type { StageFactory } from "./index.js";
import { loadVerificationInputs } from "./verification-inputs.js";

export const VERIFY_TARGET_REPORT = "verify-target.json";

/** verify-target.json. */
export interface VerifyTargetReport {
  images: number;
  /** The most instructions any one inference took. */
  instructions_per_inference: number;
  /** Instructions of each inference, in image order. */
  instructions: number[];
  /**
   * Instructions of each layer's kernel call on the first image, in layer
   * order, from the profile build (marker overhead removed; their sum is a
   * little below that image's count, which includes tf_model_run's own
   * copies of the input and output).
   */
  layer_instructions: number[];
}

/** The first differing output byte of the emulator run. */
export interface OutputMismatch {
  image: number;
  byte: number;
  expected: number;
  actual: number;
}

/**
 * Compares the emulator's outputs (back to back) with the interpreter's;
 * undefined when equal, else the first differing image and byte.
 */
export function findOutputMismatch(
  expected: readonly Int8Array[],
  actualBytes: Uint8Array,
): OutputMismatch | undefined {
  let at = 0;
  for (const [image, want] of expected.entries()) {
    const got = new Int8Array(actualBytes.buffer, actualBytes.byteOffset + at, want.length);
    at += want.length;
    const byte = want.findIndex((v, j) => v !== got[j]);
    if (byte >= 0) return { image, byte, expected: want[byte] ?? 0, actual: got[byte] ?? 0 };
  }
  return undefined;
}

/** The stage's error message for a mismatch, with the layer diagnosis appended. */
export function describeOutputMismatch(
  m: OutputMismatch,
  split: string,
  diagnosis: string,
): string {
  return (
    `target output differs from the interpreter on ${split} image ${m.image} at byte ${m.byte} ` +
    `(expected ${m.expected}, got ${m.actual})${diagnosis}`
  );
}

export const createVerifyTargetStage: StageFactory = () => ({
  implementation: import.meta.url,
  configKeys: [
    "verification.target_images",
    "dataset.normalization",
    ...TARGET_BOARD_KEYS.filter((key) => key === "board.name" || key === "board.emulator"),
  ],
  // The instruction-counting plugin is compiled from this source on first
  // use; an edit to it changes what verify-target measures.
  fileInputs: () => [qemuPluginSource],
  tools: [QEMU_SYSTEM_ARM, TARGET_NM, HOST_CC],
  async run(context) {
    const [{ runInt8 }, { runEmulatorModel }, { product }, layerTrace] = await Promise.all([
      import("../interpreter/index.js"),
      import("../toolchain/model-programs.js"),
      import("../model-ir/shapes.js"),
      import("../codegen/layer-trace.js"),
    ]);
    const { model, split, inputs } = await loadVerificationInputs(
      context,
      context.config["verification.target_images"] as number,
    );
    const count = inputs.length;
    if (count < 1) throw new Error("verification.target_images must select at least one image");
    const outputTensor = model.graph.tensors.find((t) => t.name === model.graph.outputs[0]);
    if (outputTensor === undefined) throw new Error("the INT8 model has no output tensor");
    const outputSize = product(outputTensor.shape);

    const compiled = context.upstream.get("compile-target");
    if (compiled === undefined) throw new Error("verify-target needs the compile-target outputs");
    const { layer_kernels: kernels } = JSON.parse(
      await readFile(compiled.path(COMPILE_TARGET_REPORT), "utf8"),
    ) as CompileTargetReport;

    context.progress(`running ${count} ${split} images under QEMU`);
    const board = boardFromConfig(context.config);
    const run = await runEmulatorModel({
      elf: compiled.path(TARGET_ELF),
      board,
      inputs,
      workDir: join(context.scratchDir, "run"),
      countInstructions: true,
      // Built once per workspace (into its cache), not once per run.
      pluginCacheDir: context.toolCacheDir,
    });
    const bytes = run.outputs;
    if (bytes.length !== count * outputSize) {
      throw new Error(
        `the target harness wrote ${bytes.length} output bytes for ${count} images of ${outputSize}`,
      );
    }
    const expected = inputs.map((input) => runInt8(model, input).outputs[0] as Int8Array);
    const mismatch = findOutputMismatch(expected, bytes);
    if (mismatch !== undefined) {
      // The debug build on the failing image alone: its trace holds every layer's output.
      context.progress(`output differs on ${split} image ${mismatch.image}; tracing its layers`);
      const debugWork = join(context.scratchDir, "debug");
      const input = inputs[mismatch.image] as Int8Array;
      await runEmulatorModel({
        elf: compiled.path(TARGET_DEBUG_ELF),
        board,
        inputs: [input],
        workDir: debugWork,
        countInstructions: false,
      });
      const trace = new Uint8Array(await readFile(join(debugWork, "trace.bin")));
      const layer = layerTrace.firstDifferingLayer(model, input, trace, kernels ?? []);
      throw new Error(
        describeOutputMismatch(mismatch, split, layerTrace.describeLayerDifference(layer)),
      );
    }

    // Regions: one per image (the markers' own cost already subtracted).
    const instructions = run.regions;
    if (instructions.length !== count) {
      throw new Error(
        `the instruction counter reported ${instructions.length + 1} regions for ${count} images (expected ${count + 1})`,
      );
    }
    // The profile build: one region per layer, on the first image.
    const profile = await runEmulatorModel({
      elf: compiled.path(TARGET_PROFILE_ELF),
      board,
      inputs: [inputs[0] as Int8Array],
      workDir: join(context.scratchDir, "profile"),
      countInstructions: true,
      pluginCacheDir: context.toolCacheDir,
    });
    if (profile.regions.length !== kernels.length) {
      throw new Error(
        `the profile build reported ${profile.regions.length} layer regions for ${kernels.length} layers`,
      );
    }
    if (findOutputMismatch([expected[0] as Int8Array], profile.outputs) !== undefined)
      throw new Error("the profile build's output differs from the plain build's");
    const report: VerifyTargetReport = {
      images: count,
      instructions_per_inference: Math.max(...instructions),
      instructions,
      layer_instructions: profile.regions,
    };
    await writeFile(
      join(context.outDir, VERIFY_TARGET_REPORT),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    context.progress(
      `${count} ${split} images: QEMU output equals the interpreter byte for byte; ` +
        `${report.instructions_per_inference.toLocaleString("en-US")} instructions per inference`,
      { instructionsPerInference: report.instructions_per_inference },
    );
  },
});
