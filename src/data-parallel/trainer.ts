/**
 * Data-parallel training: one step of the training loop
 * (`TrainingOptions.batchStepRunner`) spread over `replicas` replicas of the
 * network, this thread being replica 0 and worker threads (worker-main.ts)
 * the others, each on its own TensorFlow.js backend instance.
 *
 *   per step:  parameters -> shared memory;  batch split into contiguous
 *              shards (shards.ts);  every replica: forward + backward on its
 *              shard (replica-step.ts), in parallel;  gradients summed in
 *              replica order, each weighted by its share of the batch;  one
 *              optimizer update here;  running statistics: the mean of the
 *              replicas' (shards.ts `meanOfReplicas`).
 *
 * The same replicas spread forward-only work: the loop's validation
 * (`evaluate`) and batch-norm recalibration of a sub-network (`recalibrate`),
 * each replica taking a contiguous share of the images (whole batches for
 * recalibration), results combined in replica order.
 *
 * Batch normalisation normalises each shard with its own batch statistics,
 * as PyTorch's DistributedDataParallel does without SyncBatchNorm, so a run
 * with 2 replicas trains to different (equally good) weights than with 1;
 * for a given seed and replica count the bytes are the same on every run.
 * One replica is not this module's business: the loop's plain step runs then.
 */
import { Worker } from "node:worker_threads";
import type * as tf from "@tensorflow/tfjs-core";
import type { Supernet } from "../blocks/network.js";
import type { ArchitectureChoice } from "../blocks/search-space.js";
import type { ImageDataset } from "../datasets/image-dataset.js";
import type { ChannelStatistics } from "../datasets/normalize.js";
import { deriveSeed } from "../datasets/seeded-random.js";
import { recalibrateBatchNorm } from "../supernet/recalibrate.js";
import { createUpdateMasks } from "../supernet/region-masks.js";
import type { BackendIdentity } from "../training/backend.js";
import {
  type BatchStepRunner,
  createBatchTensors,
  readStepResult,
  sumEvaluation,
} from "../training/loop.js";
import type { FromReplica, ReplicaSetup, ToReplica } from "./protocol.js";
// Not used here: imported so the code identity of the stages that train with
// replicas covers the workers' code (worker-main.js is started by URL).
import "./replica-server.js";
import { computeReplicaGradients, type ReplicaStep } from "./replica-step.js";
import { meanOfReplicas, shardBatch } from "./shards.js";
import {
  createVariableLayout,
  layoutView,
  type VariableLayout,
  writeVariables,
} from "./variable-layout.js";

const WORKER_MAIN = new URL("./worker-main.js", import.meta.url);

export interface DataParallelOptions {
  /** Replicas in all, this thread included (at least 2). */
  readonly replicas: number;
  /** The trainer's tfjs module and backend: the workers load the same one. */
  readonly tf: typeof tf;
  readonly backend: BackendIdentity;
  /** The supernet whose variables the loop's optimizer updates. */
  readonly supernet: Supernet;
  /** A frozen teacher for distillation steps (its values are sent once). */
  readonly teacher?: Supernet;
  /** What each step computes: `single`, a seeded `sandwich`, or `distillation`. */
  readonly stepOf: (step: number) => ReplicaStep;
  readonly geometry: { readonly height: number; readonly width: number; readonly channels: number };
  readonly classes: number;
  readonly normalization: ChannelStatistics;
  /** The sub-network the loop's validation evaluates (spread over the replicas too); none: not spread. */
  readonly evaluationChoice?: ArchitectureChoice;
}

/** The batch sizes of evaluation and recalibration, as `evaluateNetwork`'s and `recalibrateBatchNorm`'s defaults. */
const EVALUATION_BATCH = 128;
const RECALIBRATION_BATCH = 64;

export interface DataParallelTrainer extends BatchStepRunner {
  /** `evaluateNetwork` of a sub-network, spread over the replicas. */
  evaluateChoice(
    dataset: ImageDataset,
    choice: ArchitectureChoice,
  ): Promise<{ loss: number; accuracy: number }>;
  /**
   * `recalibrateBatchNorm` of a sub-network spread over the replicas (whole
   * batches each); the running statistics become the mean of theirs, weighted
   * by batches, i.e. the plain mean over all batches up to rounding.
   */
  recalibrate(choice: ArchitectureChoice, dataset: ImageDataset, batchSize?: number): Promise<void>;
  /** Ends the worker threads (idempotent). */
  close(): Promise<void>;
}

