/**
 * The training loop later stages (supernet training, fine-tuning while
 * pruning) build on: mini-batch SGD/Adam over a `TrainableNetwork`, with
 *
 *   per epoch:  seeded shuffle -> per batch: gather uint8 images -> seeded
 *               augment (padding with the pixel that normalises to 0) -> normalise -> forward + loss (label smoothing) ->
 *               gradients -> learning rate from the schedule -> update
 *               -> progress event;  then validation -> epoch event ->
 *               optional checkpoint.
 *
 * Deterministic for a given seed and backend: every random choice comes from
 * a stream derived from the seed and (epoch, batch). No tensor outlives its
 * batch (tested: tf.memory().numTensors is flat across epochs). An
 * AbortSignal is checked between batches, and the loop yields to the event
 * loop there so the abort can arrive.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type AugmentOptions, augmentImages } from "../datasets/augment.js";
import { type ImageDataset, imageSize } from "../datasets/image-dataset.js";
import { type ChannelStatistics, normalizeImages, zeroPointPixel } from "../datasets/normalize.js";
import { createSeededRandom, deriveSeed, shuffledIndices } from "../datasets/seeded-random.js";
import type { BackendIdentity } from "./backend.js";
import {
  type CheckpointContents,
  computeCheckpoint,
  restoreCheckpoint,
  writeCheckpoint,
} from "./checkpoint.js";
import type { ForwardContext, ParameterSet } from "./layers.js";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "./optimizers.js";
import { computeLearningRate } from "./schedule.js";

/**
 * What the loop optimises: parameters plus a forward pass. The block
 * library's networks (`src/blocks/network.ts`) are the ones the pipeline
 * trains; tests also pass small hand-built ones.
 */
export interface TrainableNetwork {
  readonly parameters: ParameterSet;
  /** NHWC float images -> [batch, classes] logits. */
  apply(images: tf.Tensor4D, context: ForwardContext): tf.Tensor2D;
}

export type TrainingEvent =
  | {
      readonly kind: "batch";
      /** 0-based epoch. */
      readonly epoch: number;
      /** Epochs in the run. */
      readonly epochs: number;
      /** 0-based batch within the epoch. */
      readonly batch: number;
      readonly batches: number;
      readonly loss: number;
      readonly accuracy: number;
      readonly learningRate: number;
      readonly imagesPerSecond: number;
    }
  | {
      readonly kind: "epoch";
      readonly epoch: number;
      readonly epochs: number;
      /** Mean training loss and accuracy over the epoch's batches. */
      readonly loss: number;
      readonly accuracy: number;
      readonly validationLoss?: number;
      readonly validationAccuracy?: number;
      readonly seconds: number;
    }
  | { readonly kind: "checkpoint"; readonly epoch: number; readonly directory: string };

/** What one optimisation step gets (see `TrainingOptions.trainingStep`). */
export interface TrainingStepInput {
  readonly network: TrainableNetwork;
  readonly optimizer: Optimizer;
  readonly images: tf.Tensor4D;
  /** One-hot labels. */
  readonly labels: tf.Tensor2D;
  readonly learningRate: number;
  readonly labelSmoothing: number;
  /** Steps taken before this one (0-based, counted across epochs): seeds per-step choices. */
  readonly step: number;
}

