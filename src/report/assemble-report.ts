/**
 * Builds report.json from what the stages wrote: accuracy from quantize,
 * sparsity from finetune, kernels and arena from codegen, memory from the
 * device link (compile-target), instructions from the emulator
 * (verify-target), and each prediction (codegen's estimate, optionally the
 * search's) beside those measured figures. Pure: parsed inputs in, report out.
 */
import type { CodegenSummary } from "../codegen/generate.js";
import type { PrunedLayerSummary } from "../pruning/pruner.js";
import type { ResourcePrediction } from "./predictions.js";
import type { BuildReport, LayerReport, PredictionReport, RegionUse } from "./types.js";

/** compile-target.json. */
export interface TargetLinkSummary {
  board: string;
  sections: BuildReport["memory"]["sections"];
  flash: RegionUse;
  sram: RegionUse;
}

/** verify-target.json. */
export interface TargetRunSummary {
  images: number;
  instructions_per_inference: number;
  /** Each layer's instructions in the profile build (first image). */
  layer_instructions?: number[];
}

export interface ReportInputs {
  recipe: string;
  board: { name: string; clock_hz: number };
  accuracy: BuildReport["accuracy"];
  prunedLayers: readonly PrunedLayerSummary[];
  codegen: Pick<CodegenSummary, "totals" | "layers"> & {
    arena: Omit<CodegenSummary["arena"], "buffers">;
  };
  /** Output shape of each op, by op name, from the INT8 IR. */
  outputShapes: ReadonlyMap<string, number[]>;
  link: TargetLinkSummary;
  run: TargetRunSummary;
  /** Codegen's prediction first, then any other source's. */
  predictions: readonly ResourcePrediction[];
  /** The search space's origin when supernas chose it. */
  space?: BuildReport["space"];
}

/** A prediction beside the measured figures, with its relative errors. */
function comparePrediction(
  p: ResourcePrediction,
  measured: { flash: number; sram: number; instructions: number },
): PredictionReport {
  const error = (predicted: number, actual: number) =>
    actual === 0 ? 0 : (predicted - actual) / actual;
  return {
    source: p.source,
    flash_bytes: p.flashBytes,
    sram_bytes: p.sramBytes,
    instructions_per_inference: p.instructions,
    flash_error: error(p.flashBytes, measured.flash),
    sram_error: error(p.sramBytes, measured.sram),
    instructions_error: error(p.instructions, measured.instructions),
    tables_match_board: p.tablesMatchBoard,
  };
}

export function assembleReport(inputs: ReportInputs): BuildReport {
  const pruned = new Map(inputs.prunedLayers.map((layer) => [layer.name, layer]));
  const zeroWeights = (layer: PrunedLayerSummary) => layer.prunedBlocks * (layer.blockSize ?? 0);
  const parameters = inputs.prunedLayers.reduce((sum, layer) => sum + layer.weights, 0);
  const nonzero = inputs.prunedLayers.reduce(
    (sum, layer) => sum + layer.weights - zeroWeights(layer),
    0,
  );
  const predicted = inputs.predictions[0]?.layerInstructions;
  const layers: LayerReport[] = inputs.codegen.layers.map((layer, i) => {
    const pruning = pruned.get(layer.op);
    const measuredInstructions = inputs.run.layer_instructions?.[i];
    const predictedInstructions = predicted?.get(layer.op);
    const sparsity =
      pruning === undefined || pruning.weights === 0 ? 0 : zeroWeights(pruning) / pruning.weights;
    return {
      name: layer.op,
      kind: layer.type,
      output_shape: inputs.outputShapes.get(layer.op) ?? [],
      macs: layer.macs,
      sparsity,
      ...(pruning?.blockSize ? { block_size: pruning.blockSize as 1 | 4 | 8 | 16 } : {}),
      kernel: layer.kernel,
      weight_bytes: layer.weightBytes,
      ...(measuredInstructions === undefined ? {} : { instructions: measuredInstructions }),
      ...(predictedInstructions === undefined
        ? {}
        : { predicted_instructions: predictedInstructions }),
    };
  });
  // A sparse kernel skips pruned blocks; a dense one multiplies them too.
  const executedMacs = layers.reduce(
    (sum, layer) =>
      sum +
      (layer.kernel.includes("sparse")
        ? Math.round(layer.macs * (1 - layer.sparsity))
        : layer.macs),
    0,
  );
  const instructions = inputs.run.instructions_per_inference;
  const measured = {
    flash: inputs.link.flash.used_bytes,
    sram: inputs.link.sram.used_bytes,
    instructions,
  };
  return {
    format: "tinyformer-report-2",
    recipe: inputs.recipe,
    board: inputs.board.name,
    accuracy: inputs.accuracy,
    model: {
      parameters,
      nonzero_parameters: nonzero,
      macs: inputs.codegen.totals.macs,
      executed_macs: executedMacs,
    },
    memory: {
      flash: inputs.link.flash,
      sram: inputs.link.sram,
      sections: inputs.link.sections,
      arena_bytes: inputs.codegen.arena.bytes,
      arena_lower_bound_bytes: inputs.codegen.arena.lowerBoundBytes,
    },
    performance: {
      instructions_per_inference: instructions,
      clock_hz: inputs.board.clock_hz,
      estimated_latency_ms: (instructions / inputs.board.clock_hz) * 1000,
    },
    predictions: inputs.predictions.map((p) => comparePrediction(p, measured)),
    ...(inputs.space === undefined ? {} : { space: inputs.space }),
    layers,
  };
}
