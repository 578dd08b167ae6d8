/**
 * Data-parallel training over worker threads: reproducible for a seed and a
 * worker count, close to one worker's result on a small network (batch
 * normalisation sees per-shard statistics, so not equal), and working for
 * every kind of step the stages take (one network, a supernet's sandwich
 * step, distillation from a frozen teacher).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSupernet, type Supernet } from "../../src/blocks/network.js";
import { resolveArchitectureChoice } from "../../src/blocks/search-space.js";
import { createDataParallelTrainer } from "../../src/data-parallel/trainer.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { computeUsedElements } from "../../src/supernet/region-masks.js";
import { runSandwichStep } from "../../src/supernet/sandwich-step.js";
import { createTrainingBackend, type TrainingBackend } from "../../src/training/backend.js";
import { evaluateNetwork, trainNetwork } from "../../src/training/loop.js";
import { MIDDLE, SMALL, SPACE } from "../supernet/support.js";
import { firstImages, loadSubset } from "../training/support.js";

let backend: TrainingBackend;
let tf: typeof TfCore;
let data: Awaited<ReturnType<typeof loadSubset>>;
let train: ImageDataset;
let validation: ImageDataset;

before(async () => {
  backend = await createTrainingBackend({ backend: "wasm" });
  tf = backend.tf;
  data = await loadSubset();
  train = firstImages(data.train, 96);
  validation = firstImages(data.test, 50);
});

const RESNET_SPACE = {
  stem: { channels: 8, stride: 1 as const },
  stages: [{ block: "resnet" as const, depth: 1, channels: 8, kernel_size: 3, stride: 2 as const }],
  head: { dropout: 0 },
};

function weightsOf(supernet: Supernet): Float32Array[] {
  return supernet.parameters.all().map((v) => (v.dataSync() as Float32Array).slice());
}

function maxDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  for (const [i, values] of a.entries()) {
    const other = b[i] as Float32Array;
    for (let j = 0; j < values.length; j++)
      max = Math.max(max, Math.abs((values[j] as number) - (other[j] as number)));
  }
  return max;
}

/** Trains a fresh ResNet-style network for 2 epochs of 3 batches with `workers` replicas. */
async function trainResnet(workers: number): Promise<{ weights: Float32Array[]; loss: number }> {
  const supernet = createSupernet(RESNET_SPACE, { classes: 10, inputResolution: 32, seed: 5 });
  const network = supernet.subnet();
  const trainer =
    workers === 1
      ? undefined
      : await createDataParallelTrainer({
          replicas: workers,
          tf,
          backend,
          supernet,
          stepOf: () => ({ kind: "single", choice: network.choice }),
          evaluationChoice: network.choice,
          geometry: train,
          classes: 10,
          normalization: data.normalization,
        });
  try {
    const { history, optimizer } = await trainNetwork({
      network,
      train,
      normalization: data.normalization,
      epochs: 2,
      batchSize: 32,
      optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 5e-4 },
      learningRate: 0.05,
      validation,
      seed: 11,
      ...(trainer === undefined ? {} : { batchStepRunner: trainer }),
    });
    optimizer.dispose();
    if (trainer?.evaluate !== undefined) {
      // Spread over the replicas, the validation equals the single-process evaluation.
      const spread = await trainer.evaluate(validation);
      const local = evaluateNetwork(network, validation, data.normalization);
      assert.equal(spread.accuracy, local.accuracy);
      assert.ok(Math.abs(spread.loss - local.loss) < 1e-5, `${spread.loss} vs ${local.loss}`);
    }
    return { weights: weightsOf(supernet), loss: history.at(-1)?.loss ?? Number.NaN };
  } finally {
    await trainer?.close();
    supernet.dispose();
  }
}

