/**
 * The INT8 model's predicted class for every image of a set, by the reference
 * interpreter: the same `runInt8` that verify-host proves byte-identical to
 * the generated C, so the INT8 accuracy is the C engine's. A test split is
 * thousands of independent inferences, so they run on `workers` worker
 * threads (int8-worker.ts), each taking chunks of images from a shared
 * queue; predictions are stored by image index, so the result does not
 * depend on the number of workers or on which worker ran what.
 *
 * The images cross to the workers once, in a SharedArrayBuffer; each worker
 * gets its own copy of the model (a few hundred KB).
 */
import { Worker } from "node:worker_threads";
import { runInt8 } from "../interpreter/run.js";
import type { Model } from "../model-ir/types.js";
import { quantizeInput } from "../quantize/quantize-model.js";
import { argmax, type EvaluationImages, floatImage } from "./evaluation-images.js";

export interface Int8PredictionOptions {
  /** Worker threads; 1 (or a set of one chunk) runs in this thread. @default 1 */
  readonly workers?: number;
  /** Images per message to a worker: large enough to amortise it, small enough to balance. @default 50 */
  readonly chunk?: number;
  readonly signal?: AbortSignal;
  /** Called with the number of images predicted so far, as chunks finish. */
  readonly onProgress?: (done: number) => void;
}

/** Predicts images [start, end) of `set` into classes[0 .. end - start). */
export function predictInt8Range(
  model: Model,
  set: EvaluationImages,
  start: number,
  end: number,
  classes: Int32Array,
): void {
  for (let i = start; i < end; i++) {
    const input = quantizeInput(model, floatImage(set, i));
    classes[i - start] = argmax(runInt8(model, input).outputs[0]);
  }
}

/** What a worker thread is started with (workerData). */
export interface Int8WorkerSetup {
  readonly model: Model;
  readonly set: EvaluationImages;
}

/** A chunk to predict, and its answer. */
export type Int8WorkerRequest = { readonly start: number; readonly end: number };
export type Int8WorkerReply = { readonly start: number; readonly classes: Int32Array };

const WORKER_MAIN = new URL("./int8-worker.js", import.meta.url);

/** The INT8 model's class for every image of `set`, in image order. */
export async function predictInt8Classes(
  model: Model,
  set: EvaluationImages,
  options: Int8PredictionOptions = {},
): Promise<Int32Array> {
  const chunk = Math.max(1, options.chunk ?? 50);
  const chunks = Math.ceil(set.count / chunk);
  const workers = Math.max(1, Math.min(options.workers ?? 1, chunks));
  const classes = new Int32Array(set.count);
  if (workers === 1) {
    for (let start = 0; start < set.count; start += chunk) {
      options.signal?.throwIfAborted();
      const end = Math.min(set.count, start + chunk);
      predictInt8Range(model, set, start, end, classes.subarray(start, end));
      options.onProgress?.(end);
    }
    return classes;
  }
  options.signal?.throwIfAborted();
  return predictOnWorkers(model, set, { chunk, workers, classes, options });
}

function predictOnWorkers(
  model: Model,
  set: EvaluationImages,
  plan: { chunk: number; workers: number; classes: Int32Array; options: Int8PredictionOptions },
): Promise<Int32Array> {
  const { chunk, workers, classes, options } = plan;
  const used = set.images.subarray(0, set.count * set.pixels);
  const shared = new Uint8Array(new SharedArrayBuffer(used.byteLength));
  shared.set(used);
  const setup: Int8WorkerSetup = {
    model,
    set: {
      images: shared,
      count: set.count,
      pixels: set.pixels,
      channels: set.channels,
      normalization: { mean: [...set.normalization.mean], std: [...set.normalization.std] },
    },
  };
  return new Promise<Int32Array>((resolve, reject) => {
    const pool: Worker[] = [];
    let next = 0;
    let done = 0;
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      for (const worker of pool) void worker.terminate();
      if (error === undefined) resolve(classes);
      else reject(error);
    };
    const onAbort = () => finish(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const dispatch = (worker: Worker) => {
      if (next >= set.count) return;
      const request: Int8WorkerRequest = { start: next, end: Math.min(set.count, next + chunk) };
      next = request.end;
      worker.postMessage(request);
    };
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(WORKER_MAIN, { workerData: setup });
      pool.push(worker);
      worker.on("message", (reply: Int8WorkerReply) => {
        classes.set(reply.classes, reply.start);
        done += reply.classes.length;
        options.onProgress?.(done);
        if (done === set.count) finish();
        else dispatch(worker);
      });
      worker.on("error", (error) =>
        finish(new Error(`INT8 evaluation worker failed: ${error.message}`, { cause: error })),
      );
      worker.on("exit", (code) => {
        if (!settled) finish(new Error(`INT8 evaluation worker exited with code ${code}`));
      });
      dispatch(worker);
    }
  });
}
