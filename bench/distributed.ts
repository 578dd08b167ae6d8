/**
 * `npm run bench -- distributed [--kills N] [--sleep MS]`: the BullMQ job
 * queue with a real redis-server and real `tinyformer worker` processes.
 *
 * - Dispatch overhead: one worker with one slot runs sleep jobs one after
 *   another; the wall time beyond the sleeps, per job, is what a job costs
 *   to submit, hand out, run in the sandbox and report back.
 * - Scaling: the same sleep jobs on 8 workers (one slot each) against one;
 *   sleeps are wall-time bound, so the machine's core count does not limit
 *   them. Efficiency = (time per job on 1 worker x jobs) / (8 x wall time).
 * - Kills: 4 workers with 2 slots run short jobs while a random worker is
 *   killed with SIGKILL every few hundred milliseconds and replaced, until
 *   N kills; every job must end with its own result (`lost_jobs` counts
 *   those that did not) and no killed worker's sandbox may still run 5 s
 *   later (`orphans`).
 * - A small real search (test/helpers/redis.ts) built with the local
 *   executor, then through the queue by two workers: the same bytes?
 *
 * Last line: {"overhead_ms_per_job", "scaling_8_workers", "kills",
 * "lost_jobs", "orphans", "search_same_as_local", ...}.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildProject } from "../src/api/build.js";
import { openProject } from "../src/api/project.js";
import type { StageDefinition } from "../src/graph-runner/stage.js";
import { createPipelineThrough } from "../src/pipeline/pipeline.js";
import { type DispatchJob, openQueueDispatcher } from "../src/queue/dispatcher.js";
import {
  QUEUE_SEARCH_RECIPE,
  type RedisServer,
  startRedis,
  startWorkerProcess,
  type WorkerProcess,
  waitForExit,
} from "../test/helpers/redis.js";
import { createTestWorkspace } from "../test/helpers/workspace.js";

const log = (line: string) => process.stderr.write(`${line}\n`);

const sleepJobs = (prefix: string, count: number, ms: number): DispatchJob[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    data: { kind: "sleep", ms, value: i },
  }));

async function startPool(
  url: string,
  count: number,
  options: { concurrency?: number; lockMs?: number; prefix: string },
): Promise<WorkerProcess[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startWorkerProcess(url, { name: `${options.prefix}${i + 1}`, ...options }),
    ),
  );
}

/** Wall time of one batch of sleep jobs on a fresh pool. */
async function timedBatch(
  url: string,
  workers: number,
  jobs: number,
  sleepMs: number,
  prefix: string,
): Promise<number> {
  const pool = await startPool(url, workers, { prefix: `${prefix}w` });
  const dispatcher = await openQueueDispatcher(url);
  try {
    // Warm up: every worker starts its sandbox.
    await dispatcher.runBatch(sleepJobs(`${prefix}-warm`, workers * 2, 20));
    const started = performance.now();
    await dispatcher.runBatch(sleepJobs(prefix, jobs, sleepMs));
    return performance.now() - started;
  } finally {
    await dispatcher.close();
    await Promise.all(pool.map((worker) => worker.stop()));
  }
}

async function killTrial(url: string, targetKills: number) {
  let pool = await startPool(url, 4, { concurrency: 2, lockMs: 1000, prefix: "k" });
  const dispatcher = await openQueueDispatcher(url);
  let kills = 0;
  let lost = 0;
  let jobsRun = 0;
  const orphanChecks: Promise<number[]>[] = [];
  let running = true;
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const killer = (async () => {
    while (running && kills < targetKills) {
      await new Promise((resolve) => setTimeout(resolve, 200 + 300 * random()));
      if (!running) break;
      const victim = pool[Math.floor(random() * pool.length)] as WorkerProcess;
      const sandboxes = victim.sandboxPids();
      await victim.kill9();
      kills++;
      orphanChecks.push(waitForExit(sandboxes, 5000));
      const fresh = await startWorkerProcess(url, {
        name: `k${kills + 4}`,
        concurrency: 2,
        lockMs: 1000,
      });
      pool = [...pool.filter((worker) => worker !== victim), fresh];
    }
  })();
  try {
    for (let round = 0; kills < targetKills; round++) {
      const jobs = sleepJobs(`kill${round}`, 400, 20);
      jobsRun += jobs.length;
      try {
        const results = await dispatcher.runBatch(jobs);
        lost += results.filter((value, i) => value !== i).length;
      } catch (error) {
        log(`  batch ${round} failed: ${error instanceof Error ? error.message : String(error)}`);
        lost += jobs.length;
      }
      log(`  kill trial round ${round}: ${kills} kills so far`);
    }
  } finally {
    running = false;
    await killer;
    await dispatcher.close();
    await Promise.all(pool.map((worker) => worker.stop()));
  }
  const orphans = (await Promise.all(orphanChecks)).flat().length;
  return { kills, lost, orphans, jobs: jobsRun };
}

