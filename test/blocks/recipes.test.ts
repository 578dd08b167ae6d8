/**
 * Every shipped recipe's search space builds: its largest and smallest
 * sub-networks (the only network of a fixed space) export to a valid IR with
 * the same numerics as tfjs, with unique layer names and the `keep_dense` and
 * `per_layer` layers present.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createSupernet } from "../../src/blocks/network.js";
import { largestArchitecture, smallestArchitecture } from "../../src/blocks/search-space.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import type { SearchSpaceConfig } from "../../src/config/types.js";
import { recipeSpaces } from "../helpers/recipe-spaces.js";
import { assertIrMatches, loadTf, randomImages, randomizeState } from "./support.js";

// dist/test/blocks -> the repository root.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const recipes = readdirSync(join(root, "recipes")).filter((name) => name.endsWith(".yaml"));

let tf: Awaited<ReturnType<typeof loadTf>>;
before(async () => {
  tf = await loadTf();
});

for (const file of recipes) {
  test(`recipes/${file}: the search space (each candidate of a supernas section) builds and exports with tfjs numerics`, async () => {
    const { recipe } = await loadRecipe(join(root, "recipes", file), { workspaceRoot: root });
    for (const space of recipeSpaces(recipe)) await checkSpace(file, recipe, space);
  });
}

async function checkSpace(
  file: string,
  recipe: Awaited<ReturnType<typeof loadRecipe>>["recipe"],
  space: SearchSpaceConfig,
): Promise<void> {
  const supernet = createSupernet(space, {
    classes: 10,
    inputResolution: recipe.dataset.input_resolution_px,
    seed: recipe.seed,
  });
  randomizeState(tf, supernet.parameters, 3);
  for (const pick of [largestArchitecture, smallestArchitecture]) {
    const network = supernet.subnet(pick(space));
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
    const size = recipe.dataset.input_resolution_px;
    const shape: [number, number, number, number] = [1, size, size, 3];
    const input = randomImages(shape, 4);
    const expected = tf.tidy(() =>
      network.apply(tf.tensor4d(input, shape), { training: false }).dataSync(),
    );
    assertIrMatches(network.exportModel(), input, expected, file);
  }
  supernet.dispose();
}
