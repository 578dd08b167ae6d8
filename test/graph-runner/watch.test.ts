import assert from "node:assert/strict";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { watchProject } from "../../src/api/watch.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import type { WatchEvent } from "../../src/graph-runner/watch.js";
import { createFakeStages, type FakeStageSpec } from "../helpers/fake-stages.js";
import { waitFor } from "../helpers/run-cli-process.js";
import { createTestWorkspace, MINIMAL_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

type Event = BuildEvent | WatchEvent;

function startWatch(ws: TestWorkspace, stages: FakeStageSpec[]) {
  const events: Event[] = [];
  const controller = new AbortController();
  const done = watchProject({
    cwd: ws.root,
    createStages: () => createFakeStages({ stages, logFile: ws.logFile }),
    signal: controller.signal,
    onEvent: (event) => events.push(event),
    debounceMs: 100,
  });
  const count = (type: Event["type"]) => events.filter((event) => event.type === type).length;
  return {
    events,
    count,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("watch mode", () => {
  let ws: TestWorkspace;
  let watch: ReturnType<typeof startWatch> | undefined;
  beforeEach(async () => {
    ws = await createTestWorkspace();
  });
  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await ws.cleanup();
  });

  test("rebuilds on an input edit, once per atomic save, and ignores output and cache writes", async () => {
    watch = startWatch(ws, [
      { name: "a", inputs: ["inputs/a.txt"] },
      { name: "b", upstream: ["a"] },
    ]);
    const w = watch;
    await waitFor(() => w.count("watch-idle") === 1);
    assert.deepEqual(ws.invocations(), ["a", "b"]);

    await ws.write("build/test/a/extra.txt", "written by someone into the outputs");
    await ws.write(".tinyformer/cache/scribble.txt", "written into the cache");
    await sleep(600);
    assert.equal(w.count("build-start"), 1, "output and cache writes trigger nothing");

    // An editor's atomic save: write a temp file, rename it over the original.
    const temp = join(ws.root, "inputs", ".a.txt.swp");
    await writeFile(temp, "input a, saved atomically\n");
    await rename(temp, join(ws.root, "inputs", "a.txt"));
    await waitFor(() => w.count("watch-idle") === 2);
    await sleep(400);
    assert.equal(w.count("build-start"), 2, "one save, one rebuild");
    assert.deepEqual(ws.invocations(), ["a", "b", "a", "b"]);
  });

  test("an invalid edit prints its problems and keeps watching; the fix rebuilds", async () => {
    watch = startWatch(ws, [{ name: "a", configKeys: ["seed"] }]);
    const w = watch;
    await waitFor(() => w.count("watch-idle") === 1);
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE.replace("seed: 1", "seed: -4"));
    await waitFor(() => w.count("watch-invalid") === 1);
    const invalid = w.events.find((event) => event.type === "watch-invalid");
    assert.match(
      (invalid as Extract<WatchEvent, { type: "watch-invalid" }>).problems[0] ?? "",
      /recipes\/test\.yaml:1:7: seed: must be >= 0/,
    );
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE.replace("seed: 1", "seed: 4"));
    await waitFor(() => w.count("watch-idle") === 2);
    assert.deepEqual(ws.invocations(), ["a", "a"]);
  });

  test("an edit cancels the affected running stage and restarts it; unaffected work continues", async () => {
    watch = startWatch(ws, [
      { name: "slow-a", inputs: ["inputs/a.txt"], delayMs: 2500 },
      { name: "after-a", upstream: ["slow-a"] },
      { name: "slow-b", inputs: ["inputs/b.txt"], delayMs: 1500 },
    ]);
    const w = watch;
    await waitFor(() => ws.invocations().includes("slow-a") && ws.invocations().includes("slow-b"));
    await ws.write("inputs/a.txt", "edited while slow-a runs\n");
    await waitFor(() => w.count("watch-idle") >= 1, 20_000);
    const cancelled = w.events.flatMap((event) =>
      event.type === "stage-cancelled" ? [event.stage] : [],
    );
    assert.deepEqual(cancelled, ["slow-a"]);
    const restart = w.events.find((event) => event.type === "watch-restart");
    assert.deepEqual((restart as Extract<WatchEvent, { type: "watch-restart" }>).cancelled, [
      "slow-a",
      "after-a",
    ]);
    const runs = ws.invocations();
    assert.equal(runs.filter((name) => name === "slow-a").length, 2, "slow-a restarted");
    assert.equal(runs.filter((name) => name === "slow-b").length, 1, "slow-b was not interrupted");
    assert.equal(
      runs.filter((name) => name === "after-a").length,
      1,
      "after-a ran once, on the new input",
    );
    assert.match(await ws.read("build/test/after-a/result.txt"), /edited while slow-a runs/);
  });
});
