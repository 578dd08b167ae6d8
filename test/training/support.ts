/** Shared helpers for the training tests: a tiny CNN and data from the committed subset. */
import type * as TfCore from "@tensorflow/tfjs-core";
import { SliceableBatchNorm } from "../../src/blocks/sliceable-batch-norm.js";
import { SliceableConv2d, SliceableLinear } from "../../src/blocks/sliceable-layers.js";
import { loadCifar10Binary } from "../../src/datasets/cifar10-binary.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { selectImages } from "../../src/datasets/image-dataset.js";
import { computeChannelStatistics } from "../../src/datasets/normalize.js";
import { ParameterSet } from "../../src/training/layers.js";
import type { TrainableNetwork } from "../../src/training/loop.js";
import { committedCifar10Subset } from "../support/paths.js";

/**
 * conv-bn-relu x3 (8, 16, 32 channels, stride 2 after the first), GAP,
 * linear: the block library's layers, used at their full size.
 */
export function createTinyCnn(tf: typeof TfCore, seed: number, classes = 10): TrainableNetwork {
  const params = new ParameterSet(seed);
  const widths: [number, number, 1 | 2][] = [
    [3, 8, 1],
    [8, 16, 2],
    [16, 32, 2],
  ];
  const layers = widths.map(([inChannels, outChannels, stride], i) => {
    const conv = new SliceableConv2d(params, `conv${i}`, {
      maxInChannels: inChannels,
      maxOutChannels: outChannels,
      maxKernel: 3,
      stride,
    });
    const bn = new SliceableBatchNorm(params, `bn${i}`, outChannels);
    const choice = { kernelSize: 3, inChannels, outChannels };
    return (x: TfCore.Tensor4D, training: boolean) =>
      tf.relu(bn.apply(conv.apply(x, choice), { training }));
  });
  const head = new SliceableLinear(params, "head", 32, classes);
  return {
    parameters: params,
    apply(images, context) {
      let x = images;
      for (const layer of layers) x = layer(x, context.training);
      return head.apply(tf.mean(x, [1, 2]) as TfCore.Tensor2D, {
        inFeatures: 32,
        outFeatures: classes,
      });
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
