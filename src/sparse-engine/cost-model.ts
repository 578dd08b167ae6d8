/**
 * Cost model for choosing dense or sparse kernels per layer, in Cortex-M7
 * instructions. Each weighted kernel's cost is linear in a few counts of the
 * work it does:
 *
 *   instructions ≈ perOutput·outputs + perMac·executedMacs + perBlock·blockVisits
 *                + perRow·rowVisits + perInput·inputElements + perTap·inputTaps + fixed
 *
 * where `executedMacs` are the MACs the kernel performs (all of them for a
 * dense kernel, only the stored blocks' for a sparse one), `blockVisits` the
 * stored blocks walked (times the output pixels), `rowVisits` the weight rows
 * with at least one stored block (times the output pixels: a sparse kernel
 * never visits a row whose blocks were all pruned, whose output is a
 * constant), and `inputElements` the
 * input values gathered once per output pixel (im2col, widening to 16 bits),
 * and `inputTaps` the kernel positions visited per pixel (each a separate
 * copy, with its own bounds check). The coefficients are
 * fitted to instruction counts measured under QEMU by
 * `npm run bench -- calibrate-cost-model`, which rewrites
 * templates/c/cost-model.json;
 * they are not derived from MAC counts alone, since per-output
 * requantization and per-block bookkeeping are what limit sparse speedups.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { templatesDir } from "../project-paths.js";

export const WEIGHTED_KERNELS = [
  "conv1x1",
  "conv1x1Sparse",
  "convKxK",
  "convKxKSparse",
  "linear",
  "linearSparse",
] as const;

export type WeightedKernel = (typeof WEIGHTED_KERNELS)[number];

export interface KernelCost {
  perOutput: number;
  perMac: number;
  perBlock: number;
  perRow: number;
  perInput: number;
  perTap: number;
  fixed: number;
}

export interface CostModelTable {
  format: "tinyformer-cost-model-2";
  /** How the table was measured, for whoever regenerates it. */
  measuredWith: { board: string; command: string; cases: number; maxRelativeError: number };
  kernels: Record<WeightedKernel, KernelCost>;
}

/** What one layer asks of a kernel. */
export interface LayerWork {
  /** Output elements (pixels × output channels, or rows × output features). */
  outputs: number;
  /** MACs the kernel executes. */
  executedMacs: number;
  /** Stored blocks walked, over all output pixels (0 for dense kernels). */
  blockVisits: number;
  /** Stored rows (rows with a stored block) walked, over all output pixels (0 for dense kernels). */
  rowVisits: number;
  /** Output pixels × weights per output channel: the input gathered per pixel. */
  inputElements: number;
  /** Output pixels × kernel positions (kh·kw; 1 for 1x1 and linear). */
  inputTaps: number;
}

/** Calibrated for the kernels in templates/c, so it lives beside them. */
export const COST_MODEL_FILE = join(templatesDir, "c", "cost-model.json");

/** The committed calibration (templates/c/cost-model.json). */
export function loadCostModel(file: string = COST_MODEL_FILE): CostModelTable {
  const table = JSON.parse(readFileSync(file, "utf8")) as CostModelTable;
  if (table.format !== "tinyformer-cost-model-2")
    throw new Error(
      `${file}: not a cost model table of this version (regenerate it with npm run bench -- calibrate-cost-model)`,
    );
  for (const kernel of WEIGHTED_KERNELS) {
    if (table.kernels[kernel] === undefined)
      throw new Error(`${file}: no coefficients for ${kernel}`);
  }
  return table;
}

export function estimateInstructions(
  table: CostModelTable,
  kernel: WeightedKernel,
  work: LayerWork,
): number {
  const c = table.kernels[kernel];
  return (
    c.perOutput * work.outputs +
    c.perMac * work.executedMacs +
    c.perBlock * work.blockVisits +
    c.perRow * work.rowVisits +
    c.perInput * work.inputElements +
    c.perTap * work.inputTaps +
    c.fixed
  );
}

/** A pruned weight's shape and storage, as the code generator sees it. */
export interface WeightedLayer {
  family: "conv1x1" | "convKxK" | "linear";
  /** Output pixels (conv) or rows (linear). */
  pixels: number;
  outChannels: number;
  /** Weights per output channel. */
  rowLength: number;
  /** Kernel positions (kh·kw; 1 for 1x1 and linear). */
  taps: number;
  /**
   * Stored (non-zero) blocks over all rows, their size, and the rows with at
   * least one; undefined for a dense weight.
   */
  sparse?: { storedBlocks: number; blockSize: number; storedRows: number };
}

