/**
 * Parameters start as PyTorch's do (docs/training.md): convolution and linear
 * weights U(-1/sqrt(fanIn), 1/sqrt(fanIn)), a depthwise filter's fan-in its
 * kernel area, linear biases within their weight's bound. He-normal weights
 * (the former default) have sqrt(6) times the spread and fail these checks.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import {
  SliceableConv2d,
  SliceableDepthwiseConv2d,
  SliceableLinear,
} from "../../src/blocks/sliceable-layers.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { ParameterSet } from "../../src/training/layers.js";
import { createReferenceNetwork } from "../../src/training/reference-networks.js";

before(async () => {
  await createTrainingBackend({ backend: "cpu" });
});

/** Asserts `values` look like n draws of U(-bound, bound): range, mean and spread. */
function assertUniform(values: Float32Array, bound: number, label: string): void {
  let sum = 0;
  let squares = 0;
  let largest = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
    largest = Math.max(largest, Math.abs(v));
  }
  const n = values.length;
  const std = Math.sqrt(squares / n - (sum / n) ** 2);
  const expectedStd = bound / Math.sqrt(3);
  assert.ok(largest <= bound, `${label}: |value| ${largest} above the bound ${bound}`);
  assert.ok(largest > 0.9 * bound, `${label}: largest |value| ${largest} far below ${bound}`);
  // 5 standard errors of the mean, and of the spread (uniform: about std * 0.9 / sqrt(n)).
  const tolerance = (5 * expectedStd) / Math.sqrt(n);
  assert.ok(Math.abs(sum / n) < tolerance, `${label}: mean ${sum / n}`);
  assert.ok(
    Math.abs(std - expectedStd) < tolerance,
    `${label}: std ${std}, expected ${expectedStd}`,
  );
}

describe("initialisation", () => {
  test("convolution, depthwise and linear weights and biases are PyTorch's defaults", () => {
    const params = new ParameterSet(7);
    const conv = new SliceableConv2d(params, "conv", {
      maxInChannels: 16,
      maxOutChannels: 32,
      maxKernel: 3,
      stride: 1,
    });
    const depthwise = new SliceableDepthwiseConv2d(params, "dw", {
      maxChannels: 64,
      maxKernel: 3,
      stride: 1,
    });
    const linear = new SliceableLinear(params, "fc", 64, 100);
    const data = (v: TfCore.Variable) => v.dataSync() as Float32Array;
    assertUniform(data(conv.kernel), 1 / Math.sqrt(3 * 3 * 16), "conv kernel");
    // fan-in 3 x 3 (one input channel per output), not 3 x 3 x 64.
    assertUniform(data(depthwise.kernel), 1 / 3, "depthwise kernel");
    assertUniform(data(linear.kernel), 1 / 8, "linear kernel");
    assertUniform(data(linear.bias), 1 / 8, "linear bias");
    params.dispose();
  });

  test("ResNet-8's convolutions start within 1/sqrt(fan-in), deterministically per seed", () => {
    const draw = (seed: number) => createReferenceNetwork("resnet", { classes: 10, seed });
    const network = draw(1);
    const again = draw(1);
    const other = draw(2);
    let kernels = 0;
    for (const [index, variable] of network.parameters.trainable.entries()) {
      const name = network.parameters.nameOf(variable);
      const twin = again.parameters.trainable[index] as TfCore.Variable;
      assert.deepEqual(twin.dataSync(), variable.dataSync(), `${name} differs for one seed`);
      if (!name.endsWith("/kernel") || variable.shape.length !== 4) continue;
      const [kh, kw, inChannels] = variable.shape as number[];
      assertUniform(
        variable.dataSync() as Float32Array,
        1 / Math.sqrt((kh as number) * (kw as number) * (inChannels as number)),
        name,
      );
      kernels++;
    }
    assert.equal(kernels, 9, "stem, 2 x 3 block convolutions, 2 shortcuts");
    const first = network.parameters.trainable[0] as TfCore.Variable;
    assert.notDeepEqual(
      (other.parameters.trainable[0] as TfCore.Variable).dataSync(),
      first.dataSync(),
    );
    for (const n of [network, again, other]) n.parameters.dispose();
  });
});