interface Replica {
  readonly worker: Worker;
  readonly results: Float32Array;
  /** The pending request's settle functions (one request at a time). */
  pending?: { resolve: (answer: Answer) => void; reject: (error: Error) => void };
  failure?: Error;
}

type Answer = Extract<FromReplica, { kind: "done" | "evaluated" | "recalibrated" }>;
type Done = Extract<FromReplica, { kind: "done" }>;

/** Sends `message` to a replica; settles with its answer, or its failure. */
function request<K extends Answer["kind"]>(
  replica: Replica,
  message: ToReplica,
  kind: K,
): Promise<Extract<Answer, { kind: K }>> {
  return new Promise((resolve, reject) => {
    if (replica.failure !== undefined) {
      reject(replica.failure);
      return;
    }
    replica.pending = {
      resolve: (answer) => {
        if (answer.kind === kind && answer.id === message.id)
          resolve(answer as Extract<Answer, { kind: K }>);
        else reject(new Error(`a training worker answered ${answer.kind} to ${message.kind}`));
      },
      reject,
    };
    replica.worker.postMessage(message, [
      message.images.buffer as ArrayBuffer,
      message.labels.buffer as ArrayBuffer,
    ]);
  });
}

export async function createDataParallelTrainer(
  options: DataParallelOptions,
): Promise<DataParallelTrainer> {
  const { tf, supernet, replicas: count } = options;
  if (!(Number.isInteger(count) && count >= 2))
    throw new RangeError(`data-parallel training needs at least 2 replicas, not ${count}`);
  const layout = createVariableLayout(supernet.parameters);
  const parameters = new Float32Array(new SharedArrayBuffer(layout.size * 4));
  let teacherValues: Float32Array | undefined;
  if (options.teacher !== undefined) {
    const teacherLayout = createVariableLayout(options.teacher.parameters);
    teacherValues = new Float32Array(teacherLayout.size);
    writeVariables(teacherLayout, teacherValues);
  }
  const replicas: Replica[] = [];
  let closing = false;
  const ready: Promise<void>[] = [];
  for (let index = 1; index < count; index++) {
    const results = new Float32Array(new SharedArrayBuffer(layout.size * 4));
    const setup: ReplicaSetup = {
      backend: options.backend.name,
      backendVersion: options.backend.version,
      searchSpace: supernet.searchSpace,
      // Its own seed: a dropout stream of its own (initial weights are overwritten).
      networkOptions: {
        ...supernet.options,
        seed: deriveSeed(supernet.options.seed, `replica/${index}`),
      },
      ...(options.teacher === undefined || teacherValues === undefined
        ? {}
        : {
            teacher: {
              searchSpace: options.teacher.searchSpace,
              networkOptions: options.teacher.options,
              values: teacherValues,
            },
          }),
      geometry: options.geometry,
      classes: options.classes,
      normalization: options.normalization,
      parameters: parameters.buffer as SharedArrayBuffer,
      results: results.buffer as SharedArrayBuffer,
    };
    const worker = new Worker(WORKER_MAIN, { workerData: setup });
    const replica: Replica = { worker, results };
    replicas.push(replica);
    ready.push(
      new Promise<void>((resolve, reject) => {
        const fail = (error: Error) => {
          replica.failure = error;
          reject(error);
          replica.pending?.reject(error);
          replica.pending = undefined;
        };
        worker.on("message", (message: FromReplica) => {
          if (message.kind === "ready") resolve();
          else if (message.kind === "failed")
            fail(new Error(`training worker ${index}: ${message.message}`));
          else {
            const pending = replica.pending;
            replica.pending = undefined;
            pending?.resolve(message);
          }
        });
        worker.on("error", (error) =>
          fail(new Error(`training worker ${index}: ${error.message}`)),
        );
        worker.on("exit", (code) => {
          if (!closing) fail(new Error(`training worker ${index} exited with code ${code}`));
        });
      }),
    );
  }
  const close = async () => {
    closing = true;
    await Promise.all(replicas.map((replica) => replica.worker.terminate()));
  };
  try {
    await Promise.all(ready);
  } catch (error) {
    await close();
    throw error;
  }
  let nextId = 0;
  const imageSize = options.geometry.height * options.geometry.width * options.geometry.channels;

  /**
   * Forward-only work over contiguous shares of `count` units (images, or
   * whole batches of `unit` images): replica r > 0 gets `message(images,
   * labels, id)` for its share, this thread runs `own` on share 0 meanwhile.
   * Resolves with this thread's result, the workers' answers in replica
   * order, and each share's fraction of the units.
   */
  async function spread<K extends Answer["kind"], T>(
    dataset: ImageDataset,
    units: number,
    unit: number,
    kind: K,
    message: (images: Uint8Array, labels: Uint8Array, id: number) => ToReplica,
    own: (images: Uint8Array, labels: Uint8Array) => T,
  ): Promise<{ own: T; answers: Extract<Answer, { kind: K }>[]; weights: number[] }> {
    const shares = shardBatch(units, Math.min(count, units));
    writeVariables(layout, parameters);
    const id = nextId++;
    const range = (share: { start: number; end: number }) => ({
      from: share.start * unit,
      to: share.end * unit,
    });
    const pending = shares.slice(1).map((share, index) => {
      const { from, to } = range(share);
      return request(
        replicas[index] as Replica,
        message(
          dataset.images.slice(from * imageSize, to * imageSize),
          dataset.labels.slice(from, to),
          id,
        ),
        kind,
      );
    });
    const settled = Promise.allSettled(pending);
    const { from, to } = range(shares[0] as { start: number; end: number });
    let result: T;
    try {
      result = own(
        dataset.images.subarray(from * imageSize, to * imageSize),
        dataset.labels.subarray(from, to),
      );
    } catch (error) {
      // The workers' answers no longer matter, but must not go unhandled.
      await settled;
      throw error;
    }
    return {
      own: result,
      answers: await Promise.all(pending),
      weights: shares.map((share) => (share.end - share.start) / units),
    };
  }

  /** Mean loss and accuracy of sub-network `choice` on `dataset`, spread over the replicas. */
  async function evaluateChoice(dataset: ImageDataset, choice: ArchitectureChoice) {
    const { own, answers } = await spread(
      dataset,
      dataset.count,
      1,
      "evaluated",
      (images, labels, id) => ({
        kind: "evaluate",
        id,
        images,
        labels,
        choice,
        batchSize: EVALUATION_BATCH,
      }),
      (images, labels) =>
        sumEvaluation(
          supernet.subnet(choice),
          images,
          labels,
          options.geometry,
          options.classes,
          options.normalization,
          EVALUATION_BATCH,
        ),
    );
    let { lossSum, correct } = own;
    for (const answer of answers) {
      lossSum += answer.lossSum;
      correct += answer.correct;
    }
    return { loss: lossSum / dataset.count, accuracy: correct / dataset.count };
  }

  const evaluationChoice = options.evaluationChoice;
  return {
    close,
    evaluateChoice,
    async recalibrate(choice, dataset, batchSize = RECALIBRATION_BATCH) {
      // Whole batches per replica, as `recalibrateBatchNorm` counts them.
      const size = Math.min(batchSize, dataset.count);
      if (size === 0) throw new Error("batch-norm recalibration needs at least one image");
      const { weights } = await spread(
        dataset,
        Math.floor(dataset.count / size),
        size,
        "recalibrated",
        (images, labels, id) => ({
          kind: "recalibrate",
          id,
          images,
          labels,
          choice,
          batchSize: size,
        }),
        (images, labels) =>
          recalibrateBatchNorm(supernet.subnet(choice), {
            images: { ...dataset, count: labels.length, images, labels },
            normalization: options.normalization,
            batchSize: size,
          }),
      );
      combineRunningStatistics(tf, layout, replicas.slice(0, weights.length - 1), weights);
    },
    ...(evaluationChoice === undefined
      ? {}
      : { evaluate: (dataset: ImageDataset) => evaluateChoice(dataset, evaluationChoice) }),
    async run(batch) {
      const shards = shardBatch(batch.labels.length, count);
      const step = options.stepOf(batch.step);
      writeVariables(layout, parameters);
      const id = nextId++;
      const answers = replicas.map((replica, index) => {
        const shard = shards[index + 1] as { start: number; end: number };
        return request(
          replica,
          {
            kind: "step",
            id,
            images: batch.images.slice(shard.start * imageSize, shard.end * imageSize),
            labels: batch.labels.slice(shard.start, shard.end),
            labelSmoothing: batch.labelSmoothing,
            step,
          },
          "done",
        );
      });
      const own = shards[0] as { start: number; end: number };
      // Replica 0 works while the workers do; its gradients wait in tensors.
      const computeOwnShard = () =>
        tf.tidy(() => {
          const { x, y } = createBatchTensors(
            batch.images.subarray(own.start * imageSize, own.end * imageSize),
            batch.labels.subarray(own.start, own.end),
            options.geometry,
            options.classes,
            options.normalization,
          );
          const gradients = computeReplicaGradients(
            options.teacher === undefined ? { supernet } : { supernet, teacher: options.teacher },
            step,
            x,
            y,
            batch.labelSmoothing,
          );
          const masks =
            gradients.regions === undefined
              ? undefined
              : createUpdateMasks(gradients.regions.filter((region) => region.variable.trainable));
          return {
            grads: gradients.grads,
            loss: gradients.loss,
            accuracy: gradients.accuracy,
            masks: masks === undefined ? {} : Object.fromEntries(masks),
          };
        });
      const settled = Promise.allSettled(answers);
      let local: ReturnType<typeof computeOwnShard>;
      try {
        local = computeOwnShard();
      } catch (error) {
        // The workers' answers no longer matter, but must not go unhandled.
        await settled;
        throw error;
      }
      let done: Done[];
      try {
        done = await Promise.all(answers);
      } catch (error) {
        tf.dispose(local);
        throw error;
      }
      const weights = shards.map((shard) => (shard.end - shard.start) / batch.labels.length);
      const ownResult = readStepResult(local.loss as tf.Scalar, local.accuracy as tf.Scalar);
      tf.tidy(() => {
        const summed = sumGradients(tf, layout, local.grads, replicas, done, weights);
        const masks = new Map(Object.entries(local.masks as tf.NamedTensorMap));
        batch.optimizer.step(summed, batch.learningRate, masks.size === 0 ? undefined : masks);
      });
      tf.dispose(local);
      combineRunningStatistics(tf, layout, replicas, weights);
      let loss = ownResult.loss * (weights[0] as number);
      let accuracy = ownResult.accuracy * (weights[0] as number);
      for (const [index, answer] of done.entries()) {
        loss += answer.loss * (weights[index + 1] as number);
        accuracy += answer.accuracy * (weights[index + 1] as number);
      }
      return { loss, accuracy };
    },
  };
}

