/**
 * Batch-norm recalibration of one sub-network. A supernet's running
 * statistics describe whichever sub-networks trained last (in our sandwich
 * step: the largest), not the one about to be evaluated, so before a
 * sub-network is evaluated its batch-norm layers get statistics of its own:
 * the plain mean of the batch statistics over a fixed set of training images
 * (forward passes in training mode, no augmentation, no dropout, no
 * gradients). The statistics land in the sub-network's slices of the shared
 * running-statistics variables; the weights are untouched.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type ImageDataset, imageSize } from "../datasets/image-dataset.js";
import type { ChannelStatistics } from "../datasets/normalize.js";
import type { TrainableNetwork } from "../training/loop.js";
import { createBatchTensors } from "../training/loop.js";

export interface RecalibrationOptions {
  /** The images whose statistics are used, in batches of `batchSize` (a last partial batch is dropped unless it is the only one). */
  readonly images: ImageDataset;
  readonly normalization: ChannelStatistics;
  /** @default 64 */
  readonly batchSize?: number;
}

export function recalibrateBatchNorm(
  network: TrainableNetwork,
  options: RecalibrationOptions,
): void {
  const { images: dataset, normalization } = options;
  const batchSize = Math.min(options.batchSize ?? 64, dataset.count);
  if (batchSize === 0) throw new Error("batch-norm recalibration needs at least one image");
  const batches = Math.floor(dataset.count / batchSize);
  const size = imageSize(dataset);
  const classes = dataset.classNames.length;
  for (let batch = 0; batch < batches; batch++) {
    const start = batch * batchSize;
    const images = dataset.images.subarray(start * size, (start + batchSize) * size);
    const labels = dataset.labels.subarray(start, start + batchSize);
    tf.tidy(() => {
      const { x } = createBatchTensors(images, labels, dataset, classes, normalization);
      // Batch k (0-based) is folded in with momentum k / (k + 1): a plain mean.
      network.apply(x, {
        training: true,
        runningStatistics: { momentum: batch / (batch + 1) },
        dropout: false,
      });
    });
  }
}
