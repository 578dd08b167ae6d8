/**
 * A tiny SparseNAS search run through the queue by two `tinyformer worker`
 * processes chooses the same candidate and writes the same bytes as the
 * local executor for the same seed; its progress names the workers. The
 * workspace's `executor` key is checked like every other (file:line:col),
 * and a build pointed at a Redis that is not there fails within seconds,
 * naming the URL.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import { ConfigError, renderDiagnostic } from "../../src/config/diagnostic.js";
import { loadWorkspace } from "../../src/config/load-workspace.js";
import type { StageDefinition } from "../../src/graph-runner/stage.js";
import { createPipelineThrough } from "../../src/pipeline/pipeline.js";
import { packageRoot } from "../../src/project-paths.js";
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

  test("Ctrl-C of a real build mid-search: the workers stop computing its candidates within 2 s", async () => {
    const url = redis.url(3);
    const pool = await Promise.all(
      ["c1", "c2"].map((name) => startWorkerProcess(url, { name, concurrency: 1 })),
    );
    workers.push(...pool);
    const workspaceFile = await ws.read("tinyformer.yaml");
    await ws.write("tinyformer.yaml", `${workspaceFile}executor: queue\n`);
    try {
      const build = spawn(
        process.execPath,
        [join(packageRoot, "bin", "tinyformer.js"), "build", "--force", "sparsenas"],
        {
          cwd: ws.root,
          env: { ...process.env, TINYFORMER_REDIS_URL: url, CI: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let output = "";
      build.stdout.on("data", (chunk: Buffer) => (output += chunk));
      build.stderr.on("data", (chunk: Buffer) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => build.on("exit", resolve));
      await Promise.race([
        ...pool.map((worker) => worker.waitFor(/: running assess-/, 120_000)),
        exited.then(() => assert.fail(`the build ended before the search ran:\n${output}`)),
      ]);
      // Workers running one of the build's jobs when it is interrupted.
      const busy = pool.filter((worker) => {
        const last = worker.ran().at(-1);
        return (
          last !== undefined &&
          !worker
            .lines()
            .some((line) => line.includes(`done ${last}`) || line.includes(`failed ${last}`))
        );
      });
      const sandboxes = busy.flatMap((worker) => worker.sandboxPids().slice(-1));
      assert.ok(sandboxes.length > 0, "a sandbox was computing a candidate");
      build.kill("SIGINT");
      const interruptedAt = Date.now();
      const alive = await waitForExit(sandboxes, 2000);
      assert.deepEqual(
        alive,
        [],
        `sandboxes still computing ${Date.now() - interruptedAt} ms after Ctrl-C`,
      );
      assert.notEqual(await exited, 0, output);
      assert.match(output, /cancelled +sparsenas/);
      // Nothing of the interrupted build starts afterwards: its queued jobs are gone.
      const ranAfterInterrupt = pool.map((worker) => worker.ran().length);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(
        pool.map((worker) => worker.ran().length),
        ranAfterInterrupt,
        "no job of the interrupted build started after Ctrl-C",
      );
    } finally {
      await ws.write("tinyformer.yaml", workspaceFile);
    }
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