/** Σ weight_k × gradient_k over the replicas, in replica order, by this thread's variable names. */
function sumGradients(
  tf: DataParallelOptions["tf"],
  layout: VariableLayout,
  own: tf.NamedTensorMap,
  replicas: readonly Replica[],
  done: readonly Done[],
  weights: readonly number[],
): tf.NamedTensorMap {
  const ownIndices = Object.keys(own)
    .map((name) => layout.indexByName.get(name))
    .sort((a, b) => (a as number) - (b as number));
  for (const [index, answer] of done.entries()) {
    if (JSON.stringify(answer.gradients) !== JSON.stringify(ownIndices)) {
      throw new Error(
        `training worker ${index + 1} computed gradients of other variables than this thread`,
      );
    }
  }
  const summed: tf.NamedTensorMap = {};
  for (const [name, gradient] of Object.entries(own)) {
    const index = layout.indexByName.get(name) as number;
    const variable = layout.variables[index] as tf.Variable;
    let total = tf.mul(gradient, weights[0] as number);
    for (const [replica, { results }] of replicas.entries()) {
      const values = tf.tensor(layoutView(layout, results, index).slice(), variable.shape);
      total = tf.add(total, tf.mul(values, weights[replica + 1] as number));
    }
    summed[name] = total;
  }
  return summed;
}

/** Running statistics := the weighted mean of every replica's (results buffers of `replicas`). */
function combineRunningStatistics(
  tf: DataParallelOptions["tf"],
  layout: VariableLayout,
  replicas: readonly Replica[],
  weights: readonly number[],
): void {
  tf.tidy(() => {
    for (const [index, variable] of layout.variables.entries()) {
      if (variable.trainable) continue;
      const own = (variable.dataSync() as Float32Array).slice();
      const before = own.slice();
      meanOfReplicas(
        own,
        replicas.map(({ results }) => layoutView(layout, results, index)),
        weights,
      );
      if (own.some((value, i) => value !== before[i]))
        variable.assign(tf.tensor(own, variable.shape));
    }
  });
}
