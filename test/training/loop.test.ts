import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createTrainingBackend, type TrainingBackend } from "../../src/training/backend.js";
import {
  computeCheckpoint,
  loadCheckpoint,
  restoreCheckpoint,
} from "../../src/training/checkpoint.js";
import { ParameterSet } from "../../src/training/layers.js";
import { evaluateNetwork, type TrainingEvent, trainNetwork } from "../../src/training/loop.js";
import { createTinyCnn, firstImages, loadSubset } from "./support.js";

let backend: TrainingBackend;
let tf: typeof TfCore;
let data: Awaited<ReturnType<typeof loadSubset>>;

before(async () => {
  backend = await createTrainingBackend({ backend: "wasm" });
  tf = backend.tf;
  data = await loadSubset();
});

function weightsOf(network: ReturnType<typeof createTinyCnn>): number[] {
  return network.parameters.all().flatMap((v) => Array.from(v.dataSync()));
}

describe("training loop", () => {
  test("lowers the loss and beats chance on held-out images", async () => {
    const network = createTinyCnn(tf, 1);
    const events: TrainingEvent[] = [];
    const { history } = await trainNetwork({
      network,
      train: data.train,
      normalization: data.normalization,
      epochs: 3,
      batchSize: 50,
      optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 5e-4 },
      learningRate: 0.1,
      warmupEpochs: 0.5,
      labelSmoothing: 0.1,
      seed: 3,
      onProgress: (event) => events.push(event),
    });
    const first = history[0]?.loss ?? Number.NaN;
    const last = history.at(-1)?.loss ?? Number.NaN;
    assert.ok(last < first - 0.05, `loss went from ${first} to ${last}`);
    const { accuracy } = evaluateNetwork(network, firstImages(data.test, 500), data.normalization);
    assert.ok(accuracy > 0.2, `held-out accuracy ${accuracy} is not above chance (0.1)`);
    const batchEvents = events.filter((e) => e.kind === "batch");
    assert.equal(batchEvents.length, 3 * 40);
    const sample = batchEvents[5];
    assert.ok(sample !== undefined && sample.kind === "batch");
    assert.equal(sample.batches, 40);
    assert.ok(sample.imagesPerSecond > 0 && Number.isFinite(sample.loss) && sample.accuracy >= 0);
    assert.equal(events.filter((e) => e.kind === "epoch").length, 3);
    network.parameters.dispose();
  });

  test("is deterministic for a seed and leaks no tensors across epochs", async () => {
    const train = firstImages(data.train, 96);
    const run = async (seed: number) => {
      const network = createTinyCnn(tf, 7);
      const counts: number[] = [];
      const { history, optimizer } = await trainNetwork({
        network,
        train,
        validation: firstImages(data.test, 32),
        normalization: data.normalization,
        epochs: 3,
        batchSize: 32,
        optimizer: { kind: "adam" },
        learningRate: 0.01,
        seed,
        onProgress: (e) => {
          if (e.kind === "epoch") counts.push(tf.memory().numTensors);
        },
      });
      const weights = weightsOf(network);
      optimizer.dispose();
      network.parameters.dispose();
      return { history, weights, counts };
    };
    const before = tf.memory().numTensors;
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    assert.deepEqual(a.history, b.history);
    assert.deepEqual(a.weights, b.weights);
    assert.notDeepEqual(a.weights, c.weights);
    assert.equal(new Set(a.counts).size, 1, `tensor counts per epoch: ${a.counts}`);
    assert.equal(tf.memory().numTensors, before);
  });

  test("augmentation pads with the pixel that normalises to zero, as padding normalised images does", async () => {
    // White images: inside an image every input is positive; padding is ~0,
    // where black padding would be about -2 (-mean / std).
    const count = 16;
    const train = {
      count,
      height: 8,
      width: 8,
      channels: 3,
      images: new Uint8Array(count * 8 * 8 * 3).fill(255),
      labels: new Uint8Array(count),
      classNames: ["a", "b"],
    };
    const params = new ParameterSet(1);
    const w = params.weight("w", [1, 2], "zeros");
    let smallest = Number.POSITIVE_INFINITY;
    await trainNetwork({
      network: {
        parameters: params,
        apply(images) {
          smallest = Math.min(smallest, tf.min(images).dataSync()[0] as number);
          return tf.matMul(tf.mean(images, [1, 2, 3]).reshape([-1, 1]), w) as TfCore.Tensor2D;
        },
      },
      train,
      normalization: data.normalization,
      epochs: 2,
      batchSize: 8,
      optimizer: { kind: "sgd" },
      learningRate: 0.01,
      augment: { padding: 3, horizontalFlip: false },
      seed: 1,
    });
    const std = Math.min(...data.normalization.std);
    assert.ok(smallest < 0.5, `no padding reached the network (smallest input ${smallest})`);
    assert.ok(Math.abs(smallest) <= 0.5 / 255 / std + 1e-6, `padding normalised to ${smallest}`);
    params.dispose();
  });

  test("honours an AbortSignal between batches", async () => {
    const network = createTinyCnn(tf, 2);
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    let batches = 0;
    await assert.rejects(
      trainNetwork({
        network,
        train: firstImages(data.train, 128),
        normalization: data.normalization,
        epochs: 5,
        batchSize: 16,
        optimizer: { kind: "sgd" },
        learningRate: 0.05,
        seed: 1,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.kind === "batch" && ++batches === 2) controller.abort();
        },
      }),
      { name: "AbortError" },
    );
    assert.equal(batches, 2);
    network.parameters.dispose();
    assert.ok(tf.memory().numTensors <= before, "tensors left behind after abort");
  });

  test("checkpoints restore a run exactly, and resuming matches an uninterrupted run", async () => {
    const directory = await mkdtemp(join(tmpdir(), "checkpoint-"));
    const train = firstImages(data.train, 64);
    const common = {
      train,
      normalization: data.normalization,
      batchSize: 32,
      optimizer: { kind: "sgd", momentum: 0.9 } as const,
      learningRate: 0.05,
      seed: 9,
      augment: { padding: 2 },
    };
    const straight = createTinyCnn(tf, 4);
    const straightRun = await trainNetwork({ ...common, network: straight, epochs: 2 });

    // The same run, stopped right after its first checkpoint.
    const first = createTinyCnn(tf, 4);
    const controller = new AbortController();
    await assert.rejects(
      trainNetwork({
        ...common,
        network: first,
        epochs: 2,
        checkpoint: { directory, backend },
        signal: controller.signal,
        onProgress: (e) => {
          if (e.kind === "checkpoint") controller.abort();
        },
      }),
      { name: "AbortError" },
    );
    const saved = await loadCheckpoint(directory);
    assert.equal(saved.manifest.epoch, 1);
    assert.equal(saved.manifest.step, 2);
    assert.equal(saved.manifest.backend.version, backend.version);
    const names = saved.manifest.tensors.map((t) => t.name);
    assert.ok(names.includes("conv0/kernel") && names.includes("bn0/moving_mean"));
    assert.ok(names.includes("optimizer/momentum/conv0/kernel"));

    const resumed = createTinyCnn(tf, 99); // different initialisation, overwritten by the checkpoint
    const resumedRun = await trainNetwork({
      ...common,
      network: resumed,
      epochs: 2,
      resumeFrom: saved,
    });
    assert.equal(resumedRun.steps, 4);
    assert.deepEqual(weightsOf(resumed), weightsOf(straight));

    // Restoring into a fresh network reproduces the saved weights and slots exactly.
    const restored = createTinyCnn(tf, 123);
    const restoredOptimizer = (await import("../../src/training/optimizers.js")).createOptimizer(
      common.optimizer,
      restored.parameters.trainable,
    );
    restoreCheckpoint(saved, { parameters: restored.parameters, optimizer: restoredOptimizer });
    const again = computeCheckpoint({
      parameters: restored.parameters,
      optimizer: restoredOptimizer,
      epoch: 1,
      seed: 9,
      backend,
    });
    assert.deepEqual(again.weights, saved.weights);
    assert.equal(restoredOptimizer.iterations, 2);

    const weightsPath = join(directory, "weights.bin");
    const bytes = await readFile(weightsPath);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await writeFile(weightsPath, bytes);
    await assert.rejects(loadCheckpoint(directory), /weights\.bin: SHA-256/);
    for (const run of [straightRun, resumedRun]) run.optimizer.dispose();
    restoredOptimizer.dispose();
    for (const n of [straight, first, resumed, restored]) n.parameters.dispose();
  });
});
