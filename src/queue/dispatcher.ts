/**
 * The coordinator's side of the queue: submits a batch of jobs, waits for
 * their results, and hands them back in the batch's order.
 *
 * - Deduplication: a job id that is already queued, running or done is not
 *   added again; a done job's stored result is used as it is (a restarted
 *   coordinator picks up what its predecessor's workers finished).
 *   Failures are never reused: a failed job found on submission runs again.
 * - Failures (failures.ts): BullMQ retries a transient failure with
 *   back-off; a job that failed for good for a transient reason (it stalled
 *   twice, its lock or connection was lost, another coordinator cancelled
 *   it) is resubmitted, up to `resubmits` times; a deterministic failure
 *   fails the batch with the worker's error.
 * - Results arrive as BullMQ queue events; a reconciliation pass reads the
 *   states of the jobs still pending whenever no event came for a second
 *   (longer, up to 16 s, while passes find nothing), so a missed event
 *   delays a result, never loses it.
 * - A deterministic failure cancels the batch's other jobs.
 * - Cancellation (the signal): queued jobs are removed, running ones are
 *   marked cancelled and their ids published to the workers, which kill
 *   their sandboxes at once.
 */
import { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { connectRedis } from "./connection.js";
import { CANCELLED_REASON, classifyFailure, failureMessage } from "./failures.js";
import type { QueueJobData, QueueJobProgress, QueueJobResult } from "./jobs.js";
import { CANCEL_CHANNEL, cancelledKey, QUEUE_NAME, setupKey } from "./settings.js";

export interface DispatchJob {
  readonly id: string;
  readonly data: QueueJobData;
}

/** Jobs of the current batch by state, overall and per worker. */
export interface QueueProgress {
  readonly queued: number;
  readonly running: number;
  readonly done: number;
  /** Transient failures resubmitted so far (this dispatcher). */
  readonly resubmitted: number;
  readonly workers: Readonly<Record<string, { running: number; done: number }>>;
}

export interface RunBatchOptions {
  readonly signal?: AbortSignal;
  /** Called as each job's result arrives, with its index in the batch. */
  readonly onResult?: (index: number) => void;
  /** Called whenever a job changes state. */
  readonly onProgress?: (progress: QueueProgress) => void;
}

export interface QueueDispatcher {
  readonly url: string;
  /** Stores a job setup (JSON text) under its digest for the workers; kept `ttlSeconds`. */
  storeSetup(digest: string, text: string): Promise<void>;
  runBatch(jobs: readonly DispatchJob[], options?: RunBatchOptions): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface DispatcherOptions {
  /** BullMQ attempts per submission (transient failures retried with back-off). @default 3 */
  readonly attempts?: number;
  /** First back-off delay, doubled per attempt. @default 500 */
  readonly backoffMs?: number;
  /** Resubmissions of a job that failed for good for a transient reason. @default 10 */
  readonly resubmits?: number;
}

const KEEP_SECONDS = 7 * 24 * 3600;
/** Quiet time before the states are read; doubled after each pass that found nothing (up to 16 s). */
const RECONCILE_MS = 1000;
const RECONCILE_MAX_MS = 16_000;

export class QueueJobFailedError extends Error {
  override name = "QueueJobFailedError";
}

export async function openQueueDispatcher(
  url: string,
  options: DispatcherOptions = {},
): Promise<QueueDispatcher> {
  const connection = await connectRedis(url);
  const queue = new Queue<QueueJobData, QueueJobResult>(QUEUE_NAME, { connection });
  queue.on("error", () => undefined);
  // BullMQ leaves connections it was given open: both are closed here.
  const eventsConnection = connection.duplicate();
  eventsConnection.on("error", () => undefined);
  const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection });
  events.on("error", () => undefined);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const maxResubmits = options.resubmits ?? 10;
  const jobOptions = (id: string) => ({
    jobId: id,
    attempts,
    backoff: { type: "exponential", delay: backoffMs },
    removeOnComplete: { age: KEEP_SECONDS },
    removeOnFail: { age: KEEP_SECONDS },
  });

  const open = new Set<(error: Error) => void>();
  return {
    url,
    async storeSetup(digest, text) {
      await connection.set(setupKey(digest), text, "EX", KEEP_SECONDS);
    },
    runBatch: (jobs, batchOptions = {}) =>
      runBatch(connection, queue, events, jobs, batchOptions, {
        jobOptions,
        maxResubmits,
        open,
      }),
    async close() {
      // Batches still waiting end here (their jobs stay queued for the next coordinator).
      for (const end of [...open]) end(new Error("the queue dispatcher was closed"));
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      eventsConnection.disconnect();
      connection.disconnect();
    },
  };
}

