/**
 * Which layers a fixed network prunes, to what target and with which block
 * size, from the recipe's `sparsity` section:
 *
 *   - a layer named in `keep_dense` (default: stem, classifier) or not
 *     prunable (the first conv, the classifier) stays dense;
 *   - otherwise its target is `per_layer[name]`, else `global_target`;
 *   - its block size is the largest of `block_sizes` that divides the
 *     layer's row length (blocks never straddle rows). SparseNAS will search
 *     the block size per layer; for a fixed network the largest that fits is
 *     the cheapest to store and to skip. A layer no allowed size divides
 *     stays dense, and the plan says why.
 *
 * Names in `per_layer` or `keep_dense` that are not layers of the network,
 * and per-layer targets on layers that must stay dense, are errors (all
 * listed at once): a typo must not silently leave a layer unpruned.
 */
import type { WeightLayerInfo } from "../blocks/types.js";
import type { Recipe } from "../config/types.js";
import type { BlockSize } from "../model-ir/types.js";

export type SparsityConfig = Recipe["sparsity"];

export interface PlannedLayer {
  readonly name: string;
  /** Final sparsity (fraction of blocks pruned, before rounding to whole blocks); 0 when dense. */
  readonly target: number;
  /** Undefined for a layer that stays dense. */
  readonly blockSize: BlockSize | undefined;
  readonly rowLength: number;
  /** Why a layer stays dense, when it does. */
  readonly denseReason?: string;
}

/** The largest allowed block size that divides `rowLength`, if any. */
export function chooseBlockSize(
  rowLength: number,
  allowed: readonly BlockSize[],
): BlockSize | undefined {
  let best: BlockSize | undefined;
  for (const size of allowed) {
    if (rowLength % size === 0 && (best === undefined || size > best)) best = size;
  }
  return best;
}

/**
 * The one global target of a sparsity section without choices (a list of one
 * value counts as that value). A list of several is a search: SparseNAS picks
 * each layer's target, and calling this is a mistake.
 */
export function fixedGlobalTarget(sparsity: Pick<SparsityConfig, "global_target">): number {
  const target = sparsity.global_target;
  if (!Array.isArray(target)) return target;
  if (target.length !== 1)
    throw new Error(
      `sparsity.global_target has ${target.length} choices (${target.join(", ")}): the search picks each layer's target`,
    );
  return target[0] as number;
}

/**
 * Names in `per_layer` and `keep_dense` must be layers of the network (of a
 * supernet's largest sub-network, whose layers include every sub-network's);
 * a per-layer target on a layer that must stay dense is an error too.
 * Returns every problem, one line each.
 */
export function checkSparsityNames(
  layers: readonly WeightLayerInfo[],
  sparsity: SparsityConfig,
): string[] {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const keepDense = new Set(sparsity.keep_dense);
  const known = () => [...byName.keys()].join(", ");
  const problems: string[] = [];
  for (const name of keepDense) {
    if (!byName.has(name))
      problems.push(
        `sparsity.keep_dense: ${name} is not a layer of the network (layers: ${known()})`,
      );
  }
  for (const [name, target] of Object.entries(sparsity.per_layer)) {
    const layer = byName.get(name);
    if (layer === undefined) {
      problems.push(
        `sparsity.per_layer: ${name} is not a layer of the network (layers: ${known()})`,
      );
    } else if (target > 0 && (!layer.prunable || keepDense.has(name))) {
      problems.push(
        `sparsity.per_layer: ${name} stays dense (${layer.prunable ? "listed in sparsity.keep_dense" : `a ${layer.role} layer is never pruned`})`,
      );
    }
  }
  return problems;
}

export function resolvePruningPlan(
  layers: readonly WeightLayerInfo[],
  sparsity: SparsityConfig,
): PlannedLayer[] {
  const keepDense = new Set(sparsity.keep_dense);
  const problems = checkSparsityNames(layers, sparsity);
  if (problems.length > 0) throw new Error(problems.join("\n"));

  return layers.map((layer): PlannedLayer => {
    const dense = (denseReason: string): PlannedLayer => ({
      name: layer.name,
      target: 0,
      blockSize: undefined,
      rowLength: layer.rowLength,
      denseReason,
    });
    if (!layer.prunable) return dense(`${layer.role} layer`);
    if (keepDense.has(layer.name)) return dense("listed in sparsity.keep_dense");
    const target = sparsity.per_layer[layer.name] ?? fixedGlobalTarget(sparsity);
    if (target === 0) return dense("target 0");
    const blockSize = chooseBlockSize(layer.rowLength, sparsity.block_sizes);
    if (blockSize === undefined) {
      return dense(
        `no allowed block size (${sparsity.block_sizes.join(", ")}) divides its row length ${layer.rowLength}`,
      );
    }
    return { name: layer.name, target, blockSize, rowLength: layer.rowLength };
  });
}
