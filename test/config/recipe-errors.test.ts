/** Every problem in a configuration file is reported at its exact line and column, all at once. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { ConfigError, renderDiagnostic } from "../../src/config/diagnostic.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { loadWorkspace } from "../../src/config/load-workspace.js";
import { recipeProblems } from "../helpers/recipe-problems.js";
import { createTestWorkspace, MINIMAL_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

describe("configuration errors", () => {
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

  test("broken YAML syntax", async () => {
    await ws.write(
      "recipes/test.yaml",
      "seed: 1\ndataset: { format: cifar10-binary, path: data\nsearch_space: {}\n",
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:3:1: Flow map in block collection must be sufficiently indented and end with a }",
        "3 | search_space: {}",
        "    ^",
      ].join("\n"),
    );
  });

  test("duplicate keys", async () => {
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}seed: 2\n`);
    assert.equal(
      await recipeProblems(ws),
      ["recipes/test.yaml:12:1: Map keys must be unique", "12 | seed: 2", "     ^"].join("\n"),
    );
  });

  test("schema violations: every one, at its key or value", async () => {
    await ws.write(
      "recipes/test.yaml",
      [
        "seed: -1",
        "dataset:",
        "  formt: cifar10-binary",
        "  path: data",
        "search_space:",
        "  stages:",
        "    - { block: mbv3, channels: 8 }",
        "    - { block: resnet }",
        "sparsity:",
        "  global_target: 1.5",
        "  block_sizes: [4, 3]",
        "",
      ].join("\n"),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:1:7: seed: must be >= 0",
        "1 | seed: -1",
        "          ^~",
        'recipes/test.yaml:2:1: dataset: missing required key "format"',
        "2 | dataset:",
        "    ^~~~~~~",
        'recipes/test.yaml:3:3: dataset: unknown key "formt" (did you mean "format"?)',
        "3 |   formt: cifar10-binary",
        "      ^~~~~",
        'recipes/test.yaml:7:16: search_space.stages[0].block: must be one of "mbv2", "resnet", "mobilevit", got "mbv3"',
        "7 |     - { block: mbv3, channels: 8 }",
        "                   ^~~~",
        'recipes/test.yaml:8:7: search_space.stages[1]: missing required key "channels"',
        "8 |     - { block: resnet }",
        "          ^~~~~~~~~~~~~~~~~",
        "recipes/test.yaml:10:18: sparsity.global_target: must be <= 0.99",
        "10 |   global_target: 1.5",
        "                      ^~~",
        "recipes/test.yaml:11:20: sparsity.block_sizes[1]: must be one of 1, 4, 8, 16, got 3",
        "11 |   block_sizes: [4, 3]",
        "                        ^",
      ].join("\n"),
    );
  });

  test("--set overrides are validated and located in the argument", async () => {
    assert.equal(
      await recipeProblems(ws, [
        "seed=3",
        "sparsity.global_target=high",
        "sparsty.x=1",
        "noequals",
      ]),
      [
        '<--set #2>:1:24: sparsity.global_target: must be number, got string "high"',
        "1 | sparsity.global_target=high",
        "                           ^~~~",
        '<--set #3>:1:1: unknown key "sparsty" (did you mean "sparsity"?)',
        "1 | sparsty.x=1",
        "    ^~~~~~~",
        "<--set #4>:1:1: expected KEY=VALUE, e.g. seed=3",
        "1 | noequals",
        "    ^~~~~~~~",
      ].join("\n"),
    );
  });

  test("a value or a list of choices: only what applies to the kind given is reported", async () => {
    await ws.write(
      "recipes/test.yaml",
      [
        "dataset: { format: cifar10-binary, path: data }",
        "search_space:",
        "  stem: { channels: [] }",
        "  stages:",
        "    - { block: mbv2, channels: [8, 0], kernel_size: [3, 3], depth: abc }",
        "sparsity: { global_target: [], block_sizes: [] }",
        "",
      ].join("\n"),
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:3:21: search_space.stem.channels: an empty list of choices: give one value, or list the values to choose from",
        "3 |   stem: { channels: [] }",
        "                        ^~",
        "recipes/test.yaml:5:36: search_space.stages[0].channels[1]: must be >= 1",
        "5 |     - { block: mbv2, channels: [8, 0], kernel_size: [3, 3], depth: abc }",
        "                                       ^",
        "recipes/test.yaml:5:57: search_space.stages[0].kernel_size[1]: 3 is already listed (at [0]); list each value once",
        "5 |     - { block: mbv2, channels: [8, 0], kernel_size: [3, 3], depth: abc }",
        "                                                            ^",
        'recipes/test.yaml:5:68: search_space.stages[0].depth: must be integer, got string "abc"',
        "5 |     - { block: mbv2, channels: [8, 0], kernel_size: [3, 3], depth: abc }",
        "                                                                       ^~~",
        "recipes/test.yaml:6:28: sparsity.global_target: an empty list of choices: give one value, or list the values to choose from",
        "6 | sparsity: { global_target: [], block_sizes: [] }",
        "                               ^~",
        "recipes/test.yaml:6:45: sparsity.block_sizes: must list at least 1 value, got 0",
        "6 | sparsity: { global_target: [], block_sizes: [] }",
        "                                                ^~",
      ].join("\n"),
    );
  });

  test("a list from --set or a recipe replaces the list below it: its items are located there", async () => {
    await ws.write(
      "recipes/base.yaml",
      "dataset: { format: cifar10-binary, path: data }\nsparsity: { block_sizes: [1, 4, 8, 16] }\n",
    );
    await ws.write(
      "recipes/test.yaml",
      "extends: base.yaml\nsearch_space: { stages: [{ block: mbv2, channels: 8 }] }\nsparsity: { block_sizes: [4, 8, 2] }\n",
    );
    // The item is in the recipe's list, not in the base's (where [2] is 8).
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:3:33: sparsity.block_sizes[2]: must be one of 1, 4, 8, 16, got 2",
        "3 | sparsity: { block_sizes: [4, 8, 2] }",
        "                                    ^",
      ].join("\n"),
    );
    // The --set list replaces the recipe's: its item [1] is the 3 in the argument.
    assert.equal(
      await recipeProblems(ws, ["sparsity.block_sizes=[4, 3]"]),
      [
        "<--set #1>:1:26: sparsity.block_sizes[1]: must be one of 1, 4, 8, 16, got 3",
        "1 | sparsity.block_sizes=[4, 3]",
        "                             ^",
      ].join("\n"),
    );
  });

  test("extends: keys merge, and a problem in the base is reported in the base file", async () => {
    await ws.write(
      "recipes/base.yaml",
      "seed: 5\ndataset: { format: image-folder, path: imgs }\nquantization: { calibration_images: 0 }\n",
    );
    await ws.write(
      "recipes/test.yaml",
      "extends: base.yaml\ndataset: { path: data }\nsearch_space: { stages: [{ block: mbv2, channels: 8 }] }\n",
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/base.yaml:3:37: quantization.calibration_images: must be >= 1",
        "3 | quantization: { calibration_images: 0 }",
        "                                        ^",
      ].join("\n"),
    );
    await ws.write("recipes/base.yaml", "seed: 5\ndataset: { format: image-folder, path: imgs }\n");
    const loaded = await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
    assert.equal(loaded.recipe.seed, 5);
    assert.equal(loaded.recipe.dataset.format, "image-folder");
    assert.equal(loaded.recipe.dataset.path, "data");
    assert.deepEqual(
      loaded.configFiles.map((f) => f.replace(`${ws.root}/`, "")),
      ["recipes/test.yaml", "recipes/base.yaml", "boards/stm32f746.yaml"],
    );
  });

  test("extends cycles and missing parents point at the extends value", async () => {
    await ws.write("recipes/test.yaml", `extends: other.yaml\n${MINIMAL_RECIPE}`);
    await ws.write("recipes/other.yaml", "extends: test.yaml\n");
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/other.yaml:1:10: extends: cycle (recipes/test.yaml → recipes/other.yaml → test.yaml)",
        "1 | extends: test.yaml",
        "             ^~~~~~~~~",
      ].join("\n"),
    );
    await ws.write("recipes/test.yaml", `extends: missing.yaml\n${MINIMAL_RECIPE}`);
    assert.match(
      await recipeProblems(ws),
      /^recipes\/test\.yaml:1:10: extends: cannot read .*missing\.yaml$/m,
    );
  });

  test("a missing board profile is reported at the board key", async () => {
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}board: stm32h7\n`);
    assert.equal(
      (await recipeProblems(ws)).split("\n")[0]?.replace(/profile \S*boards/, "profile boards"),
      "recipes/test.yaml:12:8: board: cannot read board profile boards/stm32h7.yaml (a name means boards/<name>.yaml in the workspace)",
    );
  });

  test("board profiles and the workspace file are validated with positions too", async () => {
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}board: tiny\n`);
    await ws.write(
      "boards/tiny.yaml",
      "name: tiny\ncore: cortex-m7\nclock_hz: 1000\nmemory: { flash: { origin: 0, size_bytes: 10 } }\ncompiler: { cflags: [] }\nemulator: { machine: m, cpu: c, code: { origin: 0, size_bytes: 1 }, ram: { origin: 0, size_bytes: 1 } }\n",
    );
    assert.equal(
      await recipeProblems(ws),
      [
        "boards/tiny.yaml:3:11: clock_hz: must be >= 1000000",
        "3 | clock_hz: 1000",
        "              ^~~~",
        'boards/tiny.yaml:4:1: memory: missing required key "sram"',
        "4 | memory: { flash: { origin: 0, size_bytes: 10 } }",
        "    ^~~~~~",
      ].join("\n"),
    );
    await ws.write("tinyformer.yaml", "jobs: 0\ncache: x\n");
    await assert.rejects(loadWorkspace(ws.root), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.diagnostics.map((d) => renderDiagnostic(d).split("\n")[0]),
        [
          "tinyformer.yaml:1:7: jobs: must be >= 1",
          'tinyformer.yaml:2:1: unknown key "cache" (expected one of: default_recipe, cache_dir, output_dir, jobs, backend, search_workers, training_workers, evaluation_workers, executor, remote_cache)',
        ],
      );
      return true;
    });
  });

  test("defaults are applied and documented values come back typed", async () => {
    const loaded = await loadRecipe(ws.recipe, {
      workspaceRoot: ws.root,
      overrides: ["sparsity.block_sizes=[4, 8]"],
    });
    assert.deepEqual(loaded.recipe.sparsity.block_sizes, [4, 8]);
    assert.equal(loaded.recipe.training.supernas.epochs, 10);
    assert.equal(loaded.recipe.dataset.input_resolution_px, 32);
    assert.equal(loaded.board.memory.flash.origin, 0x08000000);
    assert.equal(loaded.board.memory.sram.size_bytes, 327680);
    assert.equal(loaded.name, "test");
  });

  test("a driver flag that YAML split at its comma is reported at the flag", async () => {
    const board = (await ws.read("boards/stm32f746.yaml")).replace(
      'ldflags: ["-Wl,--gc-sections"]',
      "ldflags: [-Wl,--gc-sections]",
    );
    await ws.write("boards/stm32f746.yaml", board);
    const line = board.split("\n").findIndex((l) => l.includes("ldflags")) + 1;
    assert.equal(
      (await recipeProblems(ws)).split("\n")[0],
      `boards/stm32f746.yaml:${line}:13: compiler.ldflags[0]: "-Wl" alone: YAML split a flag at its comma; quote it, e.g. ["-Wl,--gc-sections"]`,
    );
  });
});
