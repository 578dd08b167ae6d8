/** Shared helpers for the training tests: a tiny CNN and data from the committed subset. */
import type * as TfCore from "@tensorflow/tfjs-core";
import { loadCifar10Binary } from "../../src/datasets/cifar10-binary.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { selectImages } from "../../src/datasets/image-dataset.js";
import { computeChannelStatistics } from "../../src/datasets/normalize.js";
import {
  batchNorm,
  conv2d,
  dense,
  globalAveragePool,
  ParameterSet,
} from "../../src/training/layers.js";
import type { TrainableNetwork } from "../../src/training/loop.js";
import { committedCifar10Subset } from "../support/paths.js";

/** conv-bn-relu x3 (8, 16, 32 channels, stride 2 after the first), GAP, dense. */
export function createTinyCnn(tf: typeof TfCore, seed: number, classes = 10): TrainableNetwork {
  const params = new ParameterSet(seed);
  const widths: [number, number, number][] = [
    [3, 8, 1],
    [8, 16, 2],
    [16, 32, 2],
  ];
  const layers = widths.map(([inChannels, outChannels, stride], i) => {
    const conv = conv2d(params, `conv${i}`, { inChannels, outChannels, kernel: 3, stride });
    const bn = batchNorm(params, `bn${i}`, outChannels);
    return (x: TfCore.Tensor4D, training: boolean) =>
      tf.relu(bn(conv(x, { training }), { training }));
  });
  const head = dense(params, "head", { inFeatures: 32, outFeatures: classes });
  return {
    parameters: params,
    apply(images, context) {
      let x = images;
      for (const layer of layers) x = layer(x, context.training) as TfCore.Tensor4D;
      return head(globalAveragePool(x), context);
    },
  };
}

export async function loadSubset(): Promise<{
  train: ImageDataset;
  test: ImageDataset;
  normalization: ReturnType<typeof computeChannelStatistics>;
}> {
  const train = await loadCifar10Binary({ directory: committedCifar10Subset, split: "train" });
  const test = await loadCifar10Binary({ directory: committedCifar10Subset, split: "test" });
  return { train, test, normalization: computeChannelStatistics(train.images, 3) };
}

export function firstImages(dataset: ImageDataset, count: number): ImageDataset {
  return selectImages(
    dataset,
    Array.from({ length: count }, (_, i) => i),
  );
}
