/**
 * Every shipped recipe builds: a fixed network's `sparsity` section prunes it
 * exactly and exports to a valid IR with the chosen block sizes (MobileViT
 * attention and MLP linears included); a search's largest, smallest and a few
 * random candidates do the same with their own per-layer plans.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createNetwork, createSupernet } from "../../src/blocks/network.js";
import {
  givenSearchSpace,
  isFixedSearchSpace,
  largestArchitecture,
  smallestArchitecture,
} from "../../src/blocks/search-space.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import type { SearchSpaceConfig } from "../../src/config/types.js";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { assertValidModel } from "../../src/model-ir/validate.js";
import { pruneOneShot } from "../../src/pruning/one-shot.js";
import { resolvePruningPlan } from "../../src/pruning/plan.js";
import { createGradualPruner } from "../../src/pruning/pruner.js";
import { blockSizesOf, type Candidate } from "../../src/search/candidate.js";
import { createOperatorSpace } from "../../src/search/operator-space.js";
import { sampleCandidate } from "../../src/search/operators.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { recipeSpaces } from "../helpers/recipe-spaces.js";

// dist/test/pruning -> the repository root.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const recipes = readdirSync(join(root, "recipes")).filter((name) => name.endsWith(".yaml"));

before(async () => {
  await createTrainingBackend({ backend: "wasm" });
});

const isSearch = (recipe: Awaited<ReturnType<typeof loadRecipe>>["recipe"]) =>
  recipe.search_space === undefined ||
  !isFixedSearchSpace(givenSearchSpace(recipe)) ||
  (Array.isArray(recipe.sparsity.global_target) && recipe.sparsity.global_target.length > 1);

for (const file of recipes) {
  test(`recipes/${file}: candidates pruned exactly export with their block sizes`, async () => {
    const { recipe } = await loadRecipe(join(root, "recipes", file), { workspaceRoot: root });
    if (isSearch(recipe)) {
      for (const space of recipeSpaces(recipe)) checkSearchCandidates(file, recipe, space);
      return;
    }
    const network = createNetwork(givenSearchSpace(recipe), {
      classes: 10,
      inputResolution: recipe.dataset.input_resolution_px,
      seed: recipe.seed,
    });
    try {
      const layers = network.layers();
      const plan = resolvePruningPlan(layers, recipe.sparsity);
      const pruner = createGradualPruner({ layers, plan, rampSteps: 0 });
      pruner.finish();
      const summary = pruner.summarize();
      assert.ok(
        summary.some((layer) => layer.blockSize !== null),
        "something is pruned",
      );
      for (const layer of summary) {
        if (recipe.sparsity.keep_dense.includes(layer.name)) assert.equal(layer.blockSize, null);
        if (layer.blockSize === null) continue;
        assert.equal(layer.prunedBlocks, Math.round(layer.target * layer.blocks), layer.name);
      }
      const blockSizes = new Map(
        plan.flatMap((layer) =>
          layer.blockSize === undefined ? [] : [[layer.name, layer.blockSize] as const],
        ),
      );
      const model = assertValidModel(network.exportModel({ name: file, blockSizes }));
      for (const [name, blockSize] of blockSizes) {
        const tensor = model.graph.tensors.find((t) => t.name === `${name}.weight`);
        assert.equal(tensor?.sparsity?.blockSize, blockSize, name);
      }
    } finally {
      network.supernet.dispose();
    }
  });
}

/** Candidates of one search space pruned exactly export with their block sizes. */
function checkSearchCandidates(
  file: string,
  recipe: Awaited<ReturnType<typeof loadRecipe>>["recipe"],
  searchSpace: SearchSpaceConfig,
): void {
  const supernet = createSupernet(searchSpace, {
    classes: 10,
    inputResolution: recipe.dataset.input_resolution_px,
    seed: recipe.seed,
  });
  try {
    const space = createOperatorSpace(supernet, recipe.sparsity);
    const random = createSeededRandom(recipe.seed);
    const candidates: Candidate[] = [
      ...[largestArchitecture, smallestArchitecture].map((pick) => {
        const architecture = pick(searchSpace);
        const layers = space.layerOptions(architecture).map((options) => ({
          name: options.name,
          rowLength: options.rowLength,
          target: Math.max(...options.targets),
          blockSize: options.blockSizes.at(-1) ?? null,
          ...(options.denseReason === undefined ? {} : { denseReason: options.denseReason }),
        }));
        return { architecture, layers };
      }),
      ...Array.from({ length: 3 }, () => sampleCandidate(space, random)),
    ];
    for (const candidate of candidates) {
      const network = supernet.subnet(candidate.architecture);
      pruneOneShot(network.layers(), candidate.layers);
      const blockSizes = blockSizesOf(candidate);
      assert.ok(blockSizes.size > 0, "something is pruned");
      const model = assertValidModel(network.exportModel({ name: file, blockSizes }));
      for (const [name, blockSize] of blockSizes) {
        const tensor = model.graph.tensors.find((t) => t.name === `${name}.weight`);
        assert.equal(tensor?.sparsity?.blockSize, blockSize, name);
      }
    }
  } finally {
    supernet.dispose();
  }
}
