/**
 * The fixed training images batch-norm recalibration uses: the first `count`
 * of a seeded permutation of the training split (a class-balanced sample in
 * expectation), the same for every sub-network so their accuracies compare.
 */
import { type ImageDataset, selectImages } from "../datasets/image-dataset.js";
import { createSeededRandom, deriveSeed, shuffledIndices } from "../datasets/seeded-random.js";

export function selectRecalibrationImages(
  train: ImageDataset,
  options: { readonly count: number; readonly seed: number },
): ImageDataset {
  const order = shuffledIndices(
    train.count,
    createSeededRandom(deriveSeed(options.seed, "recalibration")),
  );
  return selectImages(train, order.subarray(0, Math.min(options.count, train.count)));
}
