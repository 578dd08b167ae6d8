/**
 * The `dataset` stage: decodes the recipe's dataset (CIFAR-10 binary batches
 * or an image folder), resizes it to the input resolution, splits training
 * and validation images with the recipe's seed, and writes one tensor file
 * per split plus manifest.json (docs/dataset-format.md).
 *
 * Reads: the dataset directory (every byte, memoised by stat), the dataset
 * keys and the seed. Normalisation and augmentation are applied while
 * training, so those keys are not read here and editing them does not
 * repack the data.
 */

import type { DatasetSource } from "../datasets/artifacts.js";
import { missingCifar10Message } from "../datasets/cifar10-binary.js";
import type { StageConfig } from "../graph-runner/stage.js";
import type { StageFactory } from "./index.js";

const KEYS = {
  format: "dataset.format",
  path: "dataset.path",
  testPath: "dataset.test_path",
  sha256: "dataset.sha256",
  verifyChecksums: "dataset.verify_checksums",
  trainLimit: "dataset.train_limit",
  testLimit: "dataset.test_limit",
  validationFraction: "dataset.validation_fraction",
  resolution: "dataset.input_resolution_px",
  seed: "seed",
} as const;

export const createDatasetStage: StageFactory = () => ({
  implementation: import.meta.url,
  configKeys: Object.values(KEYS),
  fileInputs: (config) => [config[KEYS.path] as string, ...optionalString(config, KEYS.testPath)],
  describeMissingInput: (path, config) =>
    config[KEYS.format] === "cifar10-binary"
      ? missingCifar10Message(path, "data_batch_1.bin")
      : `Put the images there as ${path}/<class>/*.png or *.jpg, or point the recipe's dataset path at them.`,
  async run(context) {
    // Imported here: the dataset code is only needed when the stage runs.
    const { writeDatasetArtifacts } = await import("../datasets/artifacts.js");
    const { config } = context;
    const source = datasetSource(config, context.resolveInput);
    const resolution = config[KEYS.resolution] as number;
    const trainLimit = config[KEYS.trainLimit] as number;
    const testLimit = config[KEYS.testLimit] as number;
    const { manifest } = await writeDatasetArtifacts(
      {
        source,
        seed: config[KEYS.seed] as number,
        validationFraction: config[KEYS.validationFraction] as number,
        resize: { height: resolution, width: resolution },
        limit: {
          ...(trainLimit > 0 ? { train: trainLimit } : {}),
          ...(testLimit > 0 ? { test: testLimit } : {}),
        },
      },
      context.outDir,
    );
    const counts = Object.entries(manifest.splits)
      .map(([name, split]) => `${split.count} ${name}`)
      .join(", ");
    context.progress(
      `${counts} images of ${manifest.classNames.length} classes at ${resolution}x${resolution}`,
    );
  },
});

function datasetSource(
  config: StageConfig,
  resolveInput: (declared: string) => string,
): DatasetSource {
  const directory = resolveInput(config[KEYS.path] as string);
  if (config[KEYS.format] === "image-folder") {
    const testPath = optionalString(config, KEYS.testPath)[0];
    return {
      kind: "image-folder",
      root: directory,
      ...(testPath === undefined ? {} : { testRoot: resolveInput(testPath) }),
    };
  }
  const sums = config[KEYS.sha256] as Record<string, string>;
  return {
    kind: "cifar10-binary",
    directory,
    ...(Object.keys(sums).length > 0
      ? { checksums: new Map(Object.entries(sums)) }
      : { verifyChecksums: config[KEYS.verifyChecksums] === true }),
  };
}

function optionalString(config: StageConfig, key: string): string[] {
  const value = config[key];
  return typeof value === "string" && value !== "" ? [value] : [];
}
