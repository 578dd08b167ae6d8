/**
 * A tiny SparseNAS search run through the queue by two `tinyformer worker`
 * processes chooses the same candidate and writes the same bytes as the
 * local executor for the same seed; its progress names the workers. The
 * workspace's `executor` key is checked like every other (file:line:col),
 * and a build pointed at a Redis that is not there fails within seconds,
 * naming the URL.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import { ConfigError, renderDiagnostic } from "../../src/config/diagnostic.js";
import { loadWorkspace } from "../../src/config/load-workspace.js";
import type { StageDefinition } from "../../src/graph-runner/stage.js";
import { createPipelineThrough } from "../../src/pipeline/pipeline.js";
import {
  needsRedis,
  QUEUE_SEARCH_RECIPE,
  type RedisServer,
  startRedis,
  startWorkerProcess,
  type WorkerProcess,
  waitForExit,
} from "../helpers/redis.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const pipeline = (options: Parameters<typeof createPipelineThrough>[0]) => (): StageDefinition[] =>
  createPipelineThrough(options, "sparsenas");

describe("the workspace's executor key", () => {
  test("an unknown executor is a positioned error", async () => {
    const ws = await createTestWorkspace(QUEUE_SEARCH_RECIPE);
    try {
      await ws.write("tinyformer.yaml", "default_recipe: recipes/test.yaml\nexecutor: cluster\n");
      await assert.rejects(loadWorkspace(ws.root), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const shown = error.diagnostics.map(renderDiagnostic).join("\n");
        assert.match(shown, /tinyformer\.yaml:2:11/);
        assert.match(shown, /local|queue/);
        return true;
      });
      await ws.write("tinyformer.yaml", "default_recipe: recipes/test.yaml\nexecutor: queue\n");
      assert.equal((await loadWorkspace(ws.root)).config.executor, "queue");
    } finally {
      await ws.cleanup();
    }
  });
});

describe("a search through the queue", { skip: needsRedis }, () => {
  let ws: TestWorkspace;
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];
  before(async () => {
    ws = await createTestWorkspace(QUEUE_SEARCH_RECIPE);
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.kill9()));
    await redis?.stop();
    await ws?.cleanup();
  });

  test("two workers choose the same candidate and write the same bytes as the local executor", async () => {
    const local = await buildProject(
      await openProject({ cwd: ws.root, createStages: pipeline({ backend: "wasm" }) }),
    );
    assert.equal(local.outcomes.sparsenas, "built");
    const read = (file: string) => readFileSync(join(ws.root, "build/test/sparsenas", file));
    const expected = ["search-log.jsonl", "candidate.json", "sparsenas.json"].map(read);

    const url = redis.url(1);
    workers.push(
      ...(await Promise.all(
        ["w1", "w2"].map((name) => startWorkerProcess(url, { name, concurrency: 1 })),
      )),
    );
    const queueLines: Record<string, unknown>[] = [];
    const queued = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: pipeline({ backend: "wasm", searchExecutor: "queue", redisUrl: url }),
      }),
      {
        force: ["sparsenas"],
        onEvent: (event) => {
          if (event.type === "stage-progress" && event.data?.queue !== undefined)
            queueLines.push(event.data.queue as Record<string, unknown>);
        },
      },
    );
    assert.equal(queued.outcomes.sparsenas, "built");
    assert.deepEqual(
      ["search-log.jsonl", "candidate.json", "sparsenas.json"].map(read),
      expected,
      "the same bytes as the local search",
    );
    const ran = workers.flatMap((worker) => worker.ran());
    assert.ok(ran.length > 0);
    assert.ok(
      workers.every((worker) => worker.ran().length > 0),
      "both workers assessed candidates",
    );
    const last = queueLines.at(-1) as { queued: number; running: number; workers: object };
    assert.ok(last, "queue progress in the events");
    assert.deepEqual(Object.keys(last.workers).sort(), ["w1", "w2"]);
  });

  test("kill -9 of a worker in the middle of an assessment: the build still succeeds with the same bytes", async () => {
    const read = (file: string) => readFileSync(join(ws.root, "build/test/sparsenas", file));
    const expected = ["search-log.jsonl", "candidate.json"].map(read);
    // A fresh database: no finished jobs to reuse, every candidate runs again.
    const url = redis.url(2);
    const pool = await Promise.all(
      ["v1", "v2"].map((name) => startWorkerProcess(url, { name, lockMs: 1000 })),
    );
    workers.push(...pool);
    const [victim] = pool;
    assert.ok(victim);
    const build = openProject({
      cwd: ws.root,
      createStages: pipeline({ backend: "wasm", searchExecutor: "queue", redisUrl: url }),
    }).then((project) => buildProject(project, { force: ["sparsenas"] }));
    // Its first job loads the supernet in the sandbox: killed during that.
    await victim.waitFor(/: running assess-/, 60_000);
    const sandboxes = victim.sandboxPids();
    await victim.kill9();
    const result = await build;
    assert.equal(result.outcomes.sparsenas, "built");
    assert.deepEqual(["search-log.jsonl", "candidate.json"].map(read), expected);
    assert.deepEqual(await waitForExit(sandboxes, 5000), [], "no orphaned sandbox");
  });

  test("a Redis that is not there fails the search within seconds, naming the URL", async () => {
    const failures: string[] = [];
    const started = Date.now();
    const result = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: pipeline({
          backend: "wasm",
          searchExecutor: "queue",
          redisUrl: "redis://127.0.0.1:1/0",
        }),
      }),
      {
        force: ["sparsenas"],
        onEvent: (event) => {
          if (event.type === "stage-failed") failures.push(event.error);
        },
      },
    );
    assert.equal(result.ok, false);
    assert.match(
      failures.join("\n"),
      /cannot reach the job queue's Redis at redis:\/\/127\.0\.0\.1:1\/0/,
    );
    assert.ok(Date.now() - started < 30_000);
  });
});
