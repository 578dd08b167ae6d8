/**
 * A training step of each reference network runs on wasm (this is how the
 * missing gradient kernels were found: any op without a wasm gradient kernel
 * throws here), and the hand-written batch-norm gradient equals tfjs's
 * autodiff of the textbook formula.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createTrainingBackend } from "../../src/training/backend.js";
import { batchNorm, ParameterSet } from "../../src/training/layers.js";
import {
  createReferenceNetwork,
  referenceNetworkNames,
} from "../../src/training/reference-networks.js";

let tf: typeof TfCore;
before(async () => {
  tf = (await createTrainingBackend({ backend: "wasm" })).tf;
});

describe("reference networks", () => {
  for (const name of referenceNetworkNames) {
    test(`${name}: a training step runs on wasm with finite gradients for every parameter`, () => {
      const network = createReferenceNetwork(name, { classes: 10, seed: 1 });
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.randomNormal([2, 32, 32, 3], 0, 1, "float32", 5) as TfCore.Tensor4D;
        const y = tf.oneHot(tf.tensor1d([3, 7], "int32"), 10);
        const { value, grads } = tf.variableGrads(
          () =>
            tf.losses.softmaxCrossEntropy(y, network.apply(x, { training: true })) as TfCore.Scalar,
          network.parameters.trainable,
        );
        assert.ok(Number.isFinite(value.dataSync()[0]));
        for (const variable of network.parameters.trainable) {
          const gradient = grads[variable.name];
          assert.ok(gradient !== undefined, `no gradient for ${variable.name}`);
          assert.deepEqual(gradient.shape, variable.shape);
          assert.ok(
            tf.all(tf.isFinite(gradient)).dataSync()[0] === 1,
            `non-finite gradient for ${variable.name}`,
          );
        }
        const logits = network.apply(x, { training: false });
        assert.deepEqual(logits.shape, [2, 10]);
      });
      assert.equal(tf.memory().numTensors, before);
      network.parameters.dispose();
    });
  }
});

describe("batch norm", () => {
  test("custom gradient equals autodiff of the textbook formula, and running stats update", async () => {
    await tf.setBackend("cpu");
    const params = new ParameterSet(3);
    const layer = batchNorm(params, "bn", 4, 0.9, 1e-3);
    const [gamma, beta] = params.trainable as [TfCore.Variable, TfCore.Variable];
    gamma.assign(tf.tensor1d([1, 2, 0.5, -1]));
    beta.assign(tf.tensor1d([0, 1, -1, 0.5]));
    const x = tf.randomNormal([3, 5, 2, 4], 1, 2, "float32", 9) as TfCore.Tensor4D;
    const dy = tf.randomNormal([3, 5, 2, 4], 0, 1, "float32", 10);
    const loss = (f: (input: TfCore.Tensor4D) => TfCore.Tensor) => (input: TfCore.Tensor) =>
      tf.sum(tf.mul(f(input as TfCore.Tensor4D), dy));
    const reference = (input: TfCore.Tensor4D): TfCore.Tensor => {
      const { mean, variance } = tf.moments(input, [0, 1, 2]);
      return tf.add(
        tf.mul(tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, 1e-3))), gamma),
        beta,
      );
    };
    const ours = tf.variableGrads(
      () => loss((input) => layer(input, { training: true }))(x) as TfCore.Scalar,
      [gamma, beta],
    );
    const theirs = tf.variableGrads(() => loss(reference)(x) as TfCore.Scalar, [gamma, beta]);
    const dxOurs = tf.grad(loss((input) => layer(input, { training: true })))(x);
    const dxTheirs = tf.grad(loss(reference))(x);
    const maxDiff = (a: TfCore.Tensor, b: TfCore.Tensor): number =>
      tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
    assert.ok(
      Math.abs((ours.value.dataSync()[0] as number) - (theirs.value.dataSync()[0] as number)) <
        1e-3,
    );
    assert.ok(maxDiff(dxOurs, dxTheirs) < 1e-4, `dx differs by ${maxDiff(dxOurs, dxTheirs)}`);
    for (const v of [gamma, beta]) {
      const diff = maxDiff(
        ours.grads[v.name] as TfCore.Tensor,
        theirs.grads[v.name] as TfCore.Tensor,
      );
      assert.ok(diff < 1e-3, `${v.name} gradient differs by ${diff}`);
    }
    const [runningMean] = params.state as [TfCore.Variable];
    const batchMean = tf.moments(x, [0, 1, 2]).mean;
    // Two training passes above: mean_2 = (1 - 0.9^2) * batch mean.
    assert.ok(maxDiff(runningMean, tf.mul(batchMean, 1 - 0.9 ** 2)) < 1e-4);
    params.dispose();
    await tf.setBackend("wasm");
  });
});
