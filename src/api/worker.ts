/**
 * `tinyformer worker`: a process that runs queued jobs (search candidate
 * assessments) for any build pointed at the same Redis. See
 * src/queue/worker.ts.
 */
import { redisUrlFromEnvironment } from "../queue/settings.js";
import type { RunningWorker } from "../queue/worker.js";

export interface WorkerOptions {
  /** @default TINYFORMER_REDIS_URL, else redis://127.0.0.1:6379 */
  redisUrl?: string;
  /** Jobs at once, each in its own sandbox process. @default 1 */
  concurrency?: number;
  /** Shown in builds' progress. @default host:pid */
  name?: string;
  /** How long a job's lock lasts unrenewed; a killed worker's job reruns elsewhere after about this long. @default 10000 */
  lockDurationMs?: number;
  /** Stops the worker. */
  signal?: AbortSignal;
  /** One line per event (connected, each job run, done or failed). */
  log?: (line: string) => void;
}

/** Starts a worker; resolves once it takes jobs. `stopped` settles after the signal. */
export async function startWorker(options: WorkerOptions = {}): Promise<RunningWorker> {
  const { startQueueWorker } = await import("../queue/worker.js");
  return startQueueWorker({
    url: options.redisUrl ?? redisUrlFromEnvironment(),
    concurrency: options.concurrency ?? 1,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
    ...(options.lockDurationMs === undefined
      ? {}
      : { stalledIntervalMs: Math.max(500, Math.round(options.lockDurationMs / 2)) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}
