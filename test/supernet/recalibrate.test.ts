/**
 * Recalibration gives a sub-network batch-norm statistics of its own: after
 * recalibrating on one batch, inference on that batch equals training-mode
 * inference (batch statistics); with several batches the running statistics
 * are their plain mean; the weights and the dropout stream are untouched.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSupernet } from "../../src/blocks/network.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { recalibrateBatchNorm } from "../../src/supernet/recalibrate.js";
import { createBatchTensors } from "../../src/training/loop.js";
import { loadTf } from "../blocks/support.js";
import { SMALL, SPACE } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

function images(count: number, seed: number): ImageDataset {
  const random = createSeededRandom(seed);
  const pixels = new Uint8Array(count * 16 * 16 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = random.nextInt(256);
  const labels = new Uint8Array(count).map((_, i) => i % 4);
  return {
    count,
    height: 16,
    width: 16,
    channels: 3,
    images: pixels,
    labels,
    classNames: ["a", "b", "c", "d"],
  };
}

const normalization = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

describe("batch-norm recalibration", () => {
  test("after one batch, inference on it equals training-mode inference", () => {
    const supernet = createSupernet(
      { ...SPACE, head: { dropout: 0.5 } },
      { classes: 4, inputResolution: 16, seed: 8 },
    );
    const network = supernet.subnet(SMALL);
    const data = images(8, 1);
    const weights = network.parameters.trainable.map((v) => (v.dataSync() as Float32Array).slice());
    recalibrateBatchNorm(network, { images: data, normalization, batchSize: 8 });
    tf.tidy(() => {
      const { x } = createBatchTensors(data.images, data.labels, data, 4, normalization);
      const inference = network.apply(x, { training: false }).dataSync();
      const batch = network
        .apply(x, { training: true, runningStatistics: false, dropout: false })
        .dataSync();
      inference.forEach((v, i) => {
        const w = batch[i] as number;
        assert.ok(Math.abs(v - w) <= 1e-3 * Math.max(1, Math.abs(w)), `logit ${i}: ${v} vs ${w}`);
      });
    });
    network.parameters.trainable.forEach((v, i) => {
      assert.deepEqual(v.dataSync(), weights[i], `${v.name} unchanged`);
    });
    supernet.dispose();
  });

  test("several batches average into the running statistics", () => {
    const supernet = createSupernet(SPACE, { classes: 4, inputResolution: 16, seed: 9 });
    const network = supernet.subnet(SMALL);
    const mean = supernet.parameters.byName.get("stem/bn/moving_mean") as TfCore.Variable;
    const data = images(8, 2);
    const perBatch = [0, 1].map((b) => {
      const part: ImageDataset = {
        ...data,
        count: 4,
        images: data.images.subarray(b * 4 * 768, (b + 1) * 4 * 768),
        labels: data.labels.subarray(b * 4, (b + 1) * 4),
      };
      recalibrateBatchNorm(network, { images: part, normalization, batchSize: 4 });
      return (mean.dataSync() as Float32Array).slice(0, 8);
    });
    recalibrateBatchNorm(network, { images: data, normalization, batchSize: 4 });
    const both = mean.dataSync();
    for (let c = 0; c < 8; c++) {
      const want = ((perBatch[0]?.[c] as number) + (perBatch[1]?.[c] as number)) / 2;
      assert.ok(Math.abs((both[c] as number) - want) < 1e-5, `channel ${c}`);
    }
    assert.equal(both[8], 0, "channels the sub-network does not have keep their statistics");
    supernet.dispose();
  });
});
