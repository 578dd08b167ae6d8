/**
 * The hand-written batch-norm training gradient (`createBatchNormTraining`,
 * used by the block library's `SliceableBatchNorm`) equals tfjs's autodiff of
 * the textbook formula, on all of the layer's channels and on a slice of
 * them, and the running statistics move only for the active channels.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { SliceableBatchNorm } from "../../src/blocks/sliceable-batch-norm.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { ParameterSet } from "../../src/training/layers.js";

let tf: typeof TfCore;
before(async () => {
  tf = (await createTrainingBackend({ backend: "wasm" })).tf;
  await tf.setBackend("cpu");
});
after(async () => {
  await tf.setBackend("wasm");
});

for (const channels of [4, 3]) {
  test(`custom gradient equals autodiff of the textbook formula (${channels} of 4 channels), and running stats update`, () => {
    const params = new ParameterSet(3);
    const layer = new SliceableBatchNorm(params, "bn", 4);
    layer.gamma.assign(tf.tensor1d([1, 2, 0.5, -1]));
    layer.beta.assign(tf.tensor1d([0, 1, -1, 0.5]));
    const x = tf.randomNormal([3, 5, 2, channels], 1, 2, "float32", 9) as TfCore.Tensor4D;
    const dy = tf.randomNormal([3, 5, 2, channels], 0, 1, "float32", 10);
    const loss = (f: (input: TfCore.Tensor4D) => TfCore.Tensor) => (input: TfCore.Tensor) =>
      tf.sum(tf.mul(f(input as TfCore.Tensor4D), dy));
    const ours = (input: TfCore.Tensor4D) => layer.apply(input, { training: true });
    // The textbook formula over slices of the same variables, so both
    // gradients are full-size (zero beyond the active channels).
    const reference = (input: TfCore.Tensor4D): TfCore.Tensor => {
      const { mean, variance } = tf.moments(input, [0, 1, 2]);
      const normalised = tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, layer.epsilon)));
      return tf.add(
        tf.mul(normalised, tf.slice(layer.gamma, [0], [channels])),
        tf.slice(layer.beta, [0], [channels]),
      );
    };
    const variables = [layer.gamma, layer.beta];
    const oursGrads = tf.variableGrads(() => loss(ours)(x) as TfCore.Scalar, variables);
    const theirsGrads = tf.variableGrads(() => loss(reference)(x) as TfCore.Scalar, variables);
    const dxOurs = tf.grad(loss(ours))(x);
    const dxTheirs = tf.grad(loss(reference))(x);
    const maxDiff = (a: TfCore.Tensor, b: TfCore.Tensor): number =>
      tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
    const value = (t: TfCore.Tensor) => t.dataSync()[0] as number;
    assert.ok(Math.abs(value(oursGrads.value) - value(theirsGrads.value)) < 1e-3);
    assert.ok(maxDiff(dxOurs, dxTheirs) < 1e-4, `dx differs by ${maxDiff(dxOurs, dxTheirs)}`);
    for (const v of variables) {
      const diff = maxDiff(
        oursGrads.grads[v.name] as TfCore.Tensor,
        theirsGrads.grads[v.name] as TfCore.Tensor,
      );
      assert.ok(diff < 1e-3, `${v.name} gradient differs by ${diff}`);
    }
    // Two training passes above (variableGrads and grad of ours):
    // mean_2 = (1 - 0.9^2) * batch mean on the active channels, 0 elsewhere.
    const running = layer.movingMean.dataSync();
    const batchMean = tf.moments(x, [0, 1, 2]).mean.dataSync();
    for (let c = 0; c < 4; c++) {
      const expected = c < channels ? (1 - layer.momentum ** 2) * (batchMean[c] as number) : 0;
      assert.ok(
        Math.abs((running[c] as number) - expected) < 1e-4,
        `running mean[${c}] ${running[c]}, expected ${expected}`,
      );
    }
    assert.equal(layer.movingVariance.dataSync()[channels] ?? 1, 1, "inactive variance untouched");
    params.dispose();
  });
}

test("running statistics move by PyTorch's momentum 0.1 towards the batch's (biased) statistics", () => {
  const params = new ParameterSet(3);
  const layer = new SliceableBatchNorm(params, "bn", 2);
  // 4 values per channel: the biased variance is 3/4 of the unbiased one.
  const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 6, 40], [2, 2, 1, 2]);
  tf.tidy(() => {
    layer.apply(x, { training: true });
  });
  const expected = [
    { mean: 3, variance: 14 / 4 }, // values 1, 2, 3, 6
    { mean: 25, variance: 500 / 4 }, // values 10, 20, 30, 40
  ];
  for (const [c, { mean, variance }] of expected.entries()) {
    const runningMean = layer.movingMean.dataSync()[c] as number;
    const runningVariance = layer.movingVariance.dataSync()[c] as number;
    assert.ok(Math.abs(runningMean - 0.1 * mean) < 1e-5, `mean[${c}] ${runningMean}`);
    assert.ok(
      Math.abs(runningVariance - (0.9 + 0.1 * variance)) < 1e-4,
      `variance[${c}] ${runningVariance}, expected ${0.9 + 0.1 * variance}`,
    );
  }
  params.dispose();
});

test("epsilon is 1e-3, in evaluation and in the folded scale", () => {
  const params = new ParameterSet(3);
  const layer = new SliceableBatchNorm(params, "bn", 1);
  // A channel of tiny variance, where epsilon matters (1e-5 would scale by ~1, not ~0.3).
  layer.movingVariance.assign(tf.tensor1d([1e-4]));
  const y = layer.apply(tf.tensor4d([0.01], [1, 1, 1, 1]), { training: false });
  const expected = 0.01 / Math.sqrt(1e-4 + 1e-3);
  assert.ok(Math.abs((y.dataSync()[0] as number) - expected) < 1e-4, `${y.dataSync()[0]}`);
  const { scale } = layer.fold(1);
  assert.ok(Math.abs((scale[0] as number) - 1 / Math.sqrt(1e-4 + 1e-3)) < 1e-3);
  params.dispose();
});
