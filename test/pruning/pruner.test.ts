/**
 * The gradual pruner on a real network while it fine-tunes through the
 * training loop's `afterStep` hook: pruned weights are exactly zero after
 * every optimizer step, and each layer ends at exactly round(target × blocks)
 * zero blocks. Also the loop's `stopAfterEpoch` hook.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { createNetwork } from "../../src/blocks/network.js";
import type { SearchSpace } from "../../src/blocks/search-space.js";
import type { WeightLayerInfo } from "../../src/blocks/types.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { measureBlockSparsity } from "../../src/pruning/block-mask.js";
import { resolvePruningPlan } from "../../src/pruning/plan.js";
import { createGradualPruner } from "../../src/pruning/pruner.js";
import { computeCubicSparsity } from "../../src/pruning/schedule.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { trainNetwork } from "../../src/training/loop.js";

const SPACE: SearchSpace = {
  stem: { channels: 8, stride: 1 },
  stages: [{ block: "mbv2", depth: 1, channels: 16, expansion: 2, kernel_size: 3, stride: 2 }],
  head: { dropout: 0 },
};
const NORMALIZATION = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

function syntheticImages(count: number, seed: number): ImageDataset {
  const random = createSeededRandom(seed);
  const images = new Uint8Array(count * 8 * 8 * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    for (let p = 0; p < 8 * 8 * 3; p++)
      images[i * 192 + p] = Math.floor(random.next() * 128) + (labels[i] === 1 ? 127 : 0);
  }
  return { count, height: 8, width: 8, channels: 3, images, labels, classNames: ["a", "b"] };
}

let tf: Awaited<ReturnType<typeof createTrainingBackend>>["tf"];
before(async () => {
  tf = (await createTrainingBackend({ backend: "wasm" })).tf;
});

/** A prunable layer over a plain array: what the pruner reads and writes, nothing else. */
function arrayLayer(name: string, values: Float32Array, rowLength: number): WeightLayerInfo {
  return {
    name,
    kind: "linear",
    role: "hidden",
    prunable: true,
    irShape: [values.length / rowLength, rowLength],
    rowLength,
    variable: undefined as never,
    readWeight: () => Float32Array.from(values),
    writeWeight: (next) => values.set(next),
  };
}

describe("gradual pruner schedule", () => {
  test("pruned blocks stay pruned as the target grows, even when a step moved them", () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => 1 + i);
    const layer = arrayLayer("fc", values, 16);
    const plan = [{ name: "fc", target: 0.75, blockSize: 4 as const, rowLength: 16 }];
    const pruner = createGradualPruner({ layers: [layer], plan, rampSteps: 4 });
    pruner.afterStep(1); // 0.75 * (1 - 0.75^3) = 0.434 of 16 blocks -> 7
    const first = zeroBlockSet(values, 4);
    assert.equal(first.size, 7);
    // An optimizer step moves pruned weights far from zero...
    for (const block of first) values.fill(1000, block * 4, block * 4 + 4);
    pruner.afterStep(2); // 0.75 * (1 - 0.5^3) * 16 = 10.5 blocks, rounded half up to 11
    const second = zeroBlockSet(values, 4);
    assert.equal(second.size, Math.round(0.75 * (1 - 0.5 ** 3) * 16));
    // ...but they were pruned, so they stay pruned.
    for (const block of first) assert.ok(second.has(block));
  });

  test("finish() reaches the final targets when fine-tuning stopped inside the ramp", () => {
    const values = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
    const layer = arrayLayer("fc", values, 8);
    const plan = [{ name: "fc", target: 0.5, blockSize: 1 as const, rowLength: 8 }];
    const pruner = createGradualPruner({ layers: [layer], plan, rampSteps: 100 });
    pruner.afterStep(1);
    assert.ok(zeroBlockSet(values, 1).size < 16);
    pruner.finish();
    assert.equal(zeroBlockSet(values, 1).size, 16);
    assert.deepEqual(
      pruner.summarize().map((s) => [s.achieved, s.prunedBlocks, s.blocks]),
      [[0.5, 16, 32]],
    );
  });

  test("after the ramp the final mask is re-applied every step", () => {
    const values = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const layer = arrayLayer("fc", values, 16);
    const plan = [{ name: "fc", target: 0.5, blockSize: 4 as const, rowLength: 16 }];
    const pruner = createGradualPruner({ layers: [layer], plan, rampSteps: 0 });
    pruner.afterStep(1);
    assert.deepEqual([...zeroBlockSet(values, 4)], [0, 1]);
    values.fill(-50, 0, 8); // the pruned blocks now have the largest norms
    pruner.afterStep(2);
    assert.deepEqual([...zeroBlockSet(values, 4)], [0, 1]);
  });
});

