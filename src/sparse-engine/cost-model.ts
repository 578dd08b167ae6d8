/**
 * The cost model: Cortex-M7 instructions of every kernel call of a
 * generated model, as a linear function of counts of the work the call does
 * (kernel-work.ts for the matrix kernels, src/resources/layer-work.ts for
 * every kernel):
 *
 *   instructions ≈ Σ coefficient[kernel][count] · count
 *
 * Codegen uses it to choose the dense or the sparse kernel of a pruned conv
 * or linear layer; the resource evaluator (src/resources) adds it up over a
 * model. The coefficients are fitted (non-negative least squares on the
 * relative error) to instruction counts of generated models' layers, each
 * its own region in the profile build under QEMU, by
 * `npm run bench -- calibrate-resources`, which rewrites
 * templates/c/cost-model.json. They are measured, not derived from MAC
 * counts: per-output requantization, per-row and per-block bookkeeping and
 * im2col copies are what limit the speed of small and sparse layers.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { templatesDir } from "../project-paths.js";
import { KERNEL_VARIANTS, type KernelVariant } from "./kernel-variants.js";
import { type KernelWork, type MatrixLayer, matrixWork } from "./kernel-work.js";

export const COST_MODEL_FORMAT = "tinyformer-cost-model-3";

/** Coefficients of one kernel: instructions per unit of each count of its work. */
export type KernelCost = Record<string, number>;

/** How a table was measured: what an estimate made with it is valid for. */
export interface MeasuredWith {
  /** Board profile name. */
  board: string;
  /** The compiler flags the kernels were built with (the board's). */
  cflags: string[];
  /** `arm-none-eabi-gcc --version`, first line. */
  compiler: string;
  /** What regenerates the table. */
  command: string;
}

export interface CostModelTable {
  format: typeof COST_MODEL_FORMAT;
  measuredWith: MeasuredWith & {
    /** Calibration models and the layer measurements the fit used. */
    models: number;
    layers: number;
  };
  kernels: Record<
    KernelVariant,
    { coefficients: KernelCost; samples: number; maxRelativeError: number }
  >;
  /**
   * tf_model_run's own instructions outside the layers' calls: copying the
   * input in and the output out, and a status check per layer.
   */
  program: { coefficients: KernelCost };
}

/** Calibrated for the kernels in templates/c, so it lives beside them. */
export const COST_MODEL_FILE = join(templatesDir, "c", "cost-model.json");

const RECALIBRATE = "regenerate it with npm run bench -- calibrate-resources";

/** The committed calibration (templates/c/cost-model.json). */
export function loadCostModel(file: string = COST_MODEL_FILE): CostModelTable {
  const table = JSON.parse(readFileSync(file, "utf8")) as CostModelTable;
  if (table.format !== COST_MODEL_FORMAT)
    throw new Error(
      `${file}: not a cost model table of format ${COST_MODEL_FORMAT} (${RECALIBRATE})`,
    );
  for (const kernel of KERNEL_VARIANTS) {
    if (table.kernels?.[kernel]?.coefficients === undefined)
      throw new Error(`${file}: no coefficients for tf_${kernel} (${RECALIBRATE})`);
  }
  if (table.program?.coefficients === undefined)
    throw new Error(`${file}: no coefficients for tf_model_run itself (${RECALIBRATE})`);
  return table;
}

/** Σ coefficient · count; a count the coefficients do not know is an error, not a zero. */
export function applyCoefficients(
  coefficients: KernelCost,
  work: KernelWork,
  what: string,
): number {
  let total = 0;
  for (const [name, count] of Object.entries(work)) {
    if (count === 0) continue;
    const c = coefficients[name];
    if (c === undefined)
      throw new Error(`no calibrated coefficient for ${name} of ${what} (${RECALIBRATE})`);
    total += c * count;
  }
  return total;
}

/** Instructions of one call of `tf_<kernel>` doing `work`. */
export function estimateInstructions(
  table: CostModelTable,
  kernel: KernelVariant,
  work: KernelWork,
): number {
  return applyCoefficients(table.kernels[kernel].coefficients, work, `tf_${kernel}`);
}

/** A pruned or dense conv / linear layer, as the dense-or-sparse choice sees it. */
export interface WeightedLayer extends MatrixLayer {
  family: "conv1x1" | "convKxK" | "linear";
}

/** The dense and the sparse kernel of each weighted family. */
export const WEIGHTED_VARIANTS: Record<
  WeightedLayer["family"],
  { dense: KernelVariant; sparse: KernelVariant }
> = {
  conv1x1: { dense: "conv_1x1_s8", sparse: "conv_1x1_sparse_s8" },
  convKxK: { dense: "conv_kxk_s8", sparse: "conv_kxk_sparse_s8" },
  linear: { dense: "linear_s8", sparse: "linear_sparse_s8" },
};

export interface KernelChoice {
  kernel: KernelVariant;
  denseInstructions: number;
  /** Undefined when the layer has no sparse encoding. */
  sparseInstructions?: number;
}

/** The cheaper of the dense and the sparse kernel for a layer (dense on a tie). */
export function chooseWeightedKernel(table: CostModelTable, layer: WeightedLayer): KernelChoice {
  const variants = WEIGHTED_VARIANTS[layer.family];
  const denseInstructions = estimateInstructions(table, variants.dense, matrixWork(layer, false));
  if (layer.sparse === undefined) return { kernel: variants.dense, denseInstructions };
  const sparseInstructions = estimateInstructions(table, variants.sparse, matrixWork(layer, true));
  return {
    kernel: sparseInstructions < denseInstructions ? variants.sparse : variants.dense,
    denseInstructions,
    sparseInstructions,
  };
}