export interface TrainingOptions {
  readonly network: TrainableNetwork;
  readonly train: ImageDataset;
  /** Evaluated after every epoch when given. */
  readonly validation?: ImageDataset;
  /** Input normalisation, normally the dataset manifest's training statistics. */
  readonly normalization: ChannelStatistics;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerConfig;
  readonly learningRate: number;
  /** Linear warm-up length in epochs (fractions allowed). @default 0 */
  readonly warmupEpochs?: number;
  /** @default 0 */
  readonly minLearningRate?: number;
  /** @default 0 */
  readonly labelSmoothing?: number;
  /** Training-time augmentation; `false` disables it. @default { padding: 4, horizontalFlip: true } */
  readonly augment?: Omit<AugmentOptions, "seed"> | false;
  /** Seeds shuffling and augmentation (initialisation is seeded by the network). */
  readonly seed: number;
  /** Drop the last incomplete batch (keeps batch-norm statistics sane). @default true */
  readonly dropRemainder?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: TrainingEvent) => void;
  /** Write a checkpoint after every `every` epochs (and the last). */
  readonly checkpoint?: {
    readonly directory: string;
    readonly every?: number;
    readonly backend: BackendIdentity;
  };
  /**
   * Continue from a checkpoint of this same run (weights, batch-norm state,
   * optimizer slots and step): training resumes at the epoch it recorded and
   * ends where an uninterrupted run would have.
   */
  readonly resumeFrom?: CheckpointContents;
  /**
   * Called after every optimizer step with the number of steps taken so far
   * (1-based, counted across epochs), before the next batch: pruning re-applies
   * its masks here so pruned weights stay exactly zero.
   */
  readonly afterStep?: (step: number) => void;
  /**
   * Asked after every epoch (after validation); returning true ends training
   * there, as if that epoch were the last (a final checkpoint is written). Used
   * for wall-time budgets.
   */
  readonly stopAfterEpoch?: (summary: EpochSummary) => boolean;
  /**
   * Replaces the step (`runTrainingStep` on `network`): supernet training
   * trains several sub-networks per step. Must return the batch's loss and
   * accuracy and allocate no tensor that outlives it.
   */
  readonly trainingStep?: (input: TrainingStepInput) => { loss: number; accuracy: number };
  /**
   * Replaces the whole step, tensors included: data-parallel training
   * (src/data-parallel/) shards the batch's uint8 images across worker
   * threads. Excludes `trainingStep` (the runner knows its kind of step).
   */
  readonly batchStepRunner?: BatchStepRunner;
}

/** One step of the loop from the batch's (augmented) uint8 images, for `TrainingOptions.batchStepRunner`. */
export interface BatchStepRunner {
  run(batch: {
    readonly images: Uint8Array;
    readonly labels: Uint8Array;
    readonly optimizer: Optimizer;
    readonly learningRate: number;
    readonly labelSmoothing: number;
    /** Steps taken before this one (0-based, counted across epochs). */
    readonly step: number;
  }): Promise<{ loss: number; accuracy: number }>;
  /** When present, evaluates the validation split in its place (`evaluateNetwork`'s result). */
  evaluate?(dataset: ImageDataset): Promise<{ loss: number; accuracy: number }>;
}

export interface EpochSummary {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
}

export interface TrainingResult {
  readonly history: readonly EpochSummary[];
  readonly optimizer: Optimizer;
  readonly steps: number;
}

/** Converts a batch of uint8 NHWC images and labels to tensors. */
export function createBatchTensors(
  images: Uint8Array,
  labels: Uint8Array,
  geometry: Pick<ImageDataset, "height" | "width" | "channels">,
  classes: number,
  normalization: ChannelStatistics,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const count = labels.length;
  const x = tf.tensor4d(normalizeImages(images, geometry.channels, normalization), [
    count,
    geometry.height,
    geometry.width,
    geometry.channels,
  ]);
  const y = tf.tidy(
    () => tf.oneHot(tf.tensor1d(labels, "int32"), classes).toFloat() as tf.Tensor2D,
  );
  return { x, y };
}

function gatherImages(
  dataset: ImageDataset,
  indices: ArrayLike<number>,
): { images: Uint8Array; labels: Uint8Array } {
  const size = imageSize(dataset);
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    images.set(dataset.images.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = dataset.labels[index] as number;
  }
  return { images, labels };
}

/** Mean loss (without label smoothing) and accuracy of `network` on `dataset`, in evaluation mode. */
export function evaluateNetwork(
  network: TrainableNetwork,
  dataset: ImageDataset,
  normalization: ChannelStatistics,
  batchSize = 128,
): { loss: number; accuracy: number } {
  const { lossSum, correct } = sumEvaluation(
    network,
    dataset.images,
    dataset.labels,
    dataset,
    dataset.classNames.length,
    normalization,
    batchSize,
  );
  return { loss: lossSum / dataset.count, accuracy: correct / dataset.count };
}

/**
 * Summed loss and correct predictions of `network` on uint8 NHWC `images`, in
 * evaluation mode, in batches of `batchSize` (what `evaluateNetwork` divides,
 * and what a data-parallel replica computes on its share of the images).
 */