function zeroBlockSet(values: Float32Array, blockSize: number): Set<number> {
  const zero = new Set<number>();
  for (let b = 0; b < values.length / blockSize; b++)
    if (values.subarray(b * blockSize, (b + 1) * blockSize).every((w) => w === 0)) zero.add(b);
  return zero;
}

describe("gradual blockwise pruning while fine-tuning", () => {
  test("zeros stay exact after every step; each layer ends at round(target × blocks)", async () => {
    const network = createNetwork(SPACE, { classes: 2, inputResolution: 8, seed: 5 });
    try {
      const layers = network.layers();
      const plan = resolvePruningPlan(layers, {
        global_target: 0.5,
        per_layer: { "stage0.block0.project": 0.3 },
        block_sizes: [1, 4, 8, 16],
        keep_dense: ["stem", "classifier", "stage0.block0.depthwise"],
      });
      const planned = plan.filter((layer) => layer.blockSize !== undefined);
      assert.deepEqual(
        planned.map((layer) => layer.name),
        ["stage0.block0.expand", "stage0.block0.project"],
      );
      const rampSteps = 3;
      const pruner = createGradualPruner({ layers, plan, rampSteps });
      const byName = new Map(layers.map((layer) => [layer.name, layer]));
      const observed: number[][] = [];
      const denseBefore = byName.get("stage0.block0.depthwise")?.readWeight();
      const tensorsBefore = tf.memory().numTensors;
      const result = await trainNetwork({
        network,
        train: syntheticImages(32, 1),
        normalization: NORMALIZATION,
        epochs: 2,
        batchSize: 8,
        optimizer: { kind: "adam" },
        learningRate: 0.01,
        augment: false,
        seed: 1,
        afterStep: (step) => {
          pruner.afterStep(step);
          // What the next step starts from: exact zeros at the scheduled sparsity.
          const row: number[] = [];
          for (const layer of planned) {
            const weights = byName.get(layer.name)?.readWeight() ?? new Float32Array();
            const blocks = weights.length / (layer.blockSize as number);
            const expected = Math.round(
              computeCubicSparsity(step, layer.target, rampSteps) * blocks,
            );
            assert.equal(
              Math.round(measureBlockSparsity(weights, layer.blockSize as number) * blocks),
              expected,
              `${layer.name} after step ${step}`,
            );
            row.push(expected);
          }
          observed.push(row);
        },
      });
      result.optimizer.dispose();
      assert.equal(tf.memory().numTensors, tensorsBefore, "pruning leaks no tensor");
      assert.equal(observed.length, 8, "one call per optimizer step");
      pruner.finish();
      const summary = pruner.summarize();
      for (const layer of summary) {
        if (layer.blockSize === null) {
          assert.equal(layer.achieved, 0);
          continue;
        }
        assert.equal(layer.prunedBlocks, Math.round(layer.target * layer.blocks), layer.name);
        assert.equal(layer.achieved, layer.prunedBlocks / layer.blocks);
      }
      const expand = summary.find((layer) => layer.name === "stage0.block0.expand");
      assert.equal(expand?.blockSize, 8, "row length 8: the largest allowed size dividing it");
      assert.equal(expand?.target, 0.5);
      assert.equal(summary.find((layer) => layer.name === "stage0.block0.project")?.target, 0.3);
      // Kept-dense layers are trained but never masked.
      const denseAfter = byName.get("stage0.block0.depthwise")?.readWeight();
      assert.ok(denseAfter?.every((w) => w !== 0));
      assert.notDeepEqual(denseAfter, denseBefore);
    } finally {
      network.supernet.dispose();
    }
  });

  test("stopAfterEpoch ends training after the epoch it returns true for", async () => {
    const network = createNetwork(SPACE, { classes: 2, inputResolution: 8, seed: 5 });
    try {
      const seen: number[] = [];
      const result = await trainNetwork({
        network,
        train: syntheticImages(16, 2),
        normalization: NORMALIZATION,
        epochs: 5,
        batchSize: 8,
        optimizer: { kind: "sgd" },
        learningRate: 0.01,
        augment: false,
        seed: 1,
        stopAfterEpoch: (summary) => {
          seen.push(summary.epoch);
          return summary.epoch === 1;
        },
      });
      result.optimizer.dispose();
      assert.deepEqual(seen, [0, 1]);
      assert.equal(result.history.length, 2);
      assert.equal(result.steps, 4);
    } finally {
      network.supernet.dispose();
    }
  });
});
