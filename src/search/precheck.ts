/**
 * Whether a search can find anything at all, decided before any training: the
 * smallest sub-network of the space at its highest sparsity target, with each
 * allowed block size, assessed (predicted only) on a freshly initialised
 * supernet. Pruning keeps exactly round(target x blocks) blocks of each layer
 * whatever the weights, so the footprint of these candidates is what a
 * trained supernet would give, up to the pattern of emptied rows. When none
 * of them meets every budget, no candidate of the space will.
 */
import { createSupernet } from "../blocks/network.js";
import { smallestArchitecture } from "../blocks/search-space.js";
import type { Recipe, SearchSpaceConfig } from "../config/types.js";
import { assessCandidate } from "./assess-candidate.js";
import type { ResourceBudgets } from "./budgets.js";
import { type Candidate, computeLayerOptions, planLayer } from "./candidate.js";
import type { Assessment } from "./evolution.js";

export interface PrecheckResult {
  /** Some checked candidate meets every budget. */
  readonly feasible: boolean;
  /** The checked candidate that misses the fewest budgets (then: least flash). */
  readonly smallest: Assessment & { readonly candidate: Candidate };
}

export function precheckSearch(options: {
  readonly recipe: Pick<Recipe, "sparsity" | "seed"> & { readonly search_space: SearchSpaceConfig };
  readonly classes: number;
  readonly inputResolution: number;
  readonly budgets: ResourceBudgets;
}): PrecheckResult {
  const { recipe } = options;
  const supernet = createSupernet(recipe.search_space, {
    classes: options.classes,
    inputResolution: options.inputResolution,
    seed: recipe.seed,
  });
  try {
    const architecture = smallestArchitecture(recipe.search_space);
    const layerOptions = computeLayerOptions(
      supernet.subnet(architecture).layers(),
      recipe.sparsity,
    );
    // A grey image: the quantizer needs an input, the sizes do not depend on it.
    const pixels = options.inputResolution * options.inputResolution * 3;
    const context = {
      supernet,
      budgets: options.budgets,
      calibrationInputs: [new Float32Array(pixels)],
    };
    const checked = recipe.sparsity.block_sizes.map((blockSize) => {
      const candidate: Candidate = {
        architecture,
        layers: layerOptions.map((layer) =>
          planLayer(layer, Math.max(...layer.targets), blockSize),
        ),
      };
      return { ...assessCandidate(context, candidate), candidate };
    });
    const smallest = [...checked].sort(
      (a, b) =>
        a.violations.length - b.violations.length ||
        a.predicted.flashBytes - b.predicted.flashBytes,
    )[0];
    if (smallest === undefined) throw new Error("sparsity.block_sizes is empty");
    return { feasible: smallest.violations.length === 0, smallest };
  } finally {
    supernet.dispose();
  }
}