interface Pending {
  readonly indices: number[];
  readonly data: QueueJobData;
  worker: string | undefined;
  running: boolean;
  resubmits: number;
}

async function runBatch(
  connection: Redis,
  queue: Queue<QueueJobData, QueueJobResult>,
  events: QueueEvents,
  jobs: readonly DispatchJob[],
  options: RunBatchOptions,
  settings: {
    jobOptions: (id: string) => Parameters<Queue["add"]>[2];
    maxResubmits: number;
    /** Ends every batch still running (on close). */
    open: Set<(error: Error) => void>;
  },
): Promise<unknown[]> {
  const { signal } = options;
  signal?.throwIfAborted();
  const results = new Array<unknown>(jobs.length);
  const pending = new Map<string, Pending>();
  jobs.forEach((job, index) => {
    const known = pending.get(job.id);
    if (known !== undefined) known.indices.push(index);
    else
      pending.set(job.id, {
        indices: [index],
        data: job.data,
        worker: undefined,
        running: false,
        resubmits: 0,
      });
  });
  if (pending.size === 0) return results;
  let resubmitted = 0;
  const doneBy = new Map<string, number>();

  return new Promise<unknown[]>((resolve, reject) => {
    let settled = false;
    let lastEvent = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let reconciling = false;
    let quietBeforeReconcile = RECONCILE_MS;

    const progress = () => {
      if (options.onProgress === undefined) return;
      const workers: Record<string, { running: number; done: number }> = {};
      for (const [worker, done] of doneBy) workers[worker] = { running: 0, done };
      let running = 0;
      for (const job of pending.values()) {
        if (!job.running) continue;
        running++;
        if (job.worker !== undefined) {
          const entry = workers[job.worker] ?? { running: 0, done: 0 };
          entry.running++;
          workers[job.worker] = entry;
        }
      }
      options.onProgress({
        queued: pending.size - running,
        running,
        done: jobs.length - [...pending.values()].reduce((n, job) => n + job.indices.length, 0),
        resubmitted,
        workers,
      });
    };

    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      settings.open.delete(finish);
      clearInterval(timer);
      events.off("completed", onCompleted);
      events.off("failed", onFailed);
      events.off("progress", onProgress);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve(results);
      else reject(error);
    };

    const complete = (id: string, stored: unknown) => {
      const job = pending.get(id);
      if (job === undefined || settled) return;
      const result = (typeof stored === "string" ? JSON.parse(stored) : stored) as
        | QueueJobResult
        | null
        | undefined;
      // Not stored yet (read in the middle of completing): reconciliation reads it again.
      if (typeof result?.worker !== "string") return;
      pending.delete(id);
      doneBy.set(result.worker, (doneBy.get(result.worker) ?? 0) + 1);
      for (const index of job.indices) {
        results[index] = result.value;
        options.onResult?.(index);
      }
      progress();
      if (pending.size === 0) finish();
    };

    const resubmit = async (id: string, job: Pending, reason: string) => {
      if (job.resubmits >= settings.maxResubmits) {
        finish(
          new QueueJobFailedError(
            `job ${id} failed ${job.resubmits + 1} times for transient reasons; the last: ${failureMessage(reason)}`,
          ),
        );
        return;
      }
      job.resubmits++;
      resubmitted++;
      job.running = false;
      await connection.del(cancelledKey(id));
      const stored = await Job.fromId<QueueJobData, QueueJobResult>(queue, id);
      if (stored === undefined) await queue.add(job.data.kind, job.data, settings.jobOptions(id));
      else
        await stored.retry("failed", { resetAttemptsMade: true }).catch(async () => {
          // Not failed any more (another coordinator retried it): leave it be.
        });
      progress();
    };

    const fail = (id: string, reason: string) => {
      const job = pending.get(id);
      if (job === undefined || settled) return;
      const kind = classifyFailure(reason);
      if (kind === "deterministic") {
        // The batch has failed: the rest of its jobs would be computed for nothing.
        const others = [...pending.keys()].filter((other) => other !== id);
        finish(new QueueJobFailedError(`job ${id}: ${failureMessage(reason)}`));
        cancelJobs(connection, queue, others).catch(() => undefined);
        return;
      }
      resubmit(id, job, reason).catch((error) => finish(error));
    };

    /** Settles a job from its stored state (used on submission and by reconciliation). */
    const settleFromState = async (id: string, submitting: boolean) => {
      // The state first: a finished job's result or reason is stored by then.
      const state = await queue.getJobState(id);
      const stored =
        state === "unknown" ? undefined : await Job.fromId<QueueJobData, QueueJobResult>(queue, id);
      if (stored === undefined) {
        // Removed meanwhile (age, or another coordinator's cancellation): add it again.
        const job = pending.get(id);
        if (job !== undefined) await queue.add(job.data.kind, job.data, settings.jobOptions(id));
        return;
      }
      if (state === "completed") complete(id, stored.returnvalue);
      else if (state === "failed") {
        if (submitting) {
          // A failure from an earlier run: failures are never reused.
          await connection.del(cancelledKey(id));
          await stored.retry("failed", { resetAttemptsMade: true }).catch(() => undefined);
        } else fail(id, stored.failedReason ?? "");
      }
    };

    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      lastEvent = Date.now();
      quietBeforeReconcile = RECONCILE_MS;
      complete(jobId, returnvalue);
    };
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      lastEvent = Date.now();
      const job = pending.get(jobId);
      if (job === undefined) return;
      // The event comes for every attempt; only a job in the failed set is done trying.
      queue
        .getJobState(jobId)
        .then(async (state) => {
          if (state !== "failed") return;
          const stored = await Job.fromId(queue, jobId);
          fail(jobId, stored?.failedReason ?? failedReason);
        })
        .catch((error) => finish(error));
    };
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
      lastEvent = Date.now();
      const job = pending.get(jobId);
      if (job === undefined) return;
      job.running = true;
      job.worker = (data as QueueJobProgress | undefined)?.worker;
      progress();
    };
    const onAbort = () => {
      const ids = [...pending.keys()];
      finish(signal?.reason);
      cancelJobs(connection, queue, ids).catch(() => undefined);
    };

    settings.open.add(finish);
    events.on("completed", onCompleted);
    events.on("failed", onFailed);
    events.on("progress", onProgress);
    signal?.addEventListener("abort", onAbort, { once: true });

    const ids = [...pending.keys()];
    // A cancellation mark left by an interrupted run of the same jobs no longer applies.
    connection
      .del(...ids.map(cancelledKey))
      .then(() =>
        queue.addBulk(
          ids.map((id) => {
            const job = pending.get(id) as Pending;
            return { name: job.data.kind, data: job.data, opts: settings.jobOptions(id) };
          }),
        ),
      )
      .then(() => {
        progress();
        return Promise.all(ids.map((id) => settleFromState(id, true)));
      })
      .then(() => {
        timer = setInterval(() => {
          if (settled || reconciling || Date.now() - lastEvent < quietBeforeReconcile) return;
          reconciling = true;
          lastEvent = Date.now();
          const before = pending.size;
          Promise.all([...pending.keys()].map((id) => settleFromState(id, false)))
            .catch((error) => finish(error))
            .finally(() => {
              reconciling = false;
              quietBeforeReconcile =
                pending.size < before
                  ? RECONCILE_MS
                  : Math.min(2 * quietBeforeReconcile, RECONCILE_MAX_MS);
            });
        }, RECONCILE_MS / 2);
        timer.unref();
      })
      .catch((error) => finish(error));
  });
}

/**
 * Stops jobs: marks them cancelled (a worker checks before it starts one),
 * tells the workers running them, and removes those still queued.
 */
export async function cancelJobs(
  connection: Redis,
  queue: Queue,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  const marks = connection.pipeline();
  for (const id of ids) marks.set(cancelledKey(id), CANCELLED_REASON, "EX", 60);
  await marks.exec();
  await connection.publish(CANCEL_CHANNEL, JSON.stringify(ids));
  await Promise.all(ids.map((id) => queue.remove(id).catch(() => 0)));
}
