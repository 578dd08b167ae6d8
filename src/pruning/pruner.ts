/**
 * Gradual blockwise pruning of a network while it fine-tunes:
 *
 *   after optimizer step t (1-based):
 *     t ≤ T: every planned layer is pruned to s_f · cubic(t / T) of its blocks
 *            (smallest L2 norm first; a pruned block is zero, so it stays pruned
 *            as the target grows)
 *     t > T: the final masks are re-applied, so pruned weights stay exactly zero
 *   finish(): prune to the final targets (also when a time budget ended the
 *            fine-tuning before the ramp did)
 *
 * Weights are read and written in IR layout through WeightLayerInfo, so the
 * blocks here are the blocks the IR and SparseEngine store.
 */
import type { WeightLayerInfo } from "../blocks/types.js";
import {
  applyBlockMask,
  type BlockMask,
  computeBlockMask,
  countBlocks,
  measureBlockSparsity,
} from "./block-mask.js";
import type { PlannedLayer } from "./plan.js";
import { computeCubicSparsity } from "./schedule.js";

export interface PrunedLayerSummary {
  readonly name: string;
  readonly target: number;
  /** Fraction of blocks that are all zero (0 for a dense layer, whose blocks are not counted). */
  readonly achieved: number;
  readonly blockSize: number | null;
  readonly blocks: number;
  readonly prunedBlocks: number;
  readonly weights: number;
  readonly denseReason?: string;
}

export interface GradualPruner {
  /** Call after every optimizer step with the number of steps taken so far. */
  afterStep(step: number): void;
  /** Prunes every planned layer to its target with the given schedule factor (0..1) of it. */
  pruneTo(fraction: number): void;
  /** Prunes to the final targets and fixes the masks. */
  finish(): void;
  summarize(): PrunedLayerSummary[];
}

interface Target {
  readonly layer: WeightLayerInfo;
  readonly plan: PlannedLayer & { readonly blockSize: number };
  mask?: BlockMask;
}

export function createGradualPruner(options: {
  readonly layers: readonly WeightLayerInfo[];
  readonly plan: readonly PlannedLayer[];
  /** T: steps over which sparsity ramps up (0 = prune at the first step). */
  readonly rampSteps: number;
}): GradualPruner {
  const byName = new Map(options.layers.map((layer) => [layer.name, layer]));
  const targets: Target[] = [];
  for (const planned of options.plan) {
    if (planned.blockSize === undefined) continue;
    const layer = byName.get(planned.name);
    if (layer === undefined) throw new Error(`pruning plan names ${planned.name}, not a layer`);
    targets.push({ layer, plan: { ...planned, blockSize: planned.blockSize } });
  }

  const pruneTo = (fraction: number) => {
    for (const target of targets) {
      const weights = target.layer.readWeight();
      // Zero what is already pruned first (the last optimizer step moved it):
      // a pruned block then has norm 0 and stays pruned as the target grows.
      if (target.mask !== undefined) applyBlockMask(weights, target.mask);
      const mask = computeBlockMask(
        weights,
        target.plan.rowLength,
        target.plan.blockSize,
        fraction * target.plan.target,
      );
      applyBlockMask(weights, mask);
      target.layer.writeWeight(weights);
      target.mask = mask;
    }
  };
  const reapply = () => {
    for (const target of targets) {
      if (target.mask === undefined || target.mask.pruned === 0) continue;
      const weights = target.layer.readWeight();
      applyBlockMask(weights, target.mask);
      target.layer.writeWeight(weights);
    }
  };

  return {
    pruneTo,
    afterStep(step) {
      if (step <= options.rampSteps) pruneTo(computeCubicSparsity(step, 1, options.rampSteps));
      else if (targets.some((target) => target.mask === undefined)) pruneTo(1);
      else reapply();
    },
    finish: () => pruneTo(1),
    summarize() {
      return options.plan.map((planned): PrunedLayerSummary => {
        const layer = byName.get(planned.name);
        if (layer === undefined) throw new Error(`pruning plan names ${planned.name}, not a layer`);
        const weights = layer.readWeight();
        if (planned.blockSize === undefined) {
          return {
            name: planned.name,
            target: 0,
            achieved: 0,
            blockSize: null,
            blocks: 0,
            prunedBlocks: 0,
            weights: weights.length,
            ...(planned.denseReason === undefined ? {} : { denseReason: planned.denseReason }),
          };
        }
        const blocks = countBlocks(weights.length, planned.rowLength, planned.blockSize);
        const achieved = measureBlockSparsity(weights, planned.blockSize);
        return {
          name: planned.name,
          target: planned.target,
          achieved,
          blockSize: planned.blockSize,
          blocks,
          prunedBlocks: Math.round(achieved * blocks),
          weights: weights.length,
        };
      });
    },
  };
}
