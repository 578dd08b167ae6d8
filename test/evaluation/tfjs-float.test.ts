/**
 * Batched float evaluation on the training backend against the reference
 * interpreter: the same logits within float32 rounding, the same classes
 * wherever the interpreter's top two are not a near tie, batch-invariant,
 * and one image per call for a model that moves the batch dimension.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import {
  argmax,
  type EvaluationImages,
  floatImage,
} from "../../src/evaluation/evaluation-images.js";
import { loadFloatModelOnTfjs, predictFloatClasses } from "../../src/evaluation/tfjs-float.js";
import { ACTIVATION_FUNCTIONS } from "../../src/int8/lut.js";
import { runFloat } from "../../src/interpreter/run.js";
import { createModelBuilder } from "../../src/model-ir/builder.js";
import type { Model } from "../../src/model-ir/types.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { buildMobileVitSample, createGaussian } from "../support/sample-models.js";

const NORMALIZATION = { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };

function randomImages(count: number, side: number, seed: number): EvaluationImages {
  const pixels = side * side * 3;
  let state = seed;
  const images = Uint8Array.from({ length: count * pixels }, () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state >>> 23;
  });
  return { images, count, pixels, channels: 3, normalization: NORMALIZATION };
}

/**
 * The ops and variants the block library's exports do not all reach: a
 * grouped conv, a depthwise multiplier of 2, same-padded average pooling,
 * mul, every activation function, and a transpose of the leading axis
 * (which cannot batch) when `moveBatch` is set.
 */
function buildOpCoverageModel(moveBatch: boolean): Model {
  const gauss = createGaussian(5);
  const randn = (n: number, scale = 0.3) => Float32Array.from({ length: n }, () => scale * gauss());
  const b = createModelBuilder("coverage");
  let y = b.input("x", [1, 8, 8, 3]);
  const conv = (name: string, out: number, k: number, inC: number, groups: number) => {
    b.constant(`${name}.w`, [out, k, k, inC / groups], randn((out * k * k * inC) / groups));
    b.constant(`${name}.b`, [out], randn(out, 0.1));
    y = b.op({
      type: "conv2d",
      name,
      inputs: [y, `${name}.w`, `${name}.b`],
      attrs: { strides: [1, 1], dilations: [1, 1], padding: "same", groups, activation: "none" },
    });
  };
  conv("c1", 4, 3, 3, 1);
  conv("grouped", 4, 3, 4, 2);
  conv("depthwise", 8, 3, 4, 4);
  // Every activation function but the ReLUs, which these models run fused into convolutions.
  for (const fn of ACTIVATION_FUNCTIONS.filter((f) => f !== "relu" && f !== "relu6")) {
    y = b.op({ type: "activation", name: `act.${fn}`, inputs: [y], attrs: { function: fn } });
  }
  const pooled = b.op({
    type: "avg_pool2d",
    name: "pool",
    inputs: [y],
    attrs: { poolSize: [3, 3], strides: [2, 2], padding: "same" },
  });
  y = b.op({
    type: "mul",
    name: "square",
    inputs: [pooled, pooled],
    attrs: { activation: "relu6" },
  });
  if (moveBatch) {
    y = b.op({ type: "transpose", name: "swap", inputs: [y], attrs: { perm: [1, 0, 2, 3] } });
    y = b.op({ type: "transpose", name: "back", inputs: [y], attrs: { perm: [1, 0, 2, 3] } });
  }
  y = b.op({ type: "global_avg_pool", name: "gap", inputs: [y], attrs: {} });
  b.constant("fc.w", [5, 8], randn(40));
  b.constant("fc.b", [5], randn(5, 0.1));
  y = b.op({
    type: "linear",
    name: "fc",
    inputs: [y, "fc.w", "fc.b"],
    attrs: { activation: "none" },
  });
  b.output(y);
  return b.finish();
}

function assertMatchesInterpreter(
  tf: typeof TfCore,
  model: Model,
  set: EvaluationImages,
  batch: number,
): void {
  const runner = loadFloatModelOnTfjs(tf, model, batch);
  try {
    for (let start = 0; start < set.count; start += runner.maxBatch) {
      const count = Math.min(runner.maxBatch, set.count - start);
      const inputs = new Float32Array(count * set.pixels);
      for (let i = 0; i < count; i++) inputs.set(floatImage(set, start + i), i * set.pixels);
      const logits = runner.logits(inputs, count);
      const classes = logits.length / count;
      for (let i = 0; i < count; i++) {
        const want = runFloat(model, floatImage(set, start + i)).outputs[0] as Float32Array;
        assert.equal(want.length, classes);
        for (let j = 0; j < classes; j++) {
          const got = logits[i * classes + j] as number;
          const w = want[j] as number;
          assert.ok(
            Math.abs(got - w) <= 1e-4 * (1 + Math.abs(w)),
            `image ${start + i} logit ${j}: ${got} vs ${w}`,
          );
        }
      }
    }
  } finally {
    runner.dispose();
  }
}

describe("float evaluation on the training backend", () => {
  let tf: typeof TfCore;
  before(async () => {
    tf = (await createTrainingBackend({ backend: "wasm" })).tf;
  });

  it("gives the interpreter's logits on the MobileViT sample (depthwise, attention, unfold/fold, concat, LayerNorm)", () => {
    const model = buildMobileVitSample();
    assert.equal(loadFloatModelOnTfjs(tf, model, 4).maxBatch, 4);
    assertMatchesInterpreter(tf, model, randomImages(7, 32, 1), 4);
  });

  it("gives the interpreter's logits for grouped and depthwise convs, pooling, mul and every activation", () => {
    assertMatchesInterpreter(tf, buildOpCoverageModel(false), randomImages(6, 8, 2), 4);
  });

  it("runs a model that moves the batch dimension one image per call", () => {
    const model = buildOpCoverageModel(true);
    assert.equal(loadFloatModelOnTfjs(tf, model, 16).maxBatch, 1);
    assertMatchesInterpreter(tf, model, randomImages(3, 8, 3), 16);
  });

  it("predicts the interpreter's classes, whatever the batch size", async () => {
    const model = buildMobileVitSample({ seed: 4 });
    const set = randomImages(9, 32, 4);
    const big = await predictFloatClasses(tf, model, set, { batch: 9 });
    const small = await predictFloatClasses(tf, model, set, { batch: 2 });
    assert.deepEqual(big, small);
    for (let i = 0; i < set.count; i++) {
      const logits = runFloat(model, floatImage(set, i)).outputs[0] as Float32Array;
      const sorted = [...logits].sort((a, b) => b - a);
      // Float32 rounding can only swap a near tie.
      if ((sorted[0] as number) - (sorted[1] as number) > 1e-4)
        assert.equal(big[i], argmax(logits), `image ${i}`);
    }
  });

  it("rejects an INT8 model and a wrong number of values", () => {
    const model = buildOpCoverageModel(false);
    const runner = loadFloatModelOnTfjs(tf, model, 2);
    try {
      assert.throws(
        () => runner.logits(new Float32Array(10), 1),
        /1 images need 192 values, got 10/,
      );
      assert.throws(
        () => runner.logits(new Float32Array(3 * 192), 3),
        /3 images per call \(1 to 2\)/,
      );
    } finally {
      runner.dispose();
    }
    assert.throws(
      () => loadFloatModelOnTfjs(tf, { ...model, graph: { ...model.graph, precision: "int8" } }),
      /not a float32 model/,
    );
  });
});
