/**
 * A SparseNAS candidate: one sub-network of the supernet and, for each of its
 * conv and linear layers, a sparsity target and a block size (or why it stays
 * dense). Candidates are plain JSON: they go to the search log, to worker
 * processes and into resume state unchanged.
 *
 * What a layer may take (its "options") follows the recipe's `sparsity`
 * section: `keep_dense` layers and the first conv and classifier stay dense;
 * a `per_layer` entry fixes the target; every other prunable layer picks its
 * target from `global_target` (one value or a list of choices). A pruned
 * layer picks its block size among `block_sizes` that divide its row length
 * (blocks never straddle rows); a layer no allowed size divides stays dense.
 */
import type { ArchitectureChoice } from "../blocks/search-space.js";
import type { WeightLayerInfo } from "../blocks/types.js";
import type { BlockSize } from "../model-ir/types.js";
import type { SparsityConfig } from "../pruning/plan.js";

/** One layer's part of a candidate (the pruner's `PlannedLayer`, as JSON). */
export interface LayerPlan {
  readonly name: string;
  /** Fraction of the layer's blocks pruned (0 when dense). */
  readonly target: number;
  /** Null for a dense layer. */
  readonly blockSize: BlockSize | null;
  readonly rowLength: number;
  /** Why a layer stays dense, when it does. */
  readonly denseReason?: string;
}

export interface Candidate {
  readonly architecture: ArchitectureChoice;
  /** Every conv and linear layer of the sub-network, in forward order. */
  readonly layers: readonly LayerPlan[];
}

/** What one layer of a sub-network may take. */
export interface LayerOptions {
  readonly name: string;
  readonly rowLength: number;
  /** Targets to choose from; [0] for a layer that stays dense. */
  readonly targets: readonly number[];
  /** Block sizes dividing the row length (empty: the layer can only be dense). */
  readonly blockSizes: readonly BlockSize[];
  /** Set when the layer is dense whatever the search picks. */
  readonly denseReason?: string;
}

/** The targets `global_target` allows (one value or a list of choices). */
export function targetChoices(sparsity: Pick<SparsityConfig, "global_target">): number[] {
  const target = sparsity.global_target;
  return Array.isArray(target) ? [...target] : [target];
}

/** The options of each layer of a sub-network, in forward order. */
export function computeLayerOptions(
  layers: readonly WeightLayerInfo[],
  sparsity: SparsityConfig,
): LayerOptions[] {
  const keepDense = new Set(sparsity.keep_dense);
  const choices = targetChoices(sparsity);
  return layers.map((layer): LayerOptions => {
    const dense = (denseReason: string): LayerOptions => ({
      name: layer.name,
      rowLength: layer.rowLength,
      targets: [0],
      blockSizes: [],
      denseReason,
    });
    if (!layer.prunable) return dense(`${layer.role} layer`);
    if (keepDense.has(layer.name)) return dense("listed in sparsity.keep_dense");
    const fixed = sparsity.per_layer[layer.name];
    const targets = fixed === undefined ? choices : [fixed];
    if (targets.every((target) => target === 0)) return dense("target 0");
    const blockSizes = sparsity.block_sizes
      .filter((size) => layer.rowLength % size === 0)
      .sort((a, b) => a - b);
    if (blockSizes.length === 0) {
      return dense(
        `no allowed block size (${sparsity.block_sizes.join(", ")}) divides its row length ${layer.rowLength}`,
      );
    }
    return { name: layer.name, rowLength: layer.rowLength, targets, blockSizes };
  });
}

/** The allowed value nearest to `wanted` (the first of equally near ones). */
function nearest<T extends number>(allowed: readonly T[], wanted: number): T {
  let chosen = allowed[0] as T;
  for (const value of allowed) {
    if (Math.abs(value - wanted) < Math.abs(chosen - wanted)) chosen = value;
  }
  return chosen;
}

/**
 * A layer's plan from a target and a block size, each snapped to the nearest
 * value the layer allows (a child may inherit a block size its new row length
 * does not take, or a target from a layer with a fixed one); target 0 means
 * dense.
 */
export function planLayer(options: LayerOptions, target: number, blockSize: number): LayerPlan {
  const base = { name: options.name, rowLength: options.rowLength };
  if (options.denseReason !== undefined)
    return { ...base, target: 0, blockSize: null, denseReason: options.denseReason };
  const snapped = nearest(options.targets, target);
  if (snapped === 0) return { ...base, target: 0, blockSize: null, denseReason: "target 0" };
  return { ...base, target: snapped, blockSize: nearest(options.blockSizes, blockSize) };
}

/** A stable text key: equal keys mean the same sub-network with the same per-layer plan. */
export function candidateKey(candidate: Candidate): string {
  return JSON.stringify({
    architecture: candidate.architecture,
    layers: candidate.layers.map((layer) => [layer.name, layer.target, layer.blockSize]),
  });
}

/** Block sizes of the pruned layers, for the IR export. */
export function blockSizesOf(candidate: Candidate): Map<string, BlockSize> {
  const sizes = new Map<string, BlockSize>();
  for (const layer of candidate.layers)
    if (layer.blockSize !== null) sizes.set(layer.name, layer.blockSize);
  return sizes;
}
