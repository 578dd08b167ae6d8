/**
 * `tinyformer worker`: takes jobs from the queue and runs each in a sandbox
 * child process (sandbox.ts), `concurrency` at a time. The worker's own
 * event loop only moves messages, so BullMQ renews job locks on time however
 * busy the sandboxes are.
 *
 * - A job whose sandbox dies fails as transient (BullMQ retries it with
 *   back-off); a job that throws fails as deterministic, without retries.
 * - Cancellation: the coordinator publishes job ids on a channel (and marks
 *   them in Redis for a worker that takes one a moment later); the worker
 *   kills the sandbox running it at once.
 * - A worker told to stop (Ctrl-C, SIGTERM, the signal) takes no new jobs,
 *   kills its sandboxes and hands the jobs they ran back to the queue at
 *   once, so another worker starts them without waiting for a lock to lapse.
 * - A killed worker's job stalls; another worker's stalled-job check puts it
 *   back in the queue within about `lockDurationMs + stalledIntervalMs`.
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { connectRedis } from "./connection.js";
import { CANCELLED_REASON, DETERMINISTIC_PREFIX, TRANSIENT_PREFIX } from "./failures.js";
import {
  describeJob,
  type QueueJobData,
  type QueueJobProgress,
  type QueueJobResult,
} from "./jobs.js";
import { JobError, SandboxExitError, SandboxSlot } from "./sandbox.js";
import { CANCEL_CHANNEL, cancelledKey, displayRedisUrl, QUEUE_NAME, setupKey } from "./settings.js";
import { readPackageVersion } from "./version.js";

const STOPPING_REASON = "the worker stopped";
/** A stopping worker waits this long for Redis to take its jobs back, then leaves them to stall. */
const HAND_BACK_TIMEOUT_MS = 5000;

export interface QueueWorkerOptions {
  readonly url: string;
  /** Jobs run at once, each in its own sandbox process. */
  readonly concurrency: number;
  /** Shown in the coordinator's progress. @default host:pid */
  readonly name?: string;
  /** Stops the worker: running jobs are abandoned (their sandboxes killed) and handed back to the queue. */
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** How long a job's lock lasts unrenewed (renewed every half of it). @default 10000 */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (of killed workers). @default 5000 */
  readonly stalledIntervalMs?: number;
}

export interface RunningWorker {
  readonly name: string;
  /** Process ids of the sandboxes running now. */
  sandboxPids(): number[];
  /** Resolves when the worker has stopped (after the signal). */
  readonly stopped: Promise<void>;
}

