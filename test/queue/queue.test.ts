/**
 * The BullMQ job queue with a real redis-server and real `tinyformer worker`
 * processes: dispatch and results in order, deduplication, a deterministic
 * failure failing the batch with the worker's error, kill -9 of a worker in
 * the middle of a job (the job reruns on another, its sandbox does not
 * survive 5 s), a restarted coordinator resuming, cancellation within 2 s,
 * and 1,000 short jobs through random worker kills. Sleep jobs stand in for
 * assessments (wall-time bound: the machine's cores do not matter).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { packageRoot } from "../../src/project-paths.js";
import { connectRedis, QueueConnectionError } from "../../src/queue/connection.js";
import { type DispatchJob, openQueueDispatcher } from "../../src/queue/dispatcher.js";
import { classifyFailure } from "../../src/queue/failures.js";
import {
  isRunning,
  needsRedis,
  type RedisServer,
  startRedis,
  startWorkerProcess,
  type WorkerProcess,
  waitForExit,
} from "../helpers/redis.js";

const sleepJobs = (prefix: string, count: number, ms: number): DispatchJob[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    data: { kind: "sleep", ms, value: i },
  }));

const counts = (ids: readonly string[]) => {
  const seen = new Map<string, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  return seen;
};

describe("queue failures are classified", () => {
  test("stalls, lost locks and dead sandboxes are transient; a job's own error is not", () => {
    assert.equal(classifyFailure("job stalled more than allowable limit"), "transient");
    assert.equal(classifyFailure("Missing lock for job 7. moveToFinished"), "transient");
    assert.equal(classifyFailure("transient: the sandbox exited (SIGKILL)"), "transient");
    assert.equal(classifyFailure("deterministic: out of range (on worker a)"), "deterministic");
    assert.equal(classifyFailure("TypeError: x is undefined"), "deterministic");
    assert.equal(classifyFailure("cancelled"), "cancelled");
  });

  test("tinyformer worker with an unreachable Redis exits 2, naming the URL", () => {
    const result = spawnSync(
      process.execPath,
      [join(packageRoot, "bin", "tinyformer.js"), "worker", "--redis", "redis://127.0.0.1:1/3"],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      /^error: cannot reach the job queue's Redis at redis:\/\/127\.0\.0\.1:1\/3/m,
    );
  });

  test("an unreachable Redis is an error naming the URL within seconds", async () => {
    const started = Date.now();
    await assert.rejects(connectRedis("redis://127.0.0.1:1/0", 1000), (error: unknown) => {
      assert.ok(error instanceof QueueConnectionError);
      assert.match(error.message, /redis:\/\/127\.0\.0\.1:1\/0/);
      assert.match(error.message, /TINYFORMER_REDIS_URL/);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });
});

describe("queue with real workers", { skip: needsRedis }, () => {
  let redis: RedisServer;
  let database = 0;
  const workers: WorkerProcess[] = [];
  const startWorkers = async (
    url: string,
    count: number,
    options: { concurrency?: number; lockMs?: number } = {},
  ) => {
    const started = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        startWorkerProcess(url, { name: `w${workers.length + i + 1}`, ...options }),
      ),
    );
    workers.push(...started);
    return started;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.kill9()));
    await redis?.stop();
  });

  test("dispatches jobs to several workers, returns results in order and deduplicates", async () => {
    const url = redis.url(++database);
    const pool = await startWorkers(url, 2, { concurrency: 2 });
    const dispatcher = await openQueueDispatcher(url);
    try {
      const jobs = sleepJobs("d", 30, 20);
      // Every job twice in one batch, then the whole batch again.
      const seenWorkers = new Set<string>();
      const results = await dispatcher.runBatch([...jobs, ...jobs], {
        onProgress: (progress) => {
          for (const name of Object.keys(progress.workers)) seenWorkers.add(name);
        },
      });
      assert.deepEqual(
        results,
        [...jobs, ...jobs].map((job) => (job.data as { value: number }).value),
      );
      assert.deepEqual([...seenWorkers].sort(), ["w1", "w2"]);
      const again = await dispatcher.runBatch(jobs);
      assert.deepEqual(again, results.slice(0, 30));
      const ran = counts(pool.flatMap((worker) => worker.ran()));
      assert.equal(ran.size, 30);
      assert.ok(
        [...ran.values()].every((n) => n === 1),
        "each job ran once",
      );
      await assert.rejects(
        dispatcher.runBatch([
          { id: "bad", data: { kind: "sleep", ms: 1, value: 0, fail: "deterministic" } },
        ]),
        /job bad: the sleep job was asked to fail \(on worker w\d\)/,
      );
    } finally {
      await dispatcher.close();
      await Promise.all(pool.map((worker) => worker.stop()));
    }
  });

  test("kill -9 of a worker mid-job: the job reruns elsewhere and its sandbox is gone within 5 s", async () => {
    const url = redis.url(++database);
    const [victim, survivor] = await startWorkers(url, 2, { lockMs: 1000 });
    assert.ok(victim && survivor);
    const dispatcher = await openQueueDispatcher(url);
    try {
      const batch = dispatcher.runBatch(sleepJobs("k", 4, 800));
      await victim.waitFor(/: running k-/);
      const sandboxes = victim.sandboxPids();
      assert.ok(sandboxes.length > 0);
      await victim.kill9();
      const killedAt = Date.now();
      assert.deepEqual(await batch, [0, 1, 2, 3]);
      const alive = await waitForExit(sandboxes, Math.max(0, 5000 - (Date.now() - killedAt)));
      assert.deepEqual(alive, [], "no orphaned sandbox");
    } finally {
      await dispatcher.close();
      await survivor.stop();
    }
  });

  test("a stopped worker (SIGTERM) hands its running job back: another starts it without waiting for the lock", async () => {
    const url = redis.url(++database);
    // A 20 s lock: were the job left to stall, it could not rerun within the 8 s asserted below.
    const [leaving, staying] = await startWorkers(url, 2, { lockMs: 20_000 });
    assert.ok(leaving && staying);
    const dispatcher = await openQueueDispatcher(url);
    try {
      const batch = dispatcher.runBatch(sleepJobs("t", 2, 1500));
      await Promise.all([leaving.waitFor(/: running t-/), staying.waitFor(/: running t-/)]);
      const handedBack = (leaving.ran()[0] ?? "").slice(0, 19);
      const sandboxes = leaving.sandboxPids();
      const stoppedAt = Date.now();
      await leaving.stop();
      assert.deepEqual(await batch, [0, 1]);
      assert.ok(Date.now() - stoppedAt < 8000, `${Date.now() - stoppedAt} ms after the stop`);
      assert.ok(
        leaving.lines().some((line) => line.includes(`handed ${handedBack} back to the queue`)),
        leaving.lines().join("\n"),
      );
      assert.ok(staying.ran().includes(handedBack), "the other worker ran the handed-back job");
      assert.equal(leaving.child.exitCode, 0);
      assert.deepEqual(await waitForExit(sandboxes, 2000), [], "no sandbox outlives its worker");
    } finally {
      await dispatcher.close();
      await staying.stop();
    }
  });

  test("a restarted coordinator resumes: finished jobs are not run again", async () => {
    const url = redis.url(++database);
    const pool = await startWorkers(url, 2);
    const jobs = sleepJobs("r", 8, 150);
    const first = await openQueueDispatcher(url);
    const controller = new AbortController();
    let done = 0;
    const abandoned = first
      .runBatch(jobs, { onResult: () => void done++ })
      .catch((error: unknown) => error);
    while (done < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    // The coordinator goes away without cancelling (killed): its jobs keep running.
    await first.close();
    void abandoned;
    controller.abort();
    const second = await openQueueDispatcher(url);
    try {
      assert.deepEqual(await second.runBatch(jobs), [0, 1, 2, 3, 4, 5, 6, 7]);
      const ran = counts(pool.flatMap((worker) => worker.ran()));
      assert.equal(ran.size, 8);
      assert.ok(
        [...ran.values()].every((n) => n === 1),
        "each job ran once",
      );
    } finally {
      await second.close();
      await Promise.all(pool.map((worker) => worker.stop()));
    }
  });

  test("a job that failed for good as stalled is resubmitted and completes", async () => {
    const url = redis.url(++database);
    const dispatcher = await openQueueDispatcher(url);
    const { UnrecoverableError, Worker } = await import("bullmq");
    // A stand-in for a worker that BullMQ gave up on: it takes the job and
    // fails it with BullMQ's own reason for a job stalled too often.
    const taker = new Worker("tinyformer-jobs", null, { connection: { url }, autorun: false });
    let resubmitted = 0;
    try {
      const batch = dispatcher.runBatch(sleepJobs("st", 1, 10), {
        onProgress: (progress) => {
          resubmitted = progress.resubmitted;
        },
      });
      let job = await taker.getNextJob("token-1");
      for (let attempt = 0; job === undefined && attempt < 50; attempt++)
        job = await taker.getNextJob("token-1");
      assert.ok(job, "the job was queued");
      await job.moveToFailed(
        new UnrecoverableError("job stalled more than allowable limit"),
        "token-1",
        false,
      );
      const [worker] = await startWorkers(url, 1);
      assert.deepEqual(await batch, [0]);
      assert.equal(resubmitted, 1);
      await worker?.stop();
    } finally {
      await taker.close();
      await dispatcher.close();
    }
  });

  test("cancellation stops running jobs within 2 s and removes queued ones", async () => {
    const url = redis.url(++database);
    const pool = await startWorkers(url, 2);
    const dispatcher = await openQueueDispatcher(url);
    try {
      const controller = new AbortController();
      const batch = dispatcher.runBatch(sleepJobs("c", 6, 30_000), { signal: controller.signal });
      await Promise.all(pool.map((worker) => worker.waitFor(/: running c-/)));
      const sandboxes = pool.flatMap((worker) => worker.sandboxPids());
      const cancelledAt = Date.now();
      controller.abort(new Error("interrupted"));
      await assert.rejects(batch, /interrupted/);
      const alive = await waitForExit(sandboxes, 2000);
      assert.deepEqual(alive, [], "no sandbox computes a cancelled job");
      assert.ok(Date.now() - cancelledAt <= 2000);
      await Promise.all(pool.map((worker) => worker.waitFor(/: failed c-\S+: cancelled/, 2000)));
      const { Queue } = await import("bullmq");
      const queue = new Queue("tinyformer-jobs", { connection: { url } });
      const waiting = await queue.getJobCounts("waiting", "active", "delayed");
      await queue.close();
      assert.deepEqual(waiting, { waiting: 0, active: 0, delayed: 0 });
    } finally {
      await dispatcher.close();
      await Promise.all(pool.map((worker) => worker.stop()));
    }
  });

  test("1,000 short jobs through random worker kills all complete", async () => {
    const url = redis.url(++database);
    let pool = await startWorkers(url, 3, { concurrency: 2, lockMs: 1000 });
    const dispatcher = await openQueueDispatcher(url);
    const orphans: number[] = [];
    let kills = 0;
    let running = true;
    let seed = 17;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const killer = (async () => {
      while (running && kills < 5) {
        await new Promise((resolve) => setTimeout(resolve, 300 + 400 * random()));
        if (!running) break;
        const victim = pool[Math.floor(random() * pool.length)] as WorkerProcess;
        const sandboxes = victim.sandboxPids();
        await victim.kill9();
        kills++;
        const [fresh] = await startWorkers(url, 1, { concurrency: 2, lockMs: 1000 });
        pool = [...pool.filter((worker) => worker !== victim), fresh as WorkerProcess];
        orphans.push(...(await waitForExit(sandboxes, 5000)));
      }
    })();
    try {
      const jobs = sleepJobs("m", 1000, 5);
      const results = await dispatcher.runBatch(jobs);
      running = false;
      await killer;
      assert.equal(results.length, 1000);
      assert.ok(
        results.every((value, i) => value === i),
        "every job's own result",
      );
      assert.ok(kills >= 1, `${kills} kills`);
      assert.deepEqual(orphans.filter(isRunning), []);
    } finally {
      running = false;
      await killer;
      await dispatcher.close();
      await Promise.all(pool.map((worker) => worker.stop()));
    }
  });
});
