/**
 * Every shipped recipe is a fixed network the training stages accept, and its
 * `sparsity` section prunes it exactly and exports to a valid IR with the
 * chosen block sizes (MobileViT attention and MLP linears included).
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createNetwork } from "../../src/blocks/network.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { assertValidModel } from "../../src/model-ir/validate.js";
import { resolvePruningPlan } from "../../src/pruning/plan.js";
import { createGradualPruner } from "../../src/pruning/pruner.js";
import { findMultiChoiceFields } from "../../src/stages/training-support.js";
import { createTrainingBackend } from "../../src/training/backend.js";

// dist/test/pruning -> the repository root.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const recipes = readdirSync(join(root, "recipes")).filter((name) => name.endsWith(".yaml"));

before(async () => {
  await createTrainingBackend({ backend: "wasm" });
});

for (const file of recipes) {
  test(`recipes/${file}: a fixed network, pruned exactly, exports with its block sizes`, async () => {
    const { recipe } = await loadRecipe(join(root, "recipes", file), { workspaceRoot: root });
    assert.deepEqual(findMultiChoiceFields(recipe.search_space), []);
    const network = createNetwork(recipe.search_space, {
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