/** Starts a worker; resolves once it is connected and taking jobs. */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? (() => undefined);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const version = readPackageVersion();
  const connection = await connectRedis(options.url);
  const subscriber = connection.duplicate();
  subscriber.on("error", () => undefined);
  const slots = Array.from(
    { length: options.concurrency },
    (_, slot) =>
      new SandboxSlot((pid) => log(`worker ${name}: slot ${slot + 1} sandbox pid ${pid}`)),
  );
  const free = slots.map((_, slot) => slot);
  const running = new Map<string, AbortController>();
  let stopping = false;
  const setups = new Map<string, unknown>();

  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on("message", (_channel: string, text: string) => {
    let ids: unknown;
    try {
      ids = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(ids)) return;
    for (const id of ids) running.get(String(id))?.abort(new Error(CANCELLED_REASON));
  });

  const loadSetup = async (digest: string): Promise<unknown> => {
    const known = setups.get(digest);
    if (known !== undefined) return known;
    const text = await connection.get(setupKey(digest));
    if (text === null)
      throw new UnrecoverableError(
        `${DETERMINISTIC_PREFIX}job setup ${digest} is not in Redis at ${displayRedisUrl(options.url)} (another database, or it expired)`,
      );
    const setup = JSON.parse(text) as unknown;
    setups.clear();
    setups.set(digest, setup);
    return setup;
  };

  /**
   * Puts a job this worker took back in the wait list (its attempts unspent)
   * and tells BullMQ so; without a token (never the case for a locked job)
   * the lock is left to lapse instead.
   */
  const handBack = async (job: Job<QueueJobData, QueueJobResult>, token: string | undefined) => {
    if (token === undefined) throw new Error(`${TRANSIENT_PREFIX}${STOPPING_REASON}`);
    await job.moveToWait(token);
    log(`worker ${name}: handed ${(job.id ?? "").slice(0, 19)} back to the queue`);
    throw new WaitingError();
  };

  const processor = async (job: Job<QueueJobData, QueueJobResult>, token?: string) => {
    const id = job.id ?? "";
    const data = job.data;
    if (stopping) return handBack(job, token);
    if (data.kind === "search-assess" && data.version !== version)
      throw new UnrecoverableError(
        `${DETERMINISTIC_PREFIX}this worker runs TinyFormer ${version}, the build ${data.version}: run the same version on both`,
      );
    const setup = data.kind === "search-assess" ? await loadSetup(data.setupDigest) : undefined;
    const slotIndex = free.pop();
    if (slotIndex === undefined) throw new Error(`${TRANSIENT_PREFIX}no free sandbox slot`);
    const slot = slots[slotIndex] as SandboxSlot;
    const controller = new AbortController();
    running.set(id, controller);
    const started = Date.now();
    slot.ensureStarted();
    log(
      `worker ${name}: running ${id.slice(0, 19)} (${describeJob(data)}) on slot ${slotIndex + 1}`,
    );
    try {
      // Off the critical path: whether the job was cancelled a moment before
      // this worker took it (then its sandbox is killed at once), and the
      // progress event naming this worker.
      connection.exists(cancelledKey(id)).then(
        (marked) => {
          if (marked === 1) controller.abort(new Error(CANCELLED_REASON));
        },
        () => undefined,
      );
      job.updateProgress({ worker: name } satisfies QueueJobProgress).catch(() => undefined);
      const value = await slot.run(
        { kind: "run", id, job: data, ...(setup === undefined ? {} : { setup }) },
        controller.signal,
      );
      log(`worker ${name}: done ${id.slice(0, 19)} in ${Date.now() - started} ms`);
      return { value, worker: name } satisfies QueueJobResult;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`worker ${name}: failed ${id.slice(0, 19)}: ${message}`);
      if (controller.signal.aborted) {
        const reason = controller.signal.reason;
        if (reason instanceof Error && reason.message === CANCELLED_REASON)
          throw new UnrecoverableError(CANCELLED_REASON);
        if (reason instanceof Error && reason.message === STOPPING_REASON)
          return handBack(job, token);
        throw new Error(
          `${TRANSIENT_PREFIX}${reason instanceof Error ? reason.message : "the worker stopped"}`,
        );
      }
      if (error instanceof JobError)
        throw new UnrecoverableError(`${DETERMINISTIC_PREFIX}${message} (on worker ${name})`);
      if (error instanceof SandboxExitError) throw new Error(`${TRANSIENT_PREFIX}${message}`);
      throw error;
    } finally {
      running.delete(id);
      free.push(slotIndex);
    }
  };

  const lockDuration = options.lockDurationMs ?? 10_000;
  const worker = new Worker<QueueJobData, QueueJobResult>(QUEUE_NAME, processor, {
    connection,
    concurrency: options.concurrency,
    name,
    lockDuration,
    stalledInterval: options.stalledIntervalMs ?? 5000,
    // A job stalls when its worker dies; the coordinator resubmits one that
    // stalled more often than this.
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on("error", (error) => log(`worker ${name}: ${error.message}`));
  // A job whose lock could not be renewed may already run elsewhere: stop
  // computing it here (its result would be refused anyway).
  worker.on("lockRenewalFailed", (ids) => {
    for (const id of ids) running.get(id)?.abort(new Error("lock lost"));
  });
  const runLoop = worker.run();
  await worker.waitUntilReady();
  log(
    `worker ${name}: connected to ${displayRedisUrl(options.url)}, ${options.concurrency} slot(s); waiting for jobs`,
  );

  const stopped = new Promise<void>((resolve) => {
    const stop = async () => {
      stopping = true;
      // close() stops taking jobs and waits for the running ones, which the
      // aborts below end at once by handing them back.
      const closing = worker.close().catch(() => undefined);
      for (const controller of running.values()) controller.abort(new Error(STOPPING_REASON));
      const settled = closing.then(() => runLoop.catch(() => undefined));
      await Promise.race([settled, sleep(HAND_BACK_TIMEOUT_MS, undefined, { ref: false })]);
      for (const slot of slots) slot.kill();
      subscriber.disconnect();
      connection.disconnect();
      log(`worker ${name}: stopped`);
      resolve();
    };
    if (options.signal?.aborted) void stop();
    else options.signal?.addEventListener("abort", () => void stop(), { once: true });
  });
  return {
    name,
    sandboxPids: () =>
      slots.map((slot) => slot.pid).filter((pid): pid is number => pid !== undefined),
    stopped,
  };
}
