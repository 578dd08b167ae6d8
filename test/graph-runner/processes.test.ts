/** Behaviour that only shows across processes: kills, concurrent builds, stable keys. */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { runnerOptionsFor } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import { build } from "../../src/graph-runner/runner.js";
import { createRunnerContext } from "../../src/graph-runner/runner-context.js";
import { createFakeStages, type FakeStageSpec } from "../helpers/fake-stages.js";
import { runFakeCli, spawnFakeCli, waitFor } from "../helpers/run-cli-process.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const CHAIN: FakeStageSpec[] = [
  { name: "a", configKeys: ["seed"], inputs: ["inputs"] },
  { name: "b", upstream: ["a"], configKeys: ["quantization"] },
];

describe("builds in separate processes", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace();
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  test("keys are stable across processes: a second process finds everything cached", async () => {
    const first = await runFakeCli(ws, CHAIN, ["build"]);
    assert.equal(first.code, 0, first.stderr);
    const second = await runFakeCli(ws, CHAIN, ["build"]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(ws.invocations(), ["a", "b"]);
    assert.match(second.stdout, /cached\s+a/);
    const status = await runFakeCli(ws, CHAIN, ["status", "--json"]);
    assert.deepEqual(JSON.parse(status.stdout), {
      stages: [
        { name: "a", state: "fresh", reason: "up to date" },
        { name: "b", state: "fresh", reason: "up to date" },
      ],
      outputs: { dir: "build/test", overrides: [], current: true },
    });
  });

  test("SIGKILL mid-stage, then a build that succeeds and reuses nothing partial", async () => {
    const slow: FakeStageSpec[] = [
      { name: "a", delayMs: 60_000, writePartialFirst: true },
      { name: "b", upstream: ["a"] },
    ];
    const { child, done } = spawnFakeCli(ws, slow, ["build"]);
    await waitFor(() => ws.invocations().includes("a"));
    child.kill("SIGKILL");
    const killed = await done;
    assert.equal(killed.signal, "SIGKILL");
    assert.equal(ws.exists(".tinyformer/cache/entries/a"), false);

    const quick: FakeStageSpec[] = [
      { name: "a", writePartialFirst: false },
      { name: "b", upstream: ["a"] },
    ];
    const again = await runFakeCli(ws, quick, ["build"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(ws.invocations(), ["a", "a", "b"]);
    assert.doesNotMatch(await ws.read("build/test/a/result.txt"), /PARTIAL/);
    // The dead build's lock was broken, and gc removes its work directory.
    assert.deepEqual(readdirSync(join(ws.root, ".tinyformer/cache/locks")), []);
    const gc = await runFakeCli(ws, quick, ["cache", "gc"]);
    assert.match(gc.stdout, /1 leftover work dirs/);
    assert.deepEqual(readdirSync(join(ws.root, ".tinyformer/cache/tmp")), []);
  });

  test("two concurrent builds of one workspace run each stage once and agree", async () => {
    const slow: FakeStageSpec[] = [
      { name: "a", delayMs: 800 },
      { name: "b", upstream: ["a"], delayMs: 300 },
      { name: "c", delayMs: 300 },
    ];
    const [one, two] = await Promise.all([
      runFakeCli(ws, slow, ["build"]),
      runFakeCli(ws, slow, ["build"]),
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(ws.invocations().sort(), ["a", "b", "c"]);
    assert.match(one.stdout + two.stdout, /waiting\s+a/);
    const verify = await runFakeCli(ws, slow, ["cache", "verify"]);
    assert.equal(verify.code, 0);
    assert.match(verify.stdout, /checked 3 objects: all intact/);
  });

  test("a no-op build reads no unchanged input bytes (stat memo)", async () => {
    for (const name of ["a.txt", "b.txt"]) {
      const old = new Date(Date.now() - 60_000);
      await utimes(join(ws.root, "inputs", name), old, old);
    }
    const createStages = () => createFakeStages({ stages: CHAIN, logFile: ws.logFile });
    const project = await openProject({ cwd: ws.root, createStages });
    const firstContext = await createRunnerContext(project.workspace.cacheDir);
    await build(runnerOptionsFor(project, firstContext, {}));
    assert.ok(firstContext.memo.hashedFiles >= 2);
    const secondContext = await createRunnerContext(project.workspace.cacheDir);
    const result = await build(runnerOptionsFor(project, secondContext, {}));
    assert.deepEqual(result.outcomes, { a: "cached", b: "cached" });
    assert.equal(secondContext.memo.hashedFiles, 0);
  });
});
