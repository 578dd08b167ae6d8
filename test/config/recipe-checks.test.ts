/**
 * Checks after the schema: values each valid alone that cannot work
 * together are reported at the offending value, with the schema's problems,
 * before anything is built.
 */

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { givenSearchSpace } from "../../src/blocks/search-space.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { recipeProblems } from "../helpers/recipe-problems.js";
import {
  createTestWorkspace,
  MINIMAL_RECIPE,
  SEARCH_RECIPE,
  type TestWorkspace,
} from "../helpers/workspace.js";

/** SEARCH_RECIPE with each `[from, to]` replaced (each must occur). */
function searchRecipeWith(...edits: [string, string][]): string {
  return edits.reduce((text, [from, to]) => {
    assert.ok(text.includes(from), `SEARCH_RECIPE has no "${from}"`);
    return text.replace(from, to);
  }, SEARCH_RECIPE);
}

describe("recipe checks after the schema", () => {
  let ws: TestWorkspace;
  let cwd: string;
  beforeEach(async () => {
    ws = await createTestWorkspace(SEARCH_RECIPE);
    cwd = process.cwd();
    process.chdir(ws.root);
  });
  afterEach(async () => {
    process.chdir(cwd);
    await ws.cleanup();
  });

  test("a search with choices in every stage type, sparsity and search settings is valid", async () => {
    const loaded = await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
    assert.deepEqual(givenSearchSpace(loaded.recipe).stem.channels, [8, 16]);
    assert.deepEqual(givenSearchSpace(loaded.recipe).stages[2], {
      block: "mobilevit",
      channels: [32, 48],
      embed_dim: [32, 48],
      heads: [2, 4],
      mlp_ratio: [2, 3],
      patch_size: 2,
      depth: 1,
      stride: 1,
    });
    assert.deepEqual(loaded.recipe.sparsity.global_target, [0.3, 0.5, 0.7]);
    assert.equal(loaded.recipe.search.parents, 2);
    assert.equal(loaded.recipe.training.supernas.sandwich_random_subnets, 2);
    // The fixed network of the other tests is valid too.
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE);
    await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
  });

  test("MobileViT: each embed_dim choice is divided by every heads choice, or named with those it is not", async () => {
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(
        ["embed_dim: [32, 48]", "embed_dim: [30, 48, 36]"],
        ["heads: [2, 4]", "heads: [2, 4, 8]"],
      ),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:12:19: search_space.stages[2].embed_dim[0]: 30 is not divisible by heads 4, 8 (every embed_dim choice must be divisible by every heads choice)",
        "12 |       embed_dim: [30, 48, 36]",
        "                       ^~",
        "recipes/test.yaml:12:27: search_space.stages[2].embed_dim[2]: 36 is not divisible by heads 8 (every embed_dim choice must be divisible by every heads choice)",
        "12 |       embed_dim: [30, 48, 36]",
        "                               ^~",
      ].join("\n"),
    );
    // One value each; heads left at its default.
    await ws.write(
      "recipes/test.yaml",
      MINIMAL_RECIPE.replace(
        "- { block: mbv2, channels: 8 }",
        "- { block: mobilevit, channels: 16, embed_dim: 9 }",
      ),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:7:52: search_space.stages[0].embed_dim: 9 is not divisible by heads 2 (the default)",
        "7 |     - { block: mobilevit, channels: 16, embed_dim: 9 }",
        "                                                       ^",
      ].join("\n"),
    );
  });

  test("strides: the first one past the input resolution, and patch sizes that do not divide the feature map", async () => {
    // 8 px: stem 2 → 4, stride 2 → 2, stride 2 → 1, then a fourth stride 2.
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(
        ["  path: data\n", "  path: data\n  input_resolution_px: 8\n"],
        ["stem: { channels: [8, 16] }", "stem: { channels: [8, 16], stride: 2 }"],
        ["      patch_size: 2\n", "      patch_size: 2\n      stride: 2\n"],
      ),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:16:19: search_space.stages[2].patch_size: 2 does not divide the 1x1 feature map of this stage (dataset.input_resolution_px 8, total stride 16)",
        "16 |       patch_size: 2",
        "                       ^",
        "recipes/test.yaml:17:15: search_space.stages[2].stride: 2 makes the total stride 16, more than dataset.input_resolution_px 8: the feature map would shrink below one pixel",
        "17 |       stride: 2",
        "                   ^",
      ].join("\n"),
    );
    // 24 px: the MobileViT stage runs at 6x6.
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(
        ["  path: data\n", "  path: data\n  input_resolution_px: 24\n"],
        ["patch_size: 2", "patch_size: 4"],
      ),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:16:19: search_space.stages[2].patch_size: 4 does not divide the 6x6 feature map of this stage (dataset.input_resolution_px 24, total stride 4)",
        "16 |       patch_size: 4",
        "                       ^",
      ].join("\n"),
    );
    // 20 px (5x5), patch size left at its default: located at the stage.
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(
        ["  path: data\n", "  path: data\n  input_resolution_px: 20\n"],
        ["      patch_size: 2\n", ""],
      ),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:11:7: search_space.stages[2].patch_size: 2 (the default) does not divide the 5x5 feature map of this stage (dataset.input_resolution_px 20, total stride 4)",
        "11 |     - block: mobilevit",
        "           ^~~~~~~~~~~~~~~~",
      ].join("\n"),
    );
  });

  test("search settings that contradict each other", async () => {
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith([
        "  parents: 2\n",
        "  parents: 10\n  crossover_fraction: 0.7\n  random_fraction: 0.5\n",
      ]),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:21:12: search.parents: 10 is more than search.population 8: the parents are the best candidates of one generation",
        "21 |   parents: 10",
        "                ^~",
        "recipes/test.yaml:23:20: search.random_fraction: crossover_fraction 0.7 + random_fraction 0.5 = 1.2, more than 1: both are shares of each new generation (mutation breeds the rest)",
        "23 |   random_fraction: 0.5",
        "                        ^~~",
      ].join("\n"),
    );
    // Only the population written: the problem is there, the default named.
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(
        ["  population: 8\n", "  population: 2\n"],
        ["  parents: 2\n", "  crossover_fraction: 0.9\n"],
      ),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:19:15: search.population: 2 is less than search.parents 4 (the default): the parents are the best candidates of one generation",
        "19 |   population: 2",
        "                   ^",
        "recipes/test.yaml:21:23: search.crossover_fraction: crossover_fraction 0.9 + random_fraction 0.2 (the default) = 1.1, more than 1: both are shares of each new generation (mutation breeds the rest)",
        "21 |   crossover_fraction: 0.9",
        "                           ^~~",
      ].join("\n"),
    );
    await ws.write("recipes/test.yaml", searchRecipeWith(["  parents: 2\n", "  parents: 1\n"]));
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:21:12: search.parents: 1 parent leaves nothing to cross, but crossover_fraction 0.4 (the default) of each generation is bred by crossing two parents (keep 2 or more parents, or set crossover_fraction to 0)",
        "21 |   parents: 1",
        "                ^",
      ].join("\n"),
    );
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(["  parents: 2\n", "  parents: 1\n  crossover_fraction: 0\n"]),
    );
    await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
  });

  test("a search needs validation images; accuracy and verification need test or validation images", async () => {
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(["  path: data\n", "  path: data\n  validation_fraction: 0\n"]),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:5:24: dataset.validation_fraction: 0 leaves no validation images, but the search ranks its candidates by validation accuracy (search_space.stem.channels has 2 choices: 8, 16)",
        "5 |   validation_fraction: 0",
        "                           ^",
      ].join("\n"),
    );
    // A fixed network does not search: no validation split is fine with a test split.
    const fixed = MINIMAL_RECIPE.replace(
      "  path: data\n",
      "  path: data\n  validation_fraction: 0\n",
    );
    await ws.write("recipes/test.yaml", fixed);
    await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
    // An image folder has a test split only with test_path.
    await ws.write("recipes/test.yaml", fixed.replace("cifar10-binary", "image-folder"));
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:5:24: dataset.validation_fraction: 0 leaves no images to measure accuracy and verify the generated code on: an image-folder dataset without dataset.test_path has no test split (set test_path, or a validation_fraction above 0)",
        "5 |   validation_fraction: 0",
        "                           ^",
      ].join("\n"),
    );
    await ws.write(
      "recipes/test.yaml",
      fixed
        .replace("cifar10-binary", "image-folder")
        .replace("  path: data\n", "  path: data\n  test_path: test\n"),
    );
    await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
  });

  test("values from --set and from a recipe's base are located there", async () => {
    assert.equal(
      await recipeProblems(ws, ["search.parents=9", "search_space.stages.2.embed_dim=[32, 30]"]),
      [
        "<--set #1>:1:16: search.parents: 9 is more than search.population 8: the parents are the best candidates of one generation",
        "1 | search.parents=9",
        "                   ^",
        "<--set #2>:1:38: search_space.stages[2].embed_dim[1]: 30 is not divisible by heads 4 (every embed_dim choice must be divisible by every heads choice)",
        "1 | search_space.stages.2.embed_dim=[32, 30]",
        "                                         ^~",
      ].join("\n"),
    );
    // The base's search settings are used, and its stages replaced with the recipe's:
    // heads is then the default, not the base's 3.
    await ws.write(
      "recipes/base.yaml",
      [
        "dataset: { format: cifar10-binary, path: data }",
        "search_space:",
        "  stages: [{ block: mobilevit, channels: 8, embed_dim: 12, heads: 3 }]",
        "search: { population: 4, parents: 6 }",
        "",
      ].join("\n"),
    );
    await ws.write(
      "recipes/test.yaml",
      "extends: base.yaml\nsearch_space:\n  stages: [{ block: mobilevit, channels: 8, embed_dim: 9 }]\n",
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/base.yaml:4:35: search.parents: 6 is more than search.population 4: the parents are the best candidates of one generation",
        "4 | search: { population: 4, parents: 6 }",
        "                                      ^",
        "recipes/test.yaml:3:56: search_space.stages[0].embed_dim: 9 is not divisible by heads 2 (the default)",
        "3 |   stages: [{ block: mobilevit, channels: 8, embed_dim: 9 }]",
        "                                                           ^",
      ].join("\n"),
    );
  });

  test("reported with the schema's problems; a check skips values the schema rejected", async () => {
    await ws.write(
      "recipes/test.yaml",
      searchRecipeWith(
        ["heads: [2, 4]", "heads: [2, 0]"],
        ["  parents: 2\n", "  parents: 9\n"],
        ["  format: cifar10-binary\n", "  formt: cifar10-binary\n"],
      ),
    );
    // No "not divisible by heads 0": the heads choices were rejected. The
    // search settings were not, and are checked.
    assert.equal(
      await recipeProblems(ws),
      [
        'recipes/test.yaml:2:1: dataset: missing required key "format"',
        "2 | dataset:",
        "    ^~~~~~~",
        'recipes/test.yaml:3:3: dataset: unknown key "formt" (did you mean "format"?)',
        "3 |   formt: cifar10-binary",
        "      ^~~~~",
        "recipes/test.yaml:13:18: search_space.stages[2].heads[1]: must be >= 1",
        "13 |       heads: [2, 0]",
        "                      ^",
        "recipes/test.yaml:21:12: search.parents: 9 is more than search.population 8: the parents are the best candidates of one generation",
        "21 |   parents: 9",
        "                ^",
      ].join("\n"),
    );
    // A --set argument that does not parse leaves the recipe in doubt: no check runs.
    await ws.write("recipes/test.yaml", searchRecipeWith(["  parents: 2\n", "  parents: 9\n"]));
    // A board that cannot be read is reported with them.
    assert.deepEqual(
      (await recipeProblems(ws, ["board=stm32h7"]))
        .split("\n")
        .filter((line) => /^[^ |]+( #\d+>)?:\d+:\d+: /.test(line)),
      [
        "<--set #1>:1:7: board: cannot read board profile boards/stm32h7.yaml (a name means boards/<name>.yaml in the workspace)",
        "recipes/test.yaml:21:12: search.parents: 9 is more than search.population 8: the parents are the best candidates of one generation",
      ],
    );
    assert.equal(
      (await recipeProblems(ws, ["search.population=[1"])).split("\n")[0],
      "<--set #1>:1:19: value is not valid YAML: Flow sequence must end with a ]",
    );
  });
});
