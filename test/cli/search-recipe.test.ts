/**
 * A recipe with choices (a search) through every command that reads a
 * recipe without training: validate, status, build --dry-run, graph, why and
 * watch start-up. And a choice that cannot be built: exit code 2 from each,
 * at its position, nothing built; watch reports it and keeps watching.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { watchProject } from "../../src/api/watch.js";
import { missingCifar10Message } from "../../src/datasets/cifar10-binary.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import type { WatchEvent } from "../../src/graph-runner/watch.js";
import { runCliIn } from "../helpers/cli-in-process.js";
import { createFakeStages, type FakeStageSpec } from "../helpers/fake-stages.js";
import { waitFor } from "../helpers/run-cli-process.js";
import {
  createTestWorkspace,
  MINIMAL_RECIPE,
  SEARCH_RECIPE,
  type TestWorkspace,
} from "../helpers/workspace.js";

const STAGES: FakeStageSpec[] = [
  { name: "supernas", configKeys: ["search_space", "training.supernas"] },
  { name: "sparsenas", upstream: ["supernas"], configKeys: ["sparsity", "search"] },
];

/** SEARCH_RECIPE with an embed_dim choice that 4 heads cannot split. */
const UNBUILDABLE = SEARCH_RECIPE.replace("embed_dim: [32, 48]", "embed_dim: [30, 48]");
const UNBUILDABLE_PROBLEM =
  "recipes/test.yaml:12:19: search_space.stages[2].embed_dim[0]: 30 is not divisible by heads 4 (every embed_dim choice must be divisible by every heads choice)";

type Event = BuildEvent | WatchEvent;

function startWatch(ws: TestWorkspace, stages: FakeStageSpec[] | null) {
  const events: Event[] = [];
  const controller = new AbortController();
  const done = watchProject({
    cwd: ws.root,
    ...(stages ? { createStages: () => createFakeStages({ stages, logFile: ws.logFile }) } : {}),
    signal: controller.signal,
    onEvent: (event) => events.push(event),
    debounceMs: 100,
  });
  return {
    events,
    count: (type: Event["type"]) => events.filter((event) => event.type === type).length,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describe("a recipe with choices", () => {
  let ws: TestWorkspace;
  let watch: ReturnType<typeof startWatch> | undefined;
  beforeEach(async () => {
    ws = await createTestWorkspace(SEARCH_RECIPE);
  });
  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await ws.cleanup();
  });

  test("validate, status, build --dry-run, graph and why: the real pipeline plans it like a fixed network", async () => {
    const validate = await runCliIn(ws, ["validate", "recipes/test.yaml"], null);
    assert.equal(validate.code, 0, validate.err);
    assert.equal(validate.out, "1 file(s) valid: recipes/test.yaml (recipe)");

    const search = {
      status: await runCliIn(ws, ["status", "--json"], null),
      dryRun: await runCliIn(ws, ["build", "--dry-run=json"], null),
      graph: await runCliIn(ws, ["graph", "--json"], null),
      why: await runCliIn(ws, ["why", "sparsenas"], null),
      set: await runCliIn(
        ws,
        ["status", "--json", "--set", "search_space.stem.channels=[4, 8]"],
        null,
      ),
    };
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE);
    const fixed = {
      status: await runCliIn(ws, ["status", "--json"], null),
      dryRun: await runCliIn(ws, ["build", "--dry-run=json"], null),
      graph: await runCliIn(ws, ["graph", "--json"], null),
      why: await runCliIn(ws, ["why", "sparsenas"], null),
      set: await runCliIn(ws, ["status", "--json"], null),
    };
    for (const [command, run] of Object.entries(search)) {
      assert.equal(run.code, 0, `${command}: ${run.err}`);
      assert.equal(run.err, "", command);
      assert.deepEqual(run.out, fixed[command as keyof typeof fixed].out, command);
    }
    const status = JSON.parse(search.status.out) as { stages: { name: string; reason: string }[] };
    assert.equal(status.stages.length, 12);
    assert.deepEqual(status.stages[0], {
      name: "dataset",
      state: "never-built",
      reason: `stage dataset: input data does not exist. ${missingCifar10Message("data", "data_batch_1.bin")}`,
    });
    assert.equal(search.why.out, "sparsenas has never been built for this recipe");
    assert.deepEqual(ws.invocations(), []);
  });

  test("a choice that cannot be built: exit 2 from every command, at its position, nothing built", async () => {
    await ws.write("recipes/test.yaml", UNBUILDABLE);
    for (const args of [
      ["validate"],
      ["build"],
      ["build", "--dry-run"],
      ["status"],
      ["why", "supernas"],
      ["graph"],
    ]) {
      const run = await runCliIn(ws, args, STAGES);
      assert.equal(run.code, 2, args.join(" "));
      const located = run.err.split("\n").filter((line) => /^[^ |]+:\d+:\d+: /.test(line));
      assert.deepEqual(located, [UNBUILDABLE_PROBLEM], args.join(" "));
    }
    assert.deepEqual(ws.invocations(), []);
    assert.equal(ws.exists(".tinyformer/cache/entries"), false);
  });

  test("watch starts on it with the real pipeline: the build runs as far as the data allows", async () => {
    watch = startWatch(ws, null);
    const w = watch;
    await waitFor(() => w.count("watch-idle") === 1, 30_000);
    assert.equal(w.count("watch-invalid"), 0);
    assert.equal(w.count("build-start"), 1);
    // The test workspace has no dataset: that is the only failure, the rest is skipped.
    const failed = w.events.flatMap((event) => (event.type === "stage-failed" ? [event] : []));
    assert.deepEqual(
      failed.map((event) => event.stage),
      ["dataset"],
    );
    assert.match(failed[0]?.error ?? "", /data_batch_1\.bin/);
  });

  test("watch reports a choice that cannot be built at its position, keeps watching, and builds the fix", async () => {
    await ws.write("recipes/test.yaml", UNBUILDABLE);
    watch = startWatch(ws, STAGES);
    const w = watch;
    await waitFor(() => w.count("watch-invalid") === 1);
    const invalid = w.events.find((event) => event.type === "watch-invalid");
    assert.deepEqual(
      (invalid as Extract<WatchEvent, { type: "watch-invalid" }>).problems.map((problem) =>
        problem.split("\n")[0]?.replaceAll(`${ws.root}/`, ""),
      ),
      [UNBUILDABLE_PROBLEM],
    );
    assert.equal(w.count("build-start"), 0);

    await ws.write("recipes/test.yaml", SEARCH_RECIPE);
    await waitFor(() => w.count("watch-idle") === 1);
    assert.deepEqual(ws.invocations(), ["supernas", "sparsenas"]);

    await ws.write("recipes/test.yaml", UNBUILDABLE.replace("  parents: 2\n", "  parents: 9\n"));
    await waitFor(() => w.count("watch-invalid") === 2);
    const second = w.events.filter((event) => event.type === "watch-invalid")[1];
    assert.equal(
      (second as Extract<WatchEvent, { type: "watch-invalid" }>).problems.length,
      2,
      "both problems of the edit, at once",
    );
    assert.deepEqual(ws.invocations(), ["supernas", "sparsenas"], "nothing rebuilt");
  });
});
