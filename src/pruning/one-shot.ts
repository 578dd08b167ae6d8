/**
 * One-shot blockwise magnitude pruning: every planned layer pruned at once to
 * its target (the blocks of smallest L2 norm, as `computeBlockMask` picks
 * them). The search measures candidates this way, with the supernet's
 * weights; the chosen one is then pruned gradually while it fine-tunes
 * (pruner.ts), which reaches the same per-layer block counts.
 */
import type { WeightLayerInfo } from "../blocks/types.js";
import { applyBlockMask, computeBlockMask } from "./block-mask.js";

export interface OneShotPlan {
  readonly name: string;
  readonly target: number;
  /** Null or undefined: the layer stays dense. */
  readonly blockSize?: number | null;
}

export function pruneOneShot(
  layers: readonly WeightLayerInfo[],
  plan: readonly OneShotPlan[],
): void {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  for (const planned of plan) {
    if (planned.blockSize === null || planned.blockSize === undefined || planned.target === 0)
      continue;
    const layer = byName.get(planned.name);
    if (layer === undefined) throw new Error(`pruning plan names ${planned.name}, not a layer`);
    const weights = layer.readWeight();
    applyBlockMask(
      weights,
      computeBlockMask(weights, layer.rowLength, planned.blockSize, planned.target),
    );
    layer.writeWeight(weights);
  }
}
