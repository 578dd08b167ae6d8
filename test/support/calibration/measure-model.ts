/**
 * Measures what a model costs on the board for real, the way the
 * compile-target and verify-target stages measure it: codegen writes the
 * program, the device link gives flash and SRAM, the emulator build counts
 * the instructions of one inference under QEMU and the profile build those
 * of every layer. The calibration benchmark fits the resource tables to
 * these measurements, and the accuracy tests compare estimates with them.
 */
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { type GeneratedProgram, generateModelCode } from "../../../src/codegen/generate.js";
import type { PlanModelOptions } from "../../../src/codegen/plan-model.js";
import { writeGeneratedFiles } from "../../../src/codegen/write.js";
import type { BoardProfile } from "../../../src/config/types.js";
import type { Model } from "../../../src/model-ir/types.js";
import { quantizeInput } from "../../../src/quantize/quantize-model.js";
import { listKernelSources } from "../../../src/toolchain/c-sources.js";
import { compileTargetObjects } from "../../../src/toolchain/compile-target.js";
import { readFootprint, type SectionFootprint } from "../../../src/toolchain/footprint.js";
import {
  linkDeviceModel,
  linkEmulatorModel,
  listModelKernels,
  runEmulatorModel,
} from "../../../src/toolchain/model-programs.js";
import { normalisedRandomImages } from "./sample-candidates.js";

/** What one generated model measured. */
export interface ModelMeasurement {
  program: GeneratedProgram;
  /** The codegen output directory (tf_model.c, include/, kernels/). */
  codegenDir: string;
  /** The device link's sections (compile-target.json's). */
  footprint: SectionFootprint;
  /** The device link's map file. */
  deviceMap: string;
  /** text + rodata + data, as compile-target reports flash. */
  flashBytes: number;
  /** data + bss, as compile-target reports SRAM. */
  sramBytes: number;
  /** One inference, as verify-target counts it (marker overhead removed). */
  instructions: number;
  /** Each layer's kernel call in the profile build, same input. */
  layerInstructions: number[];
}

/**
 * Every kernel of the library compiled once with the board's flags, by file
 * name: each model links the ones its codegen output lists, as compile-target
 * links the ones it compiled.
 */
export async function compileKernelLibrary(
  board: BoardProfile,
  outDir: string,
): Promise<Map<string, string>> {
  const sources = listKernelSources();
  const objects = await compileTargetObjects({ board, sources, runtime: "bare", outDir });
  return new Map(sources.map((source, i) => [basename(source), objects[i] ?? ""]));
}

/** An input like the ones verify-target runs: a random image, normalised and quantized. */
export function sampleInput(model: Model, seed: number): Int8Array {
  const input = model.graph.tensors.find((t) => t.name === model.graph.inputs[0]);
  if (input === undefined) throw new Error(`${model.graph.name} has no input tensor`);
  const [image = new Float32Array(0)] = normalisedRandomImages(1, input.shape, seed);
  return quantizeInput(model, image);
}

export interface MeasureOptions extends PlanModelOptions {
  board: BoardProfile;
  /** compileKernelLibrary's objects. */
  kernels: ReadonlyMap<string, string>;
  /** Where the program and its builds go (created). */
  workDir: string;
  /** Where the instruction-count plugin is built. */
  pluginCacheDir?: string;
  /** @default 1 */
  inputSeed?: number;
}

/** Generates, links and runs `model`: its real flash, SRAM and instructions. */
export async function measureModel(
  model: Model,
  options: MeasureOptions,
): Promise<ModelMeasurement> {
  const { board, workDir } = options;
  const program = await generateModelCode(model, {
    ...options,
    target: { core: board.core, dsp: board.dsp },
  });
  const codegenDir = join(workDir, "codegen");
  await writeGeneratedFiles(codegenDir, program.files);
  const objects = (await listModelKernels(codegenDir)).map((source) => {
    const object = options.kernels.get(basename(source));
    if (object === undefined) throw new Error(`no compiled kernel for ${source}`);
    return object;
  });
  const link = { board, codegenDir, objects };
  const [device, plain, profile] = await Promise.all([
    linkDeviceModel({ ...link, output: join(workDir, "device", "tf_model_device.elf") }),
    linkEmulatorModel({ ...link, variant: "plain", output: join(workDir, "plain", "plain.elf") }),
    linkEmulatorModel({
      ...link,
      variant: "profile",
      output: join(workDir, "profile", "profile.elf"),
    }),
  ]);
  const footprint = await readFootprint(device.output, device.mapFile);
  const inputs = [sampleInput(model, options.inputSeed ?? 1)];
  const run = (elf: string, dir: string) =>
    runEmulatorModel({
      elf,
      board,
      inputs,
      workDir: join(workDir, dir),
      countInstructions: true,
      pluginCacheDir: options.pluginCacheDir,
    });
  const [whole, layers] = await Promise.all([
    run(plain.output, "run-plain"),
    run(profile.output, "run-profile"),
  ]);
  if (!Buffer.from(whole.outputs).equals(Buffer.from(layers.outputs)))
    throw new Error(
      `${model.graph.name}: the profile build's output differs from the plain build's`,
    );
  if (whole.regions.length !== 1 || layers.regions.length !== program.layers.length) {
    throw new Error(
      `${model.graph.name}: ${whole.regions.length} inference and ${layers.regions.length} layer regions for ${program.layers.length} layers`,
    );
  }
  return {
    program,
    codegenDir,
    footprint,
    deviceMap: await readFile(device.mapFile, "utf8"),
    flashBytes: footprint.textBytes + footprint.rodataBytes + footprint.dataBytes,
    sramBytes: footprint.dataBytes + footprint.bssBytes,
    instructions: whole.regions[0] as number,
    layerInstructions: layers.regions,
  };
}