describe("data-parallel training", () => {
  let one: { weights: Float32Array[]; loss: number };
  let two: { weights: Float32Array[]; loss: number };
  before(async () => {
    one = await trainResnet(1);
    two = await trainResnet(2);
  });

  test("two runs with 2 workers give identical weights", async () => {
    const again = await trainResnet(2);
    assert.deepEqual(again.weights, two.weights);
    assert.equal(again.loss, two.loss);
  });

  test("2 workers stay close to 1 worker (per-shard batch statistics only)", () => {
    const difference = maxDifference(one.weights, two.weights);
    assert.ok(difference > 0, "2 workers should not equal 1 worker bit for bit");
    assert.ok(difference < 0.05, `weights differ by up to ${difference}`);
    assert.ok(Math.abs(one.loss - two.loss) < 0.1, `loss ${one.loss} vs ${two.loss}`);
  });

  test("a sandwich step over 2 workers matches the single-process step closely and leaks nothing", async () => {
    const build = () => createSupernet(SPACE, { classes: 4, inputResolution: 32, seed: 4 });
    const reference = build();
    const parallel = build();
    const images = firstImages(train, 8);
    const labels = images.labels.map((label) => label % 4);
    const normalization = data.normalization;
    const choices = [
      resolveArchitectureChoice(SPACE, MIDDLE),
      resolveArchitectureChoice(SPACE, SMALL),
    ];
    const referenceOptimizer = (await import("../../src/training/optimizers.js")).createOptimizer(
      { kind: "sgd", momentum: 0 },
      reference.parameters.trainable,
    );
    const parallelOptimizer = (await import("../../src/training/optimizers.js")).createOptimizer(
      { kind: "sgd", momentum: 0 },
      parallel.parameters.trainable,
    );
    const { createBatchTensors } = await import("../../src/training/loop.js");
    tf.tidy(() => {
      const { x, y } = createBatchTensors(images.images, labels, images, 4, normalization);
      runSandwichStep({
        supernet: reference,
        optimizer: referenceOptimizer,
        images: x,
        labels: y,
        learningRate: 0.1,
        labelSmoothing: 0.1,
        choices,
        distillation: true,
      });
    });
    const trainer = await createDataParallelTrainer({
      replicas: 2,
      tf,
      backend,
      supernet: parallel,
      stepOf: () => ({ kind: "sandwich", choices, distillation: true }),
      geometry: images,
      classes: 4,
      normalization,
    });
    try {
      const tensors = tf.memory().numTensors;
      await trainer.run({
        images: images.images,
        labels,
        optimizer: parallelOptimizer,
        learningRate: 0.1,
        labelSmoothing: 0.1,
        step: 0,
      });
      assert.equal(tf.memory().numTensors, tensors, "the step leaked tensors");
    } finally {
      await trainer.close();
    }
    // Elements no sub-network read stay exactly as they were in both.
    const a = weightsOf(reference);
    const b = weightsOf(parallel);
    const untouched = weightsOf(build());
    const read = computeUsedElements(
      choices.flatMap((choice) => reference.subnet(choice).regions()),
    );
    let checked = 0;
    for (const [i, variable] of reference.parameters.all().entries()) {
      if (!read.has(variable.name)) continue;
      const mask = read.get(variable.name);
      if (mask === undefined) continue;
      const initial = untouched[i] as Float32Array;
      for (let j = 0; j < mask.length; j++) {
        if (mask[j] === 1) continue;
        assert.equal(a[i]?.[j], initial[j], `single process: ${variable.name}[${j}] moved`);
        assert.equal(b[i]?.[j], initial[j], `2 workers: ${variable.name}[${j}] moved`);
        checked++;
      }
    }
    assert.ok(checked > 0, "the sub-networks leave some elements unread");
    const difference = maxDifference(a, b);
    assert.ok(difference > 0 && difference < 0.05, `weights differ by up to ${difference}`);
    referenceOptimizer.dispose();
    parallelOptimizer.dispose();
    for (const supernet of [reference, parallel]) supernet.dispose();
  });

  test("a distillation step reads the frozen teacher in every worker", async () => {
    const student = createSupernet(SPACE, { classes: 4, inputResolution: 32, seed: 4 });
    const teacher = createSupernet(SPACE, { classes: 4, inputResolution: 32, seed: 9 });
    const choice = resolveArchitectureChoice(SPACE, SMALL);
    const teacherChoice = resolveArchitectureChoice(SPACE, MIDDLE);
    const images = firstImages(train, 8);
    const labels = images.labels.map((label) => label % 4);
    const run = async (replicas: number) => {
      const copy = createSupernet(SPACE, { classes: 4, inputResolution: 32, seed: 4 });
      const optimizer = (await import("../../src/training/optimizers.js")).createOptimizer(
        { kind: "sgd", momentum: 0 },
        copy.subnet(choice).parameters.trainable,
      );
      const trainer = await createDataParallelTrainer({
        replicas,
        tf,
        backend,
        supernet: copy,
        teacher,
        stepOf: () => ({ kind: "distillation", choice, teacherChoice }),
        geometry: images,
        classes: 4,
        normalization: data.normalization,
      });
      try {
        const result = await trainer.run({
          images: images.images,
          labels,
          optimizer,
          learningRate: 0.1,
          labelSmoothing: 0,
          step: 0,
        });
        assert.ok(Number.isFinite(result.loss));
        return weightsOf(copy);
      } finally {
        await trainer.close();
        optimizer.dispose();
        copy.dispose();
      }
    };
    const first = await run(2);
    const second = await run(2);
    assert.deepEqual(first, second);
    const initial = weightsOf(student);
    assert.ok(maxDifference(first, initial) > 0, "the step changed nothing");
    for (const supernet of [student, teacher]) supernet.dispose();
  });

  test("recalibration and evaluation of a sub-network spread over 2 workers match one process", async () => {
    const reference = createSupernet(SPACE, { classes: 4, inputResolution: 32, seed: 4 });
    const parallel = createSupernet(SPACE, { classes: 4, inputResolution: 32, seed: 4 });
    const choice = resolveArchitectureChoice(SPACE, SMALL);
    const images = { ...firstImages(train, 80), classNames: ["0", "1", "2", "3"] };
    const labels = images.labels.map((label) => label % 4);
    const dataset = { ...images, labels };
    const { recalibrateBatchNorm } = await import("../../src/supernet/recalibrate.js");
    // 80 images in batches of 16: 5 batches, 3 here and 2 in the worker.
    recalibrateBatchNorm(reference.subnet(choice), {
      images: dataset,
      normalization: data.normalization,
      batchSize: 16,
    });
    const trainer = await createDataParallelTrainer({
      replicas: 2,
      tf,
      backend,
      supernet: parallel,
      stepOf: () => ({ kind: "single", choice }),
      geometry: dataset,
      classes: 4,
      normalization: data.normalization,
    });
    try {
      const untouched = weightsOf(parallel);
      await trainer.recalibrate(choice, dataset, 16);
      const a = weightsOf(reference);
      const b = weightsOf(parallel);
      const difference = maxDifference(a, b);
      assert.ok(difference < 1e-4, `running statistics differ by up to ${difference}`);
      assert.ok(maxDifference(b, untouched) > 0.01, "recalibration changed nothing");
      // Elements outside the sub-network keep their exact values.
      for (const [i, values] of b.entries()) {
        const before = untouched[i] as Float32Array;
        const expected = a[i] as Float32Array;
        for (let j = 0; j < values.length; j++)
          if (expected[j] === before[j]) assert.equal(values[j], before[j]);
      }
      const spread = await trainer.evaluateChoice(dataset, choice);
      const local = evaluateNetwork(reference.subnet(choice), dataset, data.normalization);
      assert.equal(spread.accuracy, local.accuracy);
      assert.ok(Math.abs(spread.loss - local.loss) < 1e-4, `${spread.loss} vs ${local.loss}`);
    } finally {
      await trainer.close();
      reference.dispose();
      parallel.dispose();
    }
  });

  test("a failing worker fails the step with its message", async () => {
    const supernet = createSupernet(RESNET_SPACE, { classes: 10, inputResolution: 32, seed: 5 });
    const network = supernet.subnet();
    const optimizer = (await import("../../src/training/optimizers.js")).createOptimizer(
      { kind: "sgd" },
      network.parameters.trainable,
    );
    const trainer = await createDataParallelTrainer({
      replicas: 2,
      tf,
      backend,
      supernet,
      // Replica 0 runs the valid step; the worker gets the same description, so
      // break the teacher requirement instead: no teacher anywhere.
      stepOf: () => ({
        kind: "distillation",
        choice: network.choice,
        teacherChoice: network.choice,
      }),
      geometry: train,
      classes: 10,
      normalization: data.normalization,
    });
    try {
      await assert.rejects(
        trainer.run({
          images: firstImages(train, 4).images,
          labels: firstImages(train, 4).labels,
          optimizer,
          learningRate: 0.1,
          labelSmoothing: 0,
          step: 0,
        }),
        /needs a teacher network/,
      );
    } finally {
      await trainer.close();
      optimizer.dispose();
      supernet.dispose();
    }
  });
});

after(() => undefined);
