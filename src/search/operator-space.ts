/**
 * The operators' view of a supernet: which layers a sub-network has and what
 * each may take (candidate.ts `computeLayerOptions`), memoised per
 * architecture since binding a sub-network builds every layer's index map.
 * Creating it checks that the recipe's per-layer sparsity names exist.
 */
import type { Supernet } from "../blocks/network.js";
import {
  type ArchitectureChoice,
  architectureKey,
  largestArchitecture,
} from "../blocks/search-space.js";
import { checkSparsityNames, type SparsityConfig } from "../pruning/plan.js";
import { computeLayerOptions, type LayerOptions } from "./candidate.js";
import type { OperatorSpace } from "./operators.js";

export function createOperatorSpace(supernet: Supernet, sparsity: SparsityConfig): OperatorSpace {
  const problems = checkSparsityNames(
    supernet.subnet(largestArchitecture(supernet.searchSpace)).layers(),
    sparsity,
  );
  if (problems.length > 0) throw new Error(problems.join("\n"));
  const memo = new Map<string, readonly LayerOptions[]>();
  return {
    searchSpace: supernet.searchSpace,
    layerOptions(architecture: ArchitectureChoice) {
      const key = architectureKey(architecture);
      let options = memo.get(key);
      if (options === undefined) {
        options = computeLayerOptions(supernet.subnet(architecture).layers(), sparsity);
        memo.set(key, options);
      }
      return options;
    },
  };
}
