/**
 * Commands that train nothing never load TensorFlow.js (its import alone
 * costs hundreds of milliseconds). The training stages' keys include the
 * backend identity, which takes loading tfjs to learn, once: after that it is
 * memoised, and status, dry runs and no-op builds must not load it again.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import { createPipelineThrough } from "../../src/pipeline/pipeline.js";
import { packageRoot } from "../../src/project-paths.js";

const forbid = join(dirname(fileURLToPath(import.meta.url)), "..", "helpers", "forbid-imports.js");
const cli = join(packageRoot, "bin", "tinyformer.js");

test("the guard itself works: importing TensorFlow.js under it fails", () => {
  const result = spawnSync(
    process.execPath,
    ["--import", forbid, "--input-type=module", "-e", 'await import("@tensorflow/tfjs-core")'],
    { encoding: "utf8", cwd: packageRoot },
  );
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /forbidden import in this command: @tensorflow\/tfjs-core/);
});

describe("the real pipeline, dataset built, backend identity memoised", () => {
  let workspace: string;
  const run = (args: string[], withGuard = true) =>
    spawnSync(
      process.execPath,
      [...(withGuard ? ["--import", forbid] : []), cli, "-C", workspace, ...args],
      {
        encoding: "utf8",
      },
    );

  before(async () => {
    // A copy of the shipped workspace, with the dataset and space-search
    // stages built (fast; building everything would train) so supernas's key
    // is computable.
    workspace = await mkdtemp(join(tmpdir(), "tinyformer-lazy-"));
    for (const entry of ["tinyformer.yaml", "recipes", "boards", "data"]) {
      await cp(join(packageRoot, entry), join(workspace, entry), { recursive: true });
    }
    const project = await openProject({
      cwd: workspace,
      createStages: (options) => createPipelineThrough(options, "space-search"),
    });
    assert.equal((await buildProject(project)).ok, true);
    // The first status learns the backend (loading tfjs once) and memoises it.
    const warm = run(["status", "--json"], false);
    assert.equal(warm.status, 0, warm.stderr);
  });
  after(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  for (const args of [
    ["status", "--json"],
    ["build", "--dry-run=json"],
    ["graph", "--json"],
    ["validate"],
  ]) {
    test(`tinyformer ${args.join(" ")} does not load TensorFlow.js`, () => {
      const result = run(args);
      assert.equal(result.status, 0, result.stderr);
    });
  }

  test("the training stage's key is known without tfjs: supernas is never-built, not blocked", () => {
    const result = run(["status", "--json"]);
    const stages = (
      JSON.parse(result.stdout) as { stages: { name: string; state: string; reason: string }[] }
    ).stages;
    assert.deepEqual(stages[0], { name: "dataset", state: "fresh", reason: "up to date" });
    assert.deepEqual(stages[1], { name: "space-search", state: "fresh", reason: "up to date" });
    assert.deepEqual(stages[2], { name: "supernas", state: "never-built", reason: "never built" });
  });
});
