/**
 * The per-worker-count part of `train-throughput`: ResNet-8 training and
 * forward-only evaluation images/s with 1, 2, ... data-parallel replicas
 * (src/data-parallel/), the way the training stages run them: uint8 images
 * normalised per shard, gradients summed, one update. Every count is measured
 * in each round, side by side, and the median over the rounds is reported,
 * so machine load hits every count alike.
 */
import type * as TfCore from "@tensorflow/tfjs-core";
import type { TrainingBackend } from "../src/training/backend.js";

const BATCH = 64;
const SIDE = 32;
const CLASSES = 10;
/** Images one evaluation pass reads (the loop evaluates in batches of 128). */
const EVALUATION_IMAGES = 512;

export interface WorkerScaling {
  /** Median images/s by worker count. */
  readonly byWorkers: Record<string, { resnet_train: number; resnet_eval: number }>;
  /** Every round's figures, for the record. */
  readonly rounds: Record<string, { train: number[]; eval: number[] }>;
}

export async function measureWorkerScaling(
  backend: TrainingBackend,
  counts: readonly number[],
  steps: number,
  rounds: number,
): Promise<WorkerScaling> {
  const tf: typeof TfCore = backend.tf;
  const { createReferenceNetwork } = await import("../src/training/reference-networks.js");
  const { createOptimizer } = await import("../src/training/optimizers.js");
  const { createBatchTensors, runTrainingStep, sumEvaluation } = await import(
    "../src/training/loop.js"
  );
  const { createDataParallelTrainer } = await import("../src/data-parallel/trainer.js");
  const { createSeededRandom } = await import("../src/datasets/seeded-random.js");
  const random = createSeededRandom(7);
  const size = SIDE * SIDE * 3;
  const dataset = {
    count: EVALUATION_IMAGES,
    height: SIDE,
    width: SIDE,
    channels: 3,
    images: Uint8Array.from({ length: EVALUATION_IMAGES * size }, () => random.nextInt(256)),
    labels: Uint8Array.from({ length: EVALUATION_IMAGES }, (_, i) => i % CLASSES),
    classNames: Array.from({ length: CLASSES }, (_, i) => `class${i}`),
  };
  const batchImages = dataset.images.subarray(0, BATCH * size);
  const batchLabels = dataset.labels.subarray(0, BATCH);
  const normalization = { mean: [125, 123, 114], std: [63, 62, 66] };

  const setups = [];
  for (const workers of counts) {
    const network = createReferenceNetwork("resnet", { classes: CLASSES, seed: 1 });
    const optimizer = createOptimizer({ kind: "sgd", momentum: 0.9 }, network.parameters.trainable);
    const trainer =
      workers === 1
        ? undefined
        : await createDataParallelTrainer({
            replicas: workers,
            tf,
            backend,
            supernet: network.supernet,
            stepOf: () => ({ kind: "single", choice: network.choice }),
            evaluationChoice: network.choice,
            geometry: dataset,
            classes: CLASSES,
            normalization,
          });
    let step = 0;
    const train = async () => {
      const batch = {
        images: batchImages,
        labels: batchLabels,
        optimizer,
        learningRate: 0.01,
        labelSmoothing: 0,
        step: step++,
      };
      if (trainer !== undefined) await trainer.run(batch);
      else
        tf.tidy(() => {
          const { x, y } = createBatchTensors(
            batch.images,
            batch.labels,
            dataset,
            CLASSES,
            normalization,
          );
          runTrainingStep({ ...batch, network, images: x, labels: y });
        });
    };
    const evaluate = async () => {
      if (trainer?.evaluate !== undefined) await trainer.evaluate(dataset);
      else
        sumEvaluation(
          network,
          dataset.images,
          dataset.labels,
          dataset,
          CLASSES,
          normalization,
          128,
        );
    };
    // Warm-up: operator creation in every replica.
    await train();
    await evaluate();
    setups.push({ workers, network, optimizer, trainer, train, evaluate });
  }

  const rates: Record<string, { train: number[]; eval: number[] }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const setup of setups) {
      const key = String(setup.workers);
      rates[key] ??= { train: [], eval: [] };
      let start = performance.now();
      for (let i = 0; i < steps; i++) await setup.train();
      const train = (BATCH * steps * 1000) / (performance.now() - start);
      start = performance.now();
      await setup.evaluate();
      const evaluation = (EVALUATION_IMAGES * 1000) / (performance.now() - start);
      rates[key].train.push(train);
      rates[key].eval.push(evaluation);
      process.stderr.write(
        `round ${round + 1}/${rounds}  workers ${key}  resnet train ${train.toFixed(1).padStart(7)} img/s   eval ${evaluation.toFixed(1).padStart(7)} img/s\n`,
      );
    }
  }
  for (const setup of setups) {
    await setup.trainer?.close();
    setup.optimizer.dispose();
    setup.network.parameters.dispose();
  }
  const byWorkers: WorkerScaling["byWorkers"] = {};
  for (const [key, { train, eval: evaluation }] of Object.entries(rates)) {
    byWorkers[key] = {
      resnet_train: round2(median(train)),
      resnet_eval: round2(median(evaluation)),
    };
  }
  return { byWorkers, rounds: rates };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