export function sumEvaluation(
  network: TrainableNetwork,
  images: Uint8Array,
  labels: Uint8Array,
  geometry: Pick<ImageDataset, "height" | "width" | "channels">,
  classes: number,
  normalization: ChannelStatistics,
  batchSize: number,
): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  const size = geometry.height * geometry.width * geometry.channels;
  for (let start = 0; start < labels.length; start += batchSize) {
    const end = Math.min(labels.length, start + batchSize);
    const [loss, hits] = tf.tidy(() => {
      const { x, y } = createBatchTensors(
        images.subarray(start * size, end * size),
        labels.subarray(start, end),
        geometry,
        classes,
        normalization,
      );
      const logits = network.apply(x, { training: false });
      const batchLoss = tf.losses.softmaxCrossEntropy(y, logits, undefined, 0, tf.Reduction.SUM);
      const batchHits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), "float32"));
      return [batchLoss.dataSync()[0] as number, batchHits.dataSync()[0] as number];
    });
    lossSum += loss;
    correct += hits;
  }
  return { lossSum, correct };
}

/** A step's gradients before the update: what a data-parallel replica computes on its shard. */
export interface StepGradients {
  /** By tfjs variable name; a variable the step did not read has none. */
  readonly grads: tf.NamedTensorMap;
  /** The batch's mean loss and accuracy. */
  readonly loss: tf.Scalar;
  readonly accuracy: tf.Scalar;
}

/**
 * Forward in training mode, softmax cross-entropy (with label smoothing) and
 * the gradients of every trainable parameter. Call inside a `tidy`.
 */
export function computeStepGradients(step: {
  network: TrainableNetwork;
  images: tf.Tensor4D;
  /** One-hot labels. */
  labels: tf.Tensor2D;
  labelSmoothing: number;
}): StepGradients {
  // variableGrads disposes everything but the loss and the gradients, so
  // the batch accuracy is computed inside and kept explicitly.
  let hits: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = step.network.apply(step.images, { training: true });
    const predicted = tf.argMax(logits, 1);
    hits = tf.keep(tf.mean(tf.cast(tf.equal(predicted, tf.argMax(step.labels, 1)), "float32")));
    return tf.losses.softmaxCrossEntropy(
      step.labels,
      logits,
      undefined,
      step.labelSmoothing,
    ) as tf.Scalar;
  }, step.network.parameters.trainable);
  return { grads, loss: value, accuracy: hits as tf.Scalar };
}

/**
 * One optimisation step: `computeStepGradients`, then the update.
 * Returns the batch loss and accuracy as numbers; allocates no tensor that
 * outlives the call. Shared by the loop and the throughput benchmark.
 */
export function runTrainingStep(step: {
  network: TrainableNetwork;
  optimizer: Optimizer;
  images: tf.Tensor4D;
  /** One-hot labels. */
  labels: tf.Tensor2D;
  learningRate: number;
  labelSmoothing: number;
}): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const { grads, loss, accuracy } = computeStepGradients(step);
    step.optimizer.step(grads, step.learningRate);
    return readStepResult(loss, accuracy);
  });
}

