import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { createHarness } from "../helpers/pipeline-harness.js";
import { waitFor } from "../helpers/run-cli-process.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

/*
 *   a (seed, inputs/a.txt) ─► b (quantization.calibration_images) ─► c
 *   d (sparsity.global_target, inputs/b.txt)
 */
const DIAMOND: FakeStageSpec[] = [
  { name: "a", configKeys: ["seed"], inputs: ["inputs/a.txt"] },
  { name: "b", upstream: ["a"], configKeys: ["quantization.calibration_images"] },
  { name: "c", upstream: ["b"] },
  { name: "d", configKeys: ["sparsity.global_target"], inputs: ["inputs/b.txt"] },
];

describe("graph runner", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace();
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  test("a second build with nothing changed runs nothing", async () => {
    const harness = createHarness(ws, DIAMOND);
    const first = await harness.build();
    assert.deepEqual(first.ran.sort(), ["a", "b", "c", "d"]);
    assert.equal(first.result.ok, true);
    const second = await harness.build();
    assert.deepEqual(second.ran, []);
    assert.deepEqual(Object.values(second.result.outcomes), [
      "cached",
      "cached",
      "cached",
      "cached",
    ]);
    assert.deepEqual(ws.invocations().sort(), ["a", "b", "c", "d"]);
  });

  test("a key only b reads reruns b and its dependents, nothing else", async () => {
    const harness = createHarness(ws, DIAMOND);
    await harness.build();
    await ws.write(
      "recipes/test.yaml",
      (await ws.read("recipes/test.yaml")).replace(
        "calibration_images: 16",
        "calibration_images: 32",
      ),
    );
    const run = await harness.build();
    assert.deepEqual(run.ran, ["b", "c"]);
    assert.equal(run.result.outcomes.a, "cached");
    assert.equal(run.result.outcomes.d, "cached");
  });

  test("a --set override invalidates like an edit, and reverting it hits the cache again", async () => {
    const harness = createHarness(ws, DIAMOND);
    await harness.build();
    assert.deepEqual((await harness.build({ overrides: ["sparsity.global_target=0.7"] })).ran, [
      "d",
    ]);
    assert.deepEqual((await harness.build()).ran, []);
  });

  test("an edited input file reruns the stages that declare it", async () => {
    const harness = createHarness(ws, DIAMOND);
    await harness.build();
    await ws.write("inputs/b.txt", "input b, edited\n");
    assert.deepEqual((await harness.build()).ran, ["d"]);
  });

  test("unchanged YAML in another key order gives the same keys", async () => {
    const harness = createHarness(ws, DIAMOND);
    await harness.build();
    const before = await harness.plan();
    await ws.write(
      "recipes/test.yaml",
      "quantization:\n  calibration_images: 16\nsparsity: { global_target: 0.5 }\nsearch_space:\n  stages: [{ channels: 8, block: mbv2 }]\ndataset: { path: data, format: cifar10-binary }\nseed: 1\n",
    );
    const after = await harness.plan();
    assert.deepEqual(
      after.map((p) => p.key),
      before.map((p) => p.key),
    );
    assert.ok(after.every((p) => p.action === "cached"));
    assert.ok(before.every((p) => p.key !== undefined && /^[0-9a-f]{64}$/.test(p.key)));
  });

  test("early cutoff: a rerun with identical outputs leaves downstream cached", async () => {
    const harness = createHarness(ws, [
      { name: "a", configKeys: ["seed"], output: "constant" },
      { name: "b", upstream: ["a"] },
    ]);
    await harness.build();
    const run = await harness.build({ overrides: ["seed=7"] });
    assert.deepEqual(run.ran, ["a"]);
    assert.equal(run.result.outcomes.b, "cached");
  });

  test("a stage that reads only some outputs of its upstream is cut off when only the others change", async () => {
    const stages = (select: boolean): FakeStageSpec[] => [
      { name: "a", configKeys: ["seed"], output: "constant", writeLog: true },
      { name: "b", upstream: ["a"], ...(select ? { upstreamOutputs: { a: ["result.txt"] } } : {}) },
    ];
    const selective = createHarness(ws, stages(true));
    await selective.build();
    // b sees only the output it declared.
    assert.doesNotMatch(await ws.read("build/test/b/result.txt"), /log\.txt/);
    assert.match(await ws.read("build/test/b/result.txt"), /upstream a\/result\.txt/);
    const edited = await selective.build({ overrides: ["seed=7"] });
    assert.deepEqual(edited.ran, ["a"], "log.txt changed, result.txt did not: b is cached");
    // Reading every output, the same edit reruns b.
    const everything = createHarness(ws, stages(false));
    await everything.build({ overrides: ["seed=8"] });
    const again = await everything.build({ overrides: ["seed=9"] });
    assert.deepEqual(again.ran, ["a", "b"]);
    await assert.rejects(
      createHarness(ws, [
        { name: "a" },
        { name: "b", upstream: [], upstreamOutputs: { a: ["result.txt"] } },
      ]).plan(),
      /stage "b" selects outputs of "a", which is not upstream of it/,
    );
  });

  test("a failed stage records nothing, skips its dependents and reruns next time", async () => {
    const failing = createHarness(ws, [
      { name: "a", fail: true, writePartialFirst: true },
      { name: "b", upstream: ["a"] },
      { name: "c" },
    ]);
    const run = await failing.build();
    assert.equal(run.result.ok, false);
    assert.deepEqual(run.result.outcomes, { a: "failed", b: "skipped", c: "built" });
    assert.equal(ws.exists("build/test/a/result.txt"), false);
    const fixed = createHarness(ws, [{ name: "a" }, { name: "b", upstream: ["a"] }, { name: "c" }]);
    const again = await fixed.build();
    assert.deepEqual(again.ran, ["a", "b"]);
    assert.doesNotMatch(await ws.read("build/test/a/result.txt"), /PARTIAL/);
  });

  test("cancelling a build aborts the running stage, records nothing and leaves no work dir", async () => {
    const harness = createHarness(ws, [
      { name: "slow", delayMs: 10_000, writePartialFirst: true },
      { name: "after", upstream: ["slow"] },
    ]);
    const controller = new AbortController();
    const pending = harness.build({ signal: controller.signal });
    await waitFor(() => ws.invocations().includes("slow"));
    const started = Date.now();
    controller.abort();
    const run = await pending;
    assert.ok(Date.now() - started < 2000, "cancellation is prompt");
    assert.deepEqual(run.result.outcomes, { slow: "cancelled", after: "skipped" });
    assert.equal(run.result.ok, false);
    assert.deepEqual(readdirSync(join(ws.root, ".tinyformer/cache/tmp")), []);
    assert.equal(ws.exists(".tinyformer/cache/entries/slow"), false);
  });

  test("--force reruns a cached stage; identical outputs keep dependents cached", async () => {
    const harness = createHarness(ws, DIAMOND);
    await harness.build();
    const run = await harness.build({ force: ["a"] });
    assert.deepEqual(run.ran, ["a"]);
    assert.equal(run.result.outcomes.b, "cached");
  });

  test("independent stages run concurrently up to jobs", async () => {
    const harness = createHarness(ws, [
      { name: "x", delayMs: 300 },
      { name: "y", delayMs: 300 },
    ]);
    const run = await harness.build({ jobs: 2 });
    const kinds = run.events
      .filter((e) => e.type === "stage-start" || e.type === "stage-done")
      .map((e) => e.type);
    assert.deepEqual(kinds, ["stage-start", "stage-start", "stage-done", "stage-done"]);
    const serial = createHarness(ws, [
      { name: "x", delayMs: 50 },
      { name: "y", delayMs: 50 },
    ]);
    const one = await serial.build({ jobs: 1, force: ["x", "y"] });
    const order = one.events
      .filter((e) => e.type === "stage-start" || e.type === "stage-done")
      .map((e) => e.type);
    assert.deepEqual(order, ["stage-start", "stage-done", "stage-start", "stage-done"]);
  });

  test("outputs are copied to build/<recipe>/<stage>/ and restored when a user deletes them", async () => {
    const harness = createHarness(ws, DIAMOND);
    await harness.build();
    const text = await ws.read("build/test/c/result.txt");
    assert.match(text, /upstream b\/result\.txt/);
    await ws.write("build/test/c/result.txt", "edited by hand");
    const run = await harness.build();
    assert.deepEqual(run.ran, []);
    assert.equal(await ws.read("build/test/c/result.txt"), text);
  });

  test("a stage without an implementation produces nothing and blocks nothing else", async () => {
    const harness = createHarness(ws, DIAMOND);
    const stages = harness.createStages();
    const withHole = stages.map((stage) =>
      stage.name === "b" ? { ...stage, run: undefined } : stage,
    );
    const { openProject } = await import("../../src/api/project.js");
    const { buildProject, planProject, renderDryRunJson } = await import("../../src/api/build.js");
    const project = await openProject({ cwd: ws.root, createStages: () => withHole });
    assert.deepEqual(renderDryRunJson(await planProject(project)), {
      stages: [
        { name: "a", action: "run", reason: "never built" },
        { name: "b", action: "not-implemented", reason: "not implemented yet" },
        { name: "c", action: "not-implemented", reason: "upstream b is not implemented yet" },
        { name: "d", action: "run", reason: "never built" },
      ],
    });
    const result = await buildProject(project);
    assert.deepEqual(result.outcomes, {
      a: "built",
      b: "not-implemented",
      c: "skipped",
      d: "built",
    });
    assert.equal(result.ok, true);
    assert.equal(ws.exists("build/test/b"), false);
  });

  test("a missing declared input fails its stage with the stage's own hint", async () => {
    const harness = createHarness(ws, [
      { name: "data", inputs: ["datasets/missing"], missingHint: "Download it first" },
      { name: "other" },
    ]);
    const run = await harness.build();
    assert.deepEqual(run.result.outcomes, { data: "failed", other: "built" });
    const failure = run.events.find((event) => event.type === "stage-failed");
    assert.deepEqual(failure, {
      type: "stage-failed",
      stage: "data",
      error:
        "stage data: input datasets/missing does not exist. Download it first (datasets/missing)",
    });
  });
});
