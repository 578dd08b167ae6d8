import assert from "node:assert/strict";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterEach, beforeEach, describe, test } from "node:test";
import { gcCache, verifyWorkspaceCache } from "../../src/api/cache.js";
import { openProject } from "../../src/api/project.js";
import { explainStage, projectStatus } from "../../src/api/status.js";
import { ObjectStore } from "../../src/graph-runner/object-store.js";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { createHarness } from "../helpers/pipeline-harness.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const CHAIN: FakeStageSpec[] = [
  { name: "a", configKeys: ["seed"], inputs: ["inputs/a.txt"] },
  { name: "b", upstream: ["a"], configKeys: ["quantization.calibration_images"] },
  { name: "c", upstream: ["b"] },
];

describe("cache maintenance and explanations", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace();
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  test("cache verify detects a corrupted object; --repair makes the next build redo it", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const store = new ObjectStore(project.workspace.cacheDir);
    const [entryB] = (await store.listEntries()).filter(({ entry }) => entry.stage === "b");
    const digest = entryB?.entry.outputs["result.txt"]?.digest;
    assert.ok(digest !== undefined);
    const objectPath = store.objectPath(digest);
    await chmod(objectPath, 0o644);
    await writeFile(objectPath, "bit rot");

    const report = await verifyWorkspaceCache(project.workspace, false);
    assert.deepEqual(report.corruptObjects, [digest]);
    assert.deepEqual(
      report.brokenEntries.map((broken) => broken.stage),
      ["b"],
    );
    const repaired = await verifyWorkspaceCache(project.workspace, true);
    assert.equal(repaired.repaired, true);
    assert.deepEqual((await verifyWorkspaceCache(project.workspace, false)).corruptObjects, []);
    const run = await harness.build();
    assert.deepEqual(run.ran, ["b"]);
    assert.equal(run.result.outcomes.c, "cached");
  });

  test("a hit needs every object: a deleted object turns the entry into a miss", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const store = new ObjectStore(project.workspace.cacheDir);
    const [entryA] = (await store.listEntries()).filter(({ entry }) => entry.stage === "a");
    await store.deleteObject(entryA?.entry.outputs["result.txt"]?.digest as never);
    const run = await harness.build();
    assert.deepEqual(run.ran, ["a"]);
    assert.equal(run.result.outcomes.b, "cached");
  });

  test("cache gc removes unreferenced objects and, with max-bytes, least recently used entries", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    await harness.build({ overrides: ["seed=2"] });
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const untouched = await gcCache(project.workspace);
    assert.equal(untouched.objectsRemoved, 0);
    const squeezed = await gcCache(project.workspace, { maxBytes: 0 });
    assert.equal(squeezed.entriesRemoved, 6);
    assert.equal(squeezed.bytesRemaining, 0);
    const run = await harness.build();
    assert.deepEqual(run.ran, ["a", "b", "c"]);
  });

  test("cache gc removes resume directories of finished keys, and with max-bytes every idle one", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const store = new ObjectStore(project.workspace.cacheDir);
    const [finished] = (await store.listEntries()).filter(({ entry }) => entry.stage === "b");
    assert.ok(finished);
    const resume = join(project.workspace.cacheDir, "resume", "b");
    const unfinished = "0".repeat(64);
    for (const key of [finished.entry.key, unfinished]) {
      await mkdir(join(resume, key), { recursive: true });
      await writeFile(join(resume, key, "state.json"), "{}");
    }
    const first = await gcCache(project.workspace);
    assert.equal(first.resumeDirsRemoved, 1);
    assert.deepEqual(await readdir(resume), [unfinished], "an interrupted run's state is kept");
    const squeezed = await gcCache(project.workspace, { maxBytes: 1_000_000_000 });
    assert.equal(squeezed.resumeDirsRemoved, 1);
    assert.deepEqual(await readdir(resume), []);
  });

  test("status and why name the first differing key component", async () => {
    const harness = createHarness(ws, CHAIN);
    const project = async (overrides: string[] = []) =>
      openProject({ cwd: ws.root, createStages: harness.createStages, overrides });
    assert.deepEqual(await projectStatus(await project()), {
      stages: [
        { name: "a", state: "never-built", reason: "never built" },
        { name: "b", state: "never-built", reason: "never built" },
        { name: "c", state: "never-built", reason: "never built" },
      ],
      outputs: { dir: "build/test", overrides: [], current: false },
    });
    await harness.build();
    const stale = await projectStatus(await project(["quantization.calibration_images=64"]));
    assert.deepEqual(stale.stages, [
      { name: "a", state: "fresh", reason: "up to date" },
      { name: "b", state: "stale", reason: "recipe key quantization.calibration_images: 16 → 64" },
      { name: "c", state: "stale", reason: "upstream b will run" },
    ]);
    const why = await explainStage(await project(["quantization.calibration_images=64"]), "c");
    assert.deepEqual(why.lines, [
      "c is stale: upstream b must run first, because:",
      "  first: recipe key quantization.calibration_images: 16 → 64",
      "(c's own key is known only once b's outputs are; if they come out identical, c stays cached)",
    ]);
    await ws.write("inputs/a.txt", "changed\n");
    const whyA = await explainStage(await project(), "a");
    assert.equal(whyA.lines[0], "a is stale:");
    assert.match(
      whyA.lines[1] ?? "",
      /^ {2}first: input file inputs\/a\.txt changed \([0-9a-f]{12} → [0-9a-f]{12}\)$/,
    );
    assert.deepEqual((await explainStage(await project(), "b")).state, "stale");
  });

  test("a key holding a map: status and why name the values inside it that changed", async () => {
    const harness = createHarness(ws, [
      { name: "supernas", configKeys: ["search_space", "training.supernas"] },
    ]);
    await harness.build();
    const overrides = [
      "search_space.stages.0.channels=[8, 16]",
      "search_space.stem.channels=[8, 16]",
      "training.supernas.epochs=3",
    ];
    const project = await openProject({
      cwd: ws.root,
      createStages: harness.createStages,
      overrides,
    });
    assert.deepEqual((await projectStatus(project)).stages, [
      {
        name: "supernas",
        state: "stale",
        reason:
          "recipe key search_space.stages[0].channels: 8 → [8,16] (and 1 more change in search_space)",
      },
    ]);
    assert.deepEqual((await explainStage(project, "supernas")).lines, [
      "supernas is stale:",
      "  first: recipe key search_space.stages[0].channels: 8 → [8,16] (and 1 more change in search_space)",
      "  also:  recipe key training.supernas.epochs: 10 → 3",
    ]);
  });
});