/** A step's loss and accuracy as numbers; disposes the accuracy (kept out of its tidy). */
export function readStepResult(
  loss: tf.Scalar,
  accuracy: tf.Scalar,
): { loss: number; accuracy: number } {
  const hits = accuracy.dataSync()[0] as number;
  accuracy.dispose();
  return { loss: loss.dataSync()[0] as number, accuracy: hits };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function trainNetwork(options: TrainingOptions): Promise<TrainingResult> {
  const { train, batchSize } = options;
  if (!(batchSize > 0 && Number.isInteger(batchSize)))
    throw new RangeError(`batchSize ${batchSize}`);
  const dropRemainder = options.dropRemainder ?? true;
  const batches = dropRemainder
    ? Math.floor(train.count / batchSize)
    : Math.ceil(train.count / batchSize);
  if (batches === 0)
    throw new Error(`${train.count} training images cannot fill a batch of ${batchSize}`);
  if (options.trainingStep !== undefined && options.batchStepRunner !== undefined)
    throw new Error("trainingStep and batchStepRunner exclude each other");
  const optimizer = createOptimizer(options.optimizer, options.network.parameters.trainable);
  try {
    return await runEpochs(options, optimizer, batches);
  } catch (error) {
    // The caller never sees this optimizer: release its slots.
    optimizer.dispose();
    throw error;
  }
}

async function runEpochs(
  options: TrainingOptions,
  optimizer: Optimizer,
  batches: number,
): Promise<TrainingResult> {
  const { network, train, batchSize, epochs } = options;
  const classes = train.classNames.length;
  const totalSteps = batches * epochs;
  const warmupSteps = Math.round((options.warmupEpochs ?? 0) * batches);
  const augment = options.augment ?? {};
  const history: EpochSummary[] = [];
  let step = 0;
  let firstEpoch = 0;
  if (options.resumeFrom !== undefined) {
    restoreCheckpoint(options.resumeFrom, { parameters: network.parameters, optimizer });
    firstEpoch = options.resumeFrom.manifest.epoch;
    step = options.resumeFrom.manifest.step;
  }
  for (let epoch = firstEpoch; epoch < epochs; epoch++) {
    const epochStart = performance.now();
    const order = shuffledIndices(
      train.count,
      createSeededRandom(deriveSeed(options.seed, `shuffle/${epoch}`)),
    );
    let lossSum = 0;
    let accuracySum = 0;
    for (let batch = 0; batch < batches; batch++) {
      options.signal?.throwIfAborted();
      const batchStart = performance.now();
      const indices = order.subarray(
        batch * batchSize,
        Math.min(train.count, (batch + 1) * batchSize),
      );
      const gathered = gatherImages(train, indices);
      const images =
        augment === false
          ? gathered.images
          : augmentImages(
              gathered.images,
              indices.length,
              train,
              { fill: zeroPointPixel(options.normalization), ...augment, seed: options.seed },
              `augment/${epoch}/${batch}`,
            );
      const learningRate = computeLearningRate(step, {
        baseLearningRate: options.learningRate,
        totalSteps,
        warmupSteps,
        minLearningRate: options.minLearningRate ?? 0,
      });
      const labelSmoothing = options.labelSmoothing ?? 0;
      const runner = options.batchStepRunner;
      const { loss, accuracy } =
        runner !== undefined
          ? await runner.run({
              images,
              labels: gathered.labels,
              optimizer,
              learningRate,
              labelSmoothing,
              step,
            })
          : tf.tidy(() => {
              const { x, y } = createBatchTensors(
                images,
                gathered.labels,
                train,
                classes,
                options.normalization,
              );
              const input: TrainingStepInput = {
                network,
                optimizer,
                images: x,
                labels: y,
                learningRate,
                labelSmoothing,
                step,
              };
              return (options.trainingStep ?? runTrainingStep)(input);
            });
      if (!Number.isFinite(loss)) {
        throw new Error(
          `training diverged: loss ${loss} at epoch ${epoch}, batch ${batch} (lower the learning rate)`,
        );
      }
      step++;
      options.afterStep?.(step);
      lossSum += loss;
      accuracySum += accuracy;
      options.onProgress?.({
        kind: "batch",
        epoch,
        epochs,
        batch,
        batches,
        loss,
        accuracy,
        learningRate,
        imagesPerSecond: (indices.length * 1000) / (performance.now() - batchStart),
      });
      await yieldToEventLoop();
    }
    options.signal?.throwIfAborted();
    let summary: EpochSummary = { epoch, loss: lossSum / batches, accuracy: accuracySum / batches };
    if (options.validation !== undefined && options.validation.count > 0) {
      const result =
        options.batchStepRunner?.evaluate !== undefined
          ? await options.batchStepRunner.evaluate(options.validation)
          : evaluateNetwork(network, options.validation, options.normalization);
      summary = { ...summary, validationLoss: result.loss, validationAccuracy: result.accuracy };
    }
    history.push(summary);
    options.onProgress?.({
      kind: "epoch",
      epochs,
      ...summary,
      seconds: (performance.now() - epochStart) / 1000,
    });
    const stop = options.stopAfterEpoch?.(summary) ?? false;
    const checkpoint = options.checkpoint;
    if (
      checkpoint !== undefined &&
      ((epoch + 1) % (checkpoint.every ?? 1) === 0 || epoch === epochs - 1 || stop)
    ) {
      const metrics: Record<string, number> = { loss: summary.loss, accuracy: summary.accuracy };
      if (summary.validationAccuracy !== undefined)
        metrics.validationAccuracy = summary.validationAccuracy;
      const contents = computeCheckpoint({
        parameters: network.parameters,
        optimizer,
        epoch: epoch + 1,
        seed: options.seed,
        backend: checkpoint.backend,
        metrics,
      });
      await writeCheckpoint(checkpoint.directory, contents);
      options.onProgress?.({ kind: "checkpoint", epoch, directory: checkpoint.directory });
    }
    if (stop) break;
  }
  return { history, optimizer, steps: step };
}