export interface KernelChoice {
  kernel: WeightedKernel;
  denseInstructions: number;
  /** Undefined when the layer has no sparse encoding. */
  sparseInstructions?: number;
}

/** The cheaper of the dense and the sparse kernel for a layer. */
export function chooseWeightedKernel(table: CostModelTable, layer: WeightedLayer): KernelChoice {
  const outputs = layer.pixels * layer.outChannels;
  const dense = layer.family;
  const inputElements = layer.pixels * layer.rowLength;
  const inputTaps = layer.pixels * layer.taps;
  const denseInstructions = estimateInstructions(table, dense, {
    outputs,
    executedMacs: outputs * layer.rowLength,
    blockVisits: 0,
    rowVisits: 0,
    inputElements,
    inputTaps,
  });
  if (layer.sparse === undefined) return { kernel: dense, denseInstructions };
  const sparseKernel = `${layer.family}Sparse` as WeightedKernel;
  const sparseInstructions = estimateInstructions(table, sparseKernel, {
    outputs,
    executedMacs: layer.pixels * layer.sparse.storedBlocks * layer.sparse.blockSize,
    blockVisits: layer.pixels * layer.sparse.storedBlocks,
    rowVisits: layer.pixels * layer.sparse.storedRows,
    inputElements,
    inputTaps,
  });
  return {
    kernel: sparseInstructions < denseInstructions ? sparseKernel : dense,
    denseInstructions,
    sparseInstructions,
  };
}

/** Least-squares fit (of relative error) of the coefficients to measured (work, instructions) pairs. */
export function fitKernelCost(
  samples: readonly { work: LayerWork; instructions: number }[],
): KernelCost {
  // Normal equations over the features that vary; a constant column
  // (blockVisits of a dense kernel) is left out and its coefficient is 0.
  const features = (w: LayerWork) => [
    w.outputs,
    w.executedMacs,
    w.blockVisits,
    w.rowVisits,
    w.inputElements,
    w.inputTaps,
    1,
  ];
  // A feature that is zero everywhere (blockVisits of a dense kernel) gets coefficient 0.
  const used = [0, 1, 2, 3, 4, 5, 6].filter((j) => samples.some((s) => features(s.work)[j] !== 0));
  const n = used.length;
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (const sample of samples) {
    // Each sample is scaled by 1/instructions: the fit minimises relative
    // error, so small layers count as much as large ones.
    const scale = 1 / sample.instructions;
    const f = features(sample.work).map((value) => value * scale);
    for (let r = 0; r < n; r++) {
      const fr = f[used[r] as number] as number;
      for (let c = 0; c < n; c++)
        (a[r] as number[])[c] =
          ((a[r] as number[])[c] as number) + fr * (f[used[c] as number] as number);
      (a[r] as number[])[n] = ((a[r] as number[])[n] as number) + fr * sample.instructions * scale;
    }
  }
  const solution = solve(a);
  const coefficients = [0, 0, 0, 0, 0, 0, 0];
  used.forEach((j, i) => {
    coefficients[j] = solution[i] as number;
  });
  const [perOutput = 0, perMac = 0, perBlock = 0, perRow = 0, perInput = 0, perTap = 0, fixed = 0] =
    coefficients;
  return { perOutput, perMac, perBlock, perRow, perInput, perTap, fixed };
}

/** Gaussian elimination with partial pivoting on an augmented n×(n+1) matrix. */
function solve(augmented: number[][]): number[] {
  const n = augmented.length;
  // Singular relative to the matrix's own scale (samples are scaled by 1/instructions).
  const scale = Math.max(...augmented.flatMap((row) => row.slice(0, n).map(Math.abs)));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (
        Math.abs((augmented[r] as number[])[col] as number) >
        Math.abs((augmented[pivot] as number[])[col] as number)
      )
        pivot = r;
    }
    [augmented[col], augmented[pivot]] = [augmented[pivot] as number[], augmented[col] as number[]];
    const row = augmented[col] as number[];
    const p = row[col] as number;
    if (Math.abs(p) <= 1e-12 * scale)
      throw new Error("cost model fit: the measurements do not determine every coefficient");
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const other = augmented[r] as number[];
      const factor = (other[col] as number) / p;
      for (let c = col; c <= n; c++) other[c] = (other[c] as number) - factor * (row[c] as number);
    }
  }
  return augmented.map((row, i) => (row[n] as number) / (row[i] as number));
}
