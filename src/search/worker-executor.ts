/**
 * Assessments in worker processes: `workers` children (worker-main.ts) each
 * build the job's context once, then take candidates one at a time from a
 * shared queue, so a slow candidate does not hold up the others. Results come
 * back in the caller's order. A worker's failure fails the batch with its
 * message; an abort or `close` ends the workers (they also exit on their own
 * when this process goes away).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Candidate } from "./candidate.js";
import type { Assessment } from "./evolution.js";
import type { CandidateExecutor } from "./executor.js";
import type { SearchJobSetup } from "./job.js";
import type { FromWorker, ToWorker } from "./worker-protocol.js";

const WORKER_MAIN = fileURLToPath(new URL("./worker-main.js", import.meta.url));

interface Worker {
  readonly child: ChildProcess;
  /** Settles on `ready` (or the setup's failure). */
  readonly ready: Promise<void>;
  busy: boolean;
}

export async function createWorkerExecutor(
  setup: SearchJobSetup,
  options: { readonly workers: number; readonly signal?: AbortSignal },
): Promise<CandidateExecutor> {
  let onMessage: (worker: Worker, message: FromWorker) => void = () => undefined;
  let onExit: (worker: Worker, code: number | null, message: string) => void = () => undefined;
  const workers: Worker[] = Array.from({ length: options.workers }, () => {
    // Workers print nothing the user needs; what they write to stderr is kept
    // for the message of a failure.
    const child = fork(WORKER_MAIN, [], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const withStderr = (message: string) =>
      stderr.trim() === "" ? message : `${message}\n${stderr.trim()}`;
    let resolveReady: () => void = () => undefined;
    let rejectReady: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    const worker: Worker = { child, ready, busy: false };
    child.on("message", (message: FromWorker) => {
      if (message.kind === "ready") resolveReady();
      else if (message.kind === "failed" && message.id === null)
        rejectReady(new Error(withStderr(`search worker could not start: ${message.message}`)));
      else onMessage(worker, message);
    });
    child.on("exit", (code) => {
      rejectReady(
        new Error(withStderr(`search worker exited with code ${code} before it was ready`)),
      );
      onExit(worker, code, withStderr(`a search worker exited with code ${code}`));
    });
    child.send({ kind: "setup", setup } satisfies ToWorker);
    return worker;
  });
  const stopAll = () => {
    for (const worker of workers) if (worker.child.connected) worker.child.disconnect();
  };
  options.signal?.addEventListener("abort", stopAll, { once: true });
  try {
    await Promise.all(workers.map((worker) => worker.ready));
  } catch (error) {
    stopAll();
    throw error;
  }

  return {
    assess(candidates: readonly Candidate[]): Promise<Assessment[]> {
      return new Promise((resolve, reject) => {
        const results = new Array<Assessment | undefined>(candidates.length);
        let next = 0;
        let done = 0;
        let failed = false;
        const fail = (error: Error) => {
          if (failed) return;
          failed = true;
          reject(error);
        };
        const dispatch = (worker: Worker) => {
          if (failed || next >= candidates.length) {
            worker.busy = false;
            return;
          }
          const id = next++;
          worker.busy = true;
          worker.child.send({
            kind: "assess",
            id,
            candidate: candidates[id] as Candidate,
          } satisfies ToWorker);
        };
        onMessage = (worker, message) => {
          if (message.kind === "failed") {
            fail(new Error(`search worker: ${message.message}`));
            return;
          }
          if (message.kind !== "assessed") return;
          results[message.id] = message.assessment;
          done++;
          if (done === candidates.length) resolve(results as Assessment[]);
          else dispatch(worker);
        };
        onExit = (_worker, _code, message) => {
          if (done < candidates.length)
            fail(options.signal?.aborted ? (options.signal.reason as Error) : new Error(message));
        };
        if (candidates.length === 0) {
          resolve([]);
          return;
        }
        for (const worker of workers) dispatch(worker);
      });
    },
    async close() {
      options.signal?.removeEventListener("abort", stopAll);
      const exits = workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.child.exitCode !== null || worker.child.signalCode !== null) resolve();
            else worker.child.once("exit", () => resolve());
          }),
      );
      stopAll();
      await Promise.all(exits);
    },
  };
}
