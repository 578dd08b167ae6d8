/**
 * Every shipped recipe's search space builds a network that exports to a
 * valid IR with the same numerics as tfjs, with unique layer names and its
 * `keep_dense` layers present.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createNetwork } from "../../src/blocks/network.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { assertIrMatches, loadTf, randomImages, randomizeState } from "./support.js";

// dist/test/blocks -> the repository root.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const recipes = readdirSync(join(root, "recipes")).filter((name) => name.endsWith(".yaml"));

let tf: Awaited<ReturnType<typeof loadTf>>;
before(async () => {
  tf = await loadTf();
});

for (const file of recipes) {
  test(`recipes/${file}: the search space builds and exports with tfjs numerics`, async () => {
    const { recipe } = await loadRecipe(join(root, "recipes", file), { workspaceRoot: root });
    const network = createNetwork(recipe.search_space, {
      classes: 10,
      inputResolution: recipe.dataset.input_resolution_px,
      seed: recipe.seed,
    });
    try {
      const names = network.layers().map((layer) => layer.name);
      assert.equal(new Set(names).size, names.length, "layer names are unique");
      for (const name of recipe.sparsity.keep_dense)
        assert.ok(names.includes(name), `${name} exists`);
      for (const name of Object.keys(recipe.sparsity.per_layer))
        assert.ok(names.includes(name), `${name} exists`);
      const model = network.exportModel({ name: file });
      const convAndLinear = model.graph.ops.filter(
        (op) => op.type === "conv2d" || op.type === "linear",
      );
      assert.deepEqual(
        convAndLinear.map((op) => op.name),
        names,
      );
      randomizeState(tf, network.parameters, 3);
      const size = recipe.dataset.input_resolution_px;
      const shape: [number, number, number, number] = [1, size, size, 3];
      const input = randomImages(shape, 4);
      const expected = tf.tidy(() =>
        network.apply(tf.tensor4d(input, shape), { training: false }).dataSync(),
      );
      assertIrMatches(network.exportModel(), input, expected, file);
    } finally {
      network.parameters.dispose();
    }
  });
}