async function searchTrial(redis: RedisServer): Promise<boolean> {
  const ws = await createTestWorkspace(QUEUE_SEARCH_RECIPE);
  const stages = (options: Parameters<typeof createPipelineThrough>[0]) => (): StageDefinition[] =>
    createPipelineThrough(options, "sparsenas");
  const url = redis.url(40);
  const pool = await startPool(url, 2, { prefix: "s" });
  try {
    await buildProject(
      await openProject({ cwd: ws.root, createStages: stages({ backend: "wasm" }) }),
    );
    const files = ["search-log.jsonl", "candidate.json", "sparsenas.json"];
    const read = () =>
      files.map((file) => readFileSync(join(ws.root, "build/test/sparsenas", file)));
    const local = read();
    const queued = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages({ backend: "wasm", searchExecutor: "queue", redisUrl: url }),
      }),
      { force: ["sparsenas"] },
    );
    return queued.ok && read().every((bytes, i) => bytes.equals(local[i] as Buffer));
  } finally {
    await Promise.all(pool.map((worker) => worker.stop()));
    await ws.cleanup();
  }
}

export async function main(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(name);
    return at < 0 ? fallback : Number(args[at + 1]);
  };
  const targetKills = option("--kills", 20);
  const sleepMs = option("--sleep", 100);
  const redis = await startRedis();
  try {
    const overheadJobs = 100;
    const overheadWall = await timedBatch(redis.url(1), 1, overheadJobs, 20, "o");
    const overheadMs = (overheadWall - overheadJobs * 20) / overheadJobs;
    log(`dispatch: ${overheadJobs} x 20 ms on 1 worker in ${overheadWall.toFixed(0)} ms`);

    const singleJobs = 30;
    const single = await timedBatch(redis.url(2), 1, singleJobs, sleepMs, "one");
    const perJob = single / singleJobs;
    const eightJobs = 240;
    const eight = await timedBatch(redis.url(3), 8, eightJobs, sleepMs, "eight");
    const efficiency = (perJob * eightJobs) / (8 * eight);
    log(
      `scaling: ${singleJobs} x ${sleepMs} ms on 1 worker ${single.toFixed(0)} ms (${perJob.toFixed(1)} ms/job); ${eightJobs} on 8 workers ${eight.toFixed(0)} ms; efficiency ${efficiency.toFixed(3)}`,
    );

    const kills = await killTrial(redis.url(4), targetKills);
    log(
      `kills: ${kills.kills} kills over ${kills.jobs} jobs, ${kills.lost} lost, ${kills.orphans} orphans`,
    );

    const same = await searchTrial(redis);
    log(`search through the queue: ${same ? "the same bytes as local" : "DIFFERENT"}`);

    process.stdout.write(
      `${JSON.stringify({
        overhead_ms_per_job: Number(overheadMs.toFixed(2)),
        scaling_8_workers: Number(efficiency.toFixed(3)),
        kills: kills.kills,
        lost_jobs: kills.lost,
        orphans: kills.orphans,
        search_same_as_local: same,
        sleep_ms: sleepMs,
        kill_trial_jobs: kills.jobs,
      })}\n`,
    );
  } finally {
    await redis.stop();
  }
}
