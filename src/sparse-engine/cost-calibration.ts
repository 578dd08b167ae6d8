/**
 * Measures the weighted kernels under QEMU on a grid of layers and fits the
 * cost model's coefficients (see cost-model.ts). Used by the calibration
 * benchmark, which writes the committed table, and by the test that checks
 * the committed table still predicts fresh measurements.
 */
import type { BoardProfile } from "../config/types.js";
import { storedRowCount } from "../model-ir/sparse-encoding.js";
import type { BlockSize } from "../model-ir/types.js";
import {
  fitKernelCost,
  type KernelCost,
  type LayerWork,
  type WeightedKernel,
} from "./cost-model.js";
import { encodeCase, type KernelCase } from "./kernel-cases.js";
import { buildKernelRunner, runKernelCases } from "./kernel-runner.js";
import { convCase, createRng, linearCase, type Rng } from "./reference-cases.js";

export interface LayerShape {
  family: "conv1x1" | "convKxK" | "linear";
  /** conv: input channels, output channels, square side, kernel; linear: in, out, rows. */
  c: number;
  o: number;
  side: number;
  k?: number;
  rows?: number;
}

export interface Measurement {
  kernel: WeightedKernel;
  work: LayerWork;
  instructions: number;
}

const SPARSITIES = [0.5, 0.75, 0.9];
const BLOCK_SIZES: readonly BlockSize[] = [1, 4, 8, 16];

function kernelCaseFor(rng: Rng, shape: LayerShape, blockSize: BlockSize | 0, sparsity: number) {
  if (shape.family === "linear") {
    return linearCase(
      rng,
      {
        rows: shape.rows ?? 16,
        inFeatures: shape.c,
        outFeatures: shape.o,
        blockSize,
        sparsity,
        bias: true,
      },
      { exactSparsity: true, typicalQuant: true },
    );
  }
  const k = shape.family === "conv1x1" ? 1 : (shape.k ?? 3);
  return convCase(
    rng,
    {
      variant: shape.family === "conv1x1" ? "1x1" : "kxk",
      batch: 1,
      h: shape.side,
      w: shape.side,
      c: shape.c,
      o: shape.o,
      k: [k, k],
      strides: [1, 1],
      dilations: [1, 1],
      padding: "same",
      blockSize,
      sparsity,
      bias: true,
    },
    { exactSparsity: true, typicalQuant: true },
  );
}

function workOf(kernelCase: KernelCase): { kernel: WeightedKernel; work: LayerWork } {
  if (kernelCase.kind !== "conv" && kernelCase.kind !== "linear")
    throw new Error(`${kernelCase.kind} is not weighted`);
  const pixels =
    kernelCase.kind === "linear"
      ? kernelCase.rows
      : kernelCase.inputShape[0] * kernelCase.outShape[0] * kernelCase.outShape[1];
  const outChannels =
    kernelCase.kind === "linear" ? kernelCase.outFeatures : kernelCase.outChannels;
  const family =
    kernelCase.kind === "linear" ? "linear" : kernelCase.variant === "1x1" ? "conv1x1" : "convKxK";
  const outputs = pixels * outChannels;
  const weight = kernelCase.weight;
  const weights =
    "dense" in weight ? weight.dense.length : weight.sparse.rows * weight.sparse.rowLength;
  const inputElements = pixels * (weights / outChannels);
  const inputTaps =
    pixels * (kernelCase.kind === "linear" ? 1 : kernelCase.kernel[0] * kernelCase.kernel[1]);
  if ("dense" in weight) {
    return {
      kernel: family,
      work: {
        outputs,
        executedMacs: pixels * weight.dense.length,
        blockVisits: 0,
        rowVisits: 0,
        inputElements,
        inputTaps,
      },
    };
  }
  return {
    kernel: `${family}Sparse` as WeightedKernel,
    work: {
      outputs,
      executedMacs: pixels * weight.sparse.values.length,
      blockVisits: pixels * (weight.sparse.values.length / weight.sparse.blockSize),
      rowVisits: pixels * storedRowCount(weight.sparse),
      inputElements,
      inputTaps,
    },
  };
}

/** Dense and every sparse variant of each shape, measured under QEMU (outputs checked against the reference). */
export async function measureKernels(
  board: BoardProfile,
  shapes: readonly LayerShape[],
  workDir: string,
  seed = 7,
): Promise<Measurement[]> {
  const rng = createRng(seed);
  const cases: { kernelCase: KernelCase; expected: Int8Array }[] = [];
  for (const shape of shapes) {
    cases.push(kernelCaseFor(rng, shape, 0, 0));
    for (const blockSize of BLOCK_SIZES) {
      if ((shape.family === "linear" ? shape.c : shape.c * (shape.k ?? 1) ** 2) % blockSize !== 0)
        continue;
      for (const sparsity of SPARSITIES) cases.push(kernelCaseFor(rng, shape, blockSize, sparsity));
    }
  }
  const runner = await buildKernelRunner({ kind: "qemu", board }, workDir);
  const { results, instructions } = await runKernelCases(
    runner,
    cases.map((c) => encodeCase(c.kernelCase)),
    { timeoutMs: 600_000 },
  );
  return cases.map((c, i) => {
    const result = results[i];
    if (
      result === undefined ||
      result.status !== 0 ||
      !Buffer.from(result.output.buffer).equals(Buffer.from(c.expected.buffer))
    ) {
      throw new Error(`calibration case ${i}: kernel output differs from the reference`);
    }
    return { ...workOf(c.kernelCase), instructions: instructions?.[i] ?? Number.NaN };
  });
}

/** One fit per kernel. */
export function fitCostModel(
  measurements: readonly Measurement[],
): Record<WeightedKernel, KernelCost> {
  const byKernel = new Map<WeightedKernel, Measurement[]>();
  for (const m of measurements) byKernel.set(m.kernel, [...(byKernel.get(m.kernel) ?? []), m]);
  const fitted = {} as Record<WeightedKernel, KernelCost>;
  for (const [kernel, samples] of byKernel) fitted[kernel] = fitKernelCost(samples);
  return fitted;
}

/** The calibration grid: small to medium layers of each family. */
export const CALIBRATION_SHAPES: readonly LayerShape[] = [
  { family: "conv1x1", c: 16, o: 32, side: 8 },
  { family: "conv1x1", c: 32, o: 64, side: 8 },
  { family: "conv1x1", c: 64, o: 128, side: 16 },
  { family: "conv1x1", c: 48, o: 24, side: 16 },
  { family: "conv1x1", c: 128, o: 32, side: 4 },
  { family: "conv1x1", c: 16, o: 96, side: 12 },
  { family: "convKxK", c: 8, o: 16, side: 8, k: 3 },
  { family: "convKxK", c: 16, o: 16, side: 16, k: 3 },
  { family: "convKxK", c: 32, o: 32, side: 8, k: 3 },
  { family: "convKxK", c: 16, o: 48, side: 4, k: 3 },
  { family: "convKxK", c: 48, o: 8, side: 8, k: 3 },
  { family: "convKxK", c: 8, o: 8, side: 16, k: 5 },
  { family: "linear", c: 64, o: 64, side: 1, rows: 16 },
  { family: "linear", c: 128, o: 256, side: 1, rows: 64 },
  { family: "linear", c: 96, o: 48, side: 1, rows: 32 },
  { family: "linear", c: 32, o: 128, side: 1, rows: 8 },
  { family: "linear", c: 256, o: 16, side: 1, rows: 48 },
  { family: "linear", c: 48, o: 192, side: 1, rows: 24 },
];
