import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CONFIG_MEMO_DIR, loadProjectConfig } from "../../src/config/project-config.js";
import { packageRoot } from "../../src/project-paths.js";
import { createTestWorkspace, MINIMAL_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

const forbid = join(dirname(fileURLToPath(import.meta.url)), "..", "helpers", "forbid-imports.js");

/** `tinyformer status` in a child process in which importing the YAML parser is an error. */
function statusWithoutYaml(ws: TestWorkspace) {
  return spawnSync(
    process.execPath,
    [
      "--import",
      forbid,
      join(packageRoot, "bin", "tinyformer.js"),
      "-C",
      ws.root,
      "status",
      "--json",
    ],
    {
      encoding: "utf8",
      env: { ...process.env, TINYFORMER_FORBID_IMPORTS: "yaml" },
    },
  );
}

describe("configuration memo", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace();
    const old = new Date(Date.now() - 3_600_000);
    for (const file of ["tinyformer.yaml", "recipes/test.yaml", "boards/stm32f746.yaml"]) {
      await utimes(join(ws.root, file), old, old);
    }
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  test("unchanged files: the next command answers from the memo without parsing YAML", async () => {
    const first = await loadProjectConfig({ cwd: ws.root, overrides: [] });
    assert.equal(first.recipe.recipe.seed, 1);
    assert.equal(readdirSync(join(ws.root, CONFIG_MEMO_DIR)).length, 1);
    const result = statusWithoutYaml(ws);
    assert.equal(result.status, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { stages: unknown[] }).stages.length, 12);
  });

  test("an edit is never answered from the memo, and a just-edited file is re-read until it ages", async () => {
    await loadProjectConfig({ cwd: ws.root, overrides: [] });
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE.replace("seed: 1", "seed: 2"));
    // "Just edited" however slowly this test runs: a modification time ahead of the clock.
    const soon = new Date(Date.now() + 60_000);
    await utimes(join(ws.root, "recipes/test.yaml"), soon, soon);
    const edited = await loadProjectConfig({ cwd: ws.root, overrides: [] });
    assert.equal(edited.recipe.recipe.seed, 2);
    // Written within the racy margin: not memoised, so the child must parse YAML (and fails under the guard).
    const result = statusWithoutYaml(ws);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /forbidden import in this command: yaml/);
  });

  test("--set overrides and the recipe argument have memos of their own", async () => {
    const plain = await loadProjectConfig({ cwd: ws.root, overrides: [] });
    const overridden = await loadProjectConfig({ cwd: ws.root, overrides: ["seed=9"] });
    const named = await loadProjectConfig({
      cwd: ws.root,
      recipe: "recipes/test.yaml",
      overrides: [],
    });
    assert.deepEqual(
      [plain.recipe.recipe.seed, overridden.recipe.recipe.seed, named.recipe.recipe.seed],
      [1, 9, 1],
    );
    assert.equal(readdirSync(join(ws.root, CONFIG_MEMO_DIR)).length, 3);
    assert.equal(
      (await loadProjectConfig({ cwd: ws.root, overrides: ["seed=9"] })).recipe.recipe.seed,
      9,
    );
  });
});
