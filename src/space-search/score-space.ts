/**
 * The training-free score of a candidate search space (TinyNAS's rule, on
 * sparse models): sample sub-networks with per-layer sparsity and block size
 * the way the search's random fill does, predict each one's flash, SRAM and
 * instructions with the resource evaluator the search and codegen use, and
 * score the space by the mean compute (executed multiply-accumulates) of the
 * samples that fit every budget. A space whose feasible share is below the
 * section's `min_feasible_fraction` is not eligible: SparseNAS would spend
 * most of its candidates over budget there.
 *
 * The supernet is freshly initialised from the seed: pruning keeps exactly
 * round(target x blocks) blocks of each layer whatever the weights, so the
 * predicted sizes are those a trained supernet would give, up to which rows
 * empty (the same argument as the search's configuration check).
 */
import { createSupernet } from "../blocks/network.js";
import type { SearchSpaceConfig } from "../config/types.js";
import { createSeededRandom, deriveSeed } from "../datasets/seeded-random.js";
import type { SparsityConfig } from "../pruning/plan.js";
import type { EstimateBoard } from "../resources/index.js";
import { estimateCandidate } from "../search/assess-candidate.js";
import { findBudgetViolations, type ResourceBudgets } from "../search/budgets.js";
import type { Candidate } from "../search/candidate.js";
import type { ResourcePrediction } from "../search/evolution.js";
import { createOperatorSpace } from "../search/operator-space.js";
import { sampleCandidate } from "../search/operators.js";
import { summarizeEstimate } from "../search/resources.js";

export interface SpaceScore {
  readonly samples: number;
  /** Samples that fit every budget. */
  readonly feasible: number;
  /** Mean executed MACs of the feasible samples (0 when none fit). */
  readonly meanFeasibleMacs: number;
  /** Largest executed MACs of a feasible sample (0 when none fit). */
  readonly maxFeasibleMacs: number;
  readonly eligible: boolean;
  /** `meanFeasibleMacs` for an eligible space, else 0. */
  readonly score: number;
  /** The sample with the smallest predicted flash: what the space can do at least. */
  readonly smallest: ResourcePrediction;
}

export interface ScoreOptions {
  readonly sparsity: SparsityConfig;
  readonly budgets: ResourceBudgets;
  readonly board?: EstimateBoard;
  readonly classes: number;
  readonly inputResolution: number;
  readonly seed: number;
  readonly samples: number;
  readonly minFeasibleFraction: number;
}

/** Multiply-accumulates the candidate's kernels execute: each pruned layer's dense MACs times the share it keeps. */
export function executedMacs(
  layers: readonly { readonly op: string; readonly macs: number }[],
  candidate: Candidate,
): number {
  const kept = new Map(
    candidate.layers.map((layer) => [layer.name, layer.blockSize === null ? 1 : 1 - layer.target]),
  );
  return layers.reduce((sum, layer) => sum + layer.macs * (kept.get(layer.op) ?? 1), 0);
}

export function scoreSpace(space: SearchSpaceConfig, options: ScoreOptions): SpaceScore {
  const supernet = createSupernet(space, {
    classes: options.classes,
    inputResolution: options.inputResolution,
    seed: options.seed,
  });
  try {
    const operators = createOperatorSpace(supernet, options.sparsity);
    const random = createSeededRandom(deriveSeed(options.seed, "supernas/samples"));
    // A grey image: the quantizer needs an input, the sizes do not depend on it.
    const context = {
      supernet,
      budgets: options.budgets,
      ...(options.board === undefined ? {} : { board: options.board }),
      calibrationInputs: [new Float32Array(options.inputResolution * options.inputResolution * 3)],
    };
    const feasibleMacs: number[] = [];
    let smallest: ResourcePrediction | undefined;
    for (let i = 0; i < options.samples; i++) {
      const candidate = sampleCandidate(operators, random);
      const estimate = estimateCandidate(context, candidate);
      const predicted = summarizeEstimate(estimate);
      if (smallest === undefined || predicted.flashBytes < smallest.flashBytes)
        smallest = predicted;
      if (findBudgetViolations(predicted, options.budgets).length === 0)
        feasibleMacs.push(executedMacs(estimate.layers, candidate));
    }
    const mean =
      feasibleMacs.length === 0 ? 0 : feasibleMacs.reduce((a, b) => a + b, 0) / feasibleMacs.length;
    const eligible =
      feasibleMacs.length > 0 &&
      feasibleMacs.length >= options.minFeasibleFraction * options.samples;
    return {
      samples: options.samples,
      feasible: feasibleMacs.length,
      meanFeasibleMacs: Math.round(mean),
      maxFeasibleMacs: Math.max(0, ...feasibleMacs),
      eligible,
      score: eligible ? Math.round(mean) : 0,
      smallest: smallest as ResourcePrediction,
    };
  } finally {
    supernet.dispose();
  }
}
