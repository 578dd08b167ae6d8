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
import { createUpdateMasks } from "../supernet/region-masks.js";
import type { BackendIdentity } from "../training/backend.js";
import {
  type BatchStepRunner,
  createBatchTensors,
  readStepResult,
  sumEvaluation,
} from "../training/loop.js";
import type { FromReplica, ReplicaSetup, ToReplica } from "./protocol.js";
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

/** The batch size of evaluation, as `evaluateNetwork`'s default. */
const EVALUATION_BATCH = 128;

export interface DataParallelTrainer extends BatchStepRunner {
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

type Answer = Extract<FromReplica, { kind: "done" | "evaluated" }>;
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
  const evaluationChoice = options.evaluationChoice;
  return {
    close,
    ...(evaluationChoice === undefined
      ? {}
      : {
          /**
           * Contiguous shares of the images (shards.ts), one per replica, each
           * evaluated in batches of `EVALUATION_BATCH`; sums added in replica
           * order.
           */
          async evaluate(dataset: ImageDataset) {
            const shares = shardBatch(dataset.count, Math.min(count, dataset.count));
            writeVariables(layout, parameters);
            const id = nextId++;
            const answers = shares.slice(1).map((share, index) =>
              request(
                replicas[index] as Replica,
                {
                  kind: "evaluate",
                  id,
                  images: dataset.images.slice(share.start * imageSize, share.end * imageSize),
                  labels: dataset.labels.slice(share.start, share.end),
                  choice: evaluationChoice,
                  batchSize: EVALUATION_BATCH,
                },
                "evaluated",
              ),
            );
            const settled = Promise.allSettled(answers);
            const own = shares[0] as { start: number; end: number };
            let sums: { lossSum: number; correct: number };
            try {
              sums = sumEvaluation(
                supernet.subnet(evaluationChoice),
                dataset.images.subarray(own.start * imageSize, own.end * imageSize),
                dataset.labels.subarray(own.start, own.end),
                options.geometry,
                options.classes,
                options.normalization,
                EVALUATION_BATCH,
              );
            } catch (error) {
              await settled;
              throw error;
            }
            let { lossSum, correct } = sums;
            for (const answer of await Promise.all(answers)) {
              lossSum += answer.lossSum;
              correct += answer.correct;
            }
            return { loss: lossSum / dataset.count, accuracy: correct / dataset.count };
          },
        }),
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
      combineRunningStatistics(tf, layout, replicas);
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

/** Running statistics := the mean of every replica's after the step. */
function combineRunningStatistics(
  tf: DataParallelOptions["tf"],
  layout: VariableLayout,
  replicas: readonly Replica[],
): void {
  tf.tidy(() => {
    for (const [index, variable] of layout.variables.entries()) {
      if (variable.trainable) continue;
      const own = (variable.dataSync() as Float32Array).slice();
      const before = own.slice();
      meanOfReplicas(
        own,
        replicas.map(({ results }) => layoutView(layout, results, index)),
      );
      if (own.some((value, i) => value !== before[i]))
        variable.assign(tf.tensor(own, variable.shape));
    }
  });
}
