/**
 * A recipe's `supernas` section: valid as shipped, and each way it cannot
 * work is an error at the value to change.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { recipeProblems } from "../helpers/recipe-problems.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const SUPERNAS_RECIPE = `seed: 1
dataset:
  format: cifar10-binary
  path: data
supernas:
  candidates: 4
  stem: { channels: { min: 8, max: 16, step: 8 } }
  stages:
    - { blocks: [mbv2, resnet], channels: [16, 24], stride: 2 }
    - blocks: [mbv2, mobilevit]
      channels: { min: 24, max: 48, step: 8 }
      embed_dim: [32, 48]
      heads: [2, 4]
      stride: 2
sparsity:
  global_target: [0.3, 0.5]
`;

/** SUPERNAS_RECIPE with each `[from, to]` replaced (each must occur). */
function recipeWith(...edits: [string, string][]): string {
  return edits.reduce((text, [from, to]) => {
    assert.ok(text.includes(from), `no "${from}"`);
    return text.replace(from, to);
  }, SUPERNAS_RECIPE);
}

describe("supernas section", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace(SUPERNAS_RECIPE);
  });
  afterEach(async () => {
    await ws.cleanup();
  });
  const problems = async (text: string) => {
    await ws.write("recipes/test.yaml", text);
    return recipeProblems(ws);
  };

  test("a section with ranges, lists and defaults is valid; search_space is then absent", async () => {
    const { recipe } = await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
    assert.equal(recipe.search_space, undefined);
    assert.deepEqual(recipe.supernas?.stem.channels, { min: 8, max: 16, step: 8 });
    assert.deepEqual(recipe.supernas?.stages[0], {
      blocks: ["mbv2", "resnet"],
      channels: [16, 24],
      stride: 2,
      depth: [1, 2],
      expansion: [2, 3, 4],
      kernel_size: [3],
      heads: [2],
      mlp_ratio: [2],
      patch_size: 2,
    });
    assert.equal(recipe.supernas?.samples_per_space, 32);
  });

  test("search_space and supernas together: an error at supernas; neither: an error at the top", async () => {
    assert.match(
      await problems(
        `${SUPERNAS_RECIPE}search_space:\n  stages:\n    - { block: mbv2, channels: 8 }\n`,
      ),
      /^recipes\/test\.yaml:6:3: supernas: the recipe gives search_space too/m,
    );
    const neither =
      SUPERNAS_RECIPE.slice(0, SUPERNAS_RECIPE.indexOf("supernas:")) +
      SUPERNAS_RECIPE.slice(SUPERNAS_RECIPE.indexOf("sparsity:"));
    assert.match(
      await problems(neither),
      /^recipes\/test\.yaml:1:1: .*the recipe has no search space: give search_space/m,
    );
  });

  test("a range whose min is above its max, at its min", async () => {
    assert.match(
      await problems(recipeWith(["{ min: 24, max: 48, step: 8 }", "{ min: 64, max: 48 }"])),
      /^recipes\/test\.yaml:11:24: supernas\.stages\[1\]\.channels\.min: 64 is above max 48$/m,
    );
  });

  test("a stage that may be MobileViT needs embed dims some head count divides", async () => {
    assert.match(
      await problems(recipeWith(["      embed_dim: [32, 48]\n", ""])),
      /^recipes\/test\.yaml:10:15: supernas\.stages\[1\]\.blocks: lists mobilevit, which needs embed_dim/m,
    );
    assert.match(
      await problems(recipeWith(["heads: [2, 4]", "heads: [5, 7]"])),
      /^recipes\/test\.yaml:13:\d+: supernas\.stages\[1\]\.heads: 5, 7 divides none of the embed_dim values allowed \(32, 48\)/m,
    );
  });

  test("strides past the input resolution, at the stride that passes it", async () => {
    const text = recipeWith(
      ["dataset:\n", "dataset:\n  input_resolution_px: 8\n"],
      ["sparsity:", "    - { blocks: [resnet], channels: 48, stride: 2 }\nsparsity:"],
      ["step: 8 } }", "step: 8 }, stride: 2 }"],
      ["blocks: [mbv2, mobilevit]", "blocks: [mbv2]"],
    );
    assert.match(
      await problems(text),
      /^recipes\/test\.yaml:16:\d+: supernas\.stages\[2\]\.stride: the total stride reaches 16, past dataset\.input_resolution_px 8/m,
    );
  });
});
