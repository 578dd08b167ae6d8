/**
 * The accuracy side of data-parallel training in `train-throughput`
 * (`--accuracy-epochs N`): ResNet-8 trained for N epochs on the CIFAR-10
 * training images in ../shared/datasets/cifar10 with each worker count, and
 * once more with one worker and another seed, so the difference between
 * worker counts can be read against seed-to-seed noise. Test accuracy on the
 * first TEST_IMAGES test images.
 */
import { join } from "node:path";
import { packageRoot } from "../src/project-paths.js";
import type { TrainingBackend } from "../src/training/backend.js";

const DATASET = join(packageRoot, "..", "shared", "datasets", "cifar10");
const TEST_IMAGES = 2000;

export interface AccuracyRun {
  readonly workers: number;
  readonly seed: number;
  readonly test_accuracy: number;
  readonly train_seconds: number;
}

export async function measureWorkerAccuracy(
  backend: TrainingBackend,
  counts: readonly number[],
  epochs: number,
): Promise<AccuracyRun[]> {
  const [{ loadCifar10Binary }, { selectImages }, { computeChannelStatistics }] = await Promise.all(
    [
      import("../src/datasets/cifar10-binary.js"),
      import("../src/datasets/image-dataset.js"),
      import("../src/datasets/normalize.js"),
    ],
  );
  const { createReferenceNetwork } = await import("../src/training/reference-networks.js");
  const { evaluateNetwork, trainNetwork } = await import("../src/training/loop.js");
  const { createDataParallelTrainer } = await import("../src/data-parallel/trainer.js");
  const train = await loadCifar10Binary({ directory: DATASET, split: "train" });
  const allTest = await loadCifar10Binary({ directory: DATASET, split: "test" });
  const test = selectImages(
    allTest,
    Array.from({ length: Math.min(TEST_IMAGES, allTest.count) }, (_, i) => i),
  );
  const normalization = computeChannelStatistics(train.images, train.channels);
  const runs: AccuracyRun[] = [];
  const plan = [...counts.map((workers) => ({ workers, seed: 1 })), { workers: 1, seed: 2 }];
  for (const { workers, seed } of plan) {
    const network = createReferenceNetwork("resnet", { classes: 10, seed });
    const trainer =
      workers === 1
        ? undefined
        : await createDataParallelTrainer({
            replicas: workers,
            tf: backend.tf,
            backend,
            supernet: network.supernet,
            stepOf: () => ({ kind: "single", choice: network.choice }),
            evaluationChoice: network.choice,
            geometry: train,
            classes: 10,
            normalization,
          });
    const start = performance.now();
    try {
      const { optimizer } = await trainNetwork({
        network,
        train,
        normalization,
        epochs,
        batchSize: 64,
        optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 5e-4 },
        learningRate: 0.05,
        warmupEpochs: Math.min(0.5, epochs / 4),
        seed,
        ...(trainer === undefined ? {} : { batchStepRunner: trainer }),
      });
      optimizer.dispose();
    } finally {
      await trainer?.close();
    }
    const seconds = (performance.now() - start) / 1000;
    const { accuracy } = evaluateNetwork(network, test, normalization);
    network.parameters.dispose();
    process.stderr.write(
      `accuracy: workers ${workers}, seed ${seed}: test ${(100 * accuracy).toFixed(2)} % after ${epochs} epoch(s), ${seconds.toFixed(1)} s\n`,
    );
    runs.push({
      workers,
      seed,
      test_accuracy: Math.round(accuracy * 10000) / 10000,
      train_seconds: Math.round(seconds * 10) / 10,
    });
  }
  return runs;
}
