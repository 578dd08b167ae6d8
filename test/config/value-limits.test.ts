/**
 * Values each of the right type that cannot work: a normalisation that
 * divides by zero, sizes no microcontroller network has, image counts larger
 * than their split. Each is reported at the offending value when the recipe
 * is validated, not when a stage runs.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { recipeProblems } from "../helpers/recipe-problems.js";
import { createTestWorkspace, MINIMAL_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

/** The `path:line:col: message` lines of every problem, without source lines. */
async function problemLines(ws: TestWorkspace, overrides: string[] = []): Promise<string[]> {
  return (await recipeProblems(ws, overrides))
    .split("\n")
    .filter((line) => /^\S+( #\d+>)?:\d+:\d+: /.test(line));
}

/** MINIMAL_RECIPE with `lines` added under `dataset:`. */
function withDataset(lines: string): string {
  return MINIMAL_RECIPE.replace("  path: data\n", `  path: data\n${lines}`);
}

describe("values that cannot work", () => {
  let ws: TestWorkspace;
  let cwd: string;
  beforeEach(async () => {
    ws = await createTestWorkspace();
    cwd = process.cwd();
    process.chdir(ws.root);
  });
  afterEach(async () => {
    process.chdir(cwd);
    await ws.cleanup();
  });

  test("a normalisation std of 0 or below, at the item", async () => {
    await ws.write("recipes/test.yaml", withDataset("  normalization: { std: [0.2, 0, -0.1] }\n"));
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:5:31: dataset.normalization.std[1]: must be > 0",
      "recipes/test.yaml:5:34: dataset.normalization.std[2]: must be > 0",
    ]);
    await ws.write("recipes/test.yaml", withDataset("  normalization: { mean: [0.5, 0.5] }\n"));
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:5:26: dataset.normalization.mean: must list at least 3 values, got 2",
    ]);
  });

  test("absurd network and training sizes", async () => {
    await ws.write(
      "recipes/test.yaml",
      `${MINIMAL_RECIPE.replace("channels: 8", "channels: 1e9")}training: { supernas: { epochs: 1e9, batch_size: 100000 } }\n`,
    );
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:7:32: search_space.stages[0].channels: must be <= 4096",
      "recipes/test.yaml:12:33: training.supernas.epochs: must be <= 10000",
      "recipes/test.yaml:12:50: training.supernas.batch_size: must be <= 65536",
    ]);
    // In a list of choices, at the choice; every width-like field has its limit.
    await ws.write(
      "recipes/test.yaml",
      MINIMAL_RECIPE.replace(
        "- { block: mbv2, channels: 8 }",
        "- { block: mobilevit, channels: [8, 5000], embed_dim: 8192, heads: 128, depth: 33, mlp_ratio: 17 }",
      ),
    );
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:7:41: search_space.stages[0].channels[1]: must be <= 4096",
      "recipes/test.yaml:7:59: search_space.stages[0].embed_dim: must be <= 4096",
      "recipes/test.yaml:7:72: search_space.stages[0].heads: must be <= 64",
      "recipes/test.yaml:7:84: search_space.stages[0].depth: must be <= 32",
      "recipes/test.yaml:7:99: search_space.stages[0].mlp_ratio: must be <= 16",
    ]);
  });

  test("image counts larger than their split, from the limits", async () => {
    await ws.write(
      "recipes/test.yaml",
      `${withDataset("  train_limit: 100\n  test_limit: 20\n").replace(
        "calibration_images: 16",
        "calibration_images: 96",
      )}verification: { host_images: 21, target_images: 20 }\n`,
    );
    // 100 training images less about a tenth held out (round per class): at most 95.
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:13:23: quantization.calibration_images: 96 is more than the training split can hold: dataset.train_limit 100 keeps at most 100 training images, less those dataset.validation_fraction 0.1 (the default) holds out for validation: at most 95",
      "recipes/test.yaml:14:30: verification.host_images: 21 is more than the test split can hold: dataset.test_limit 20 keeps at most 20 test images",
    ]);
  });

  test("image counts larger than CIFAR-10 itself; --set counts too", async () => {
    assert.deepEqual(await problemLines(ws, ["quantization.evaluation_images=10001"]), [
      "<--set #1>:1:32: quantization.evaluation_images: 10001 is more than the test split can hold: CIFAR-10 has 10000 test images",
    ]);
  });

  test("a default count larger than a small split means all of it", async () => {
    // verification.host_images defaults to 100, search.recalibration_images to 256.
    await ws.write("recipes/test.yaml", withDataset("  train_limit: 40\n  test_limit: 8\n"));
    const loaded = await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
    assert.equal(loaded.recipe.verification.host_images, 100);
    // An image folder's split sizes are unknown without limits: nothing to check.
    await ws.write(
      "recipes/test.yaml",
      `${MINIMAL_RECIPE.replace("cifar10-binary", "image-folder")}verification: { host_images: 100000 }\n`,
    );
    await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
  });
});
