/**
 * Quantize → interpret a network actually trained on CIFAR-10 images: the
 * INT8 model must stay within 1 point of the float model's accuracy on
 * held-out images. (Random weights, as in the other quantize tests, say
 * little about accuracy; trained weights and real activations do.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { computeDatasetArtifacts } from "../../src/datasets/artifacts.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { normalizeImages } from "../../src/datasets/normalize.js";
import { runFloat, runInt8 } from "../../src/interpreter/index.js";
import { createModelBuilder } from "../../src/model-ir/builder.js";
import type { Model } from "../../src/model-ir/types.js";
import { quantizeInput, quantizeModel } from "../../src/quantize/index.js";
import { committedCifar10Subset } from "../support/paths.js";

const EPOCHS = 10;

test("a trained CNN keeps its accuracy within 1 point after INT8 quantization", async (t) => {
  const { createTrainingBackend } = await import("../../src/training/backend.js");
  const { tf } = await createTrainingBackend({ backend: "wasm" });
  const { ParameterSet } = await import("../../src/training/layers.js");
  const { SliceableConv2d, SliceableLinear } = await import("../../src/blocks/sliceable-layers.js");
  const { trainNetwork, evaluateNetwork } = await import("../../src/training/loop.js");

  const { files, manifest } = await computeDatasetArtifacts({
    source: { kind: "cifar10-binary", directory: committedCifar10Subset },
    seed: 11,
    validationFraction: 0.1,
  });
  const { decodeTensorFile } = await import("../../src/datasets/tensor-file.js");
  const split = (name: string): ImageDataset =>
    decodeTensorFile(files.get(`${name}.tfds`) as Uint8Array, manifest.classNames, name);
  const train = split("train");
  const test = split("test");
  const normalization = manifest.normalization;

  // conv3x3(16) → conv3x3/2(32) → conv3x3/2(32), ReLU after each, global average pool, linear.
  const params = new ParameterSet(7);
  const shapes = [
    { name: "conv1", in: 3, out: 16, stride: 1 },
    { name: "conv2", in: 16, out: 32, stride: 2 },
    { name: "conv3", in: 32, out: 32, stride: 2 },
  ] as const;
  const convs = shapes.map((s) => ({
    conv: new SliceableConv2d(params, s.name, {
      maxInChannels: s.in,
      maxOutChannels: s.out,
      maxKernel: 3,
      stride: s.stride,
    }),
    choice: { kernelSize: 3, inChannels: s.in, outChannels: s.out },
  }));
  // Without batch norm, PyTorch's initialisation (the block library's) shrinks
  // the signal about six-fold per layer; scaled by sqrt(6) it is He-uniform,
  // the variance-preserving start a plain ReLU stack needs.
  for (const { conv } of convs)
    conv.kernel.assign(tf.tidy(() => tf.mul(conv.kernel, Math.sqrt(6))));
  const classifier = new SliceableLinear(params, "classifier", 32, 10);
  const network = {
    parameters: params,
    apply(images: import("@tensorflow/tfjs-core").Tensor4D) {
      let x = images;
      for (const { conv, choice } of convs) x = tf.relu(conv.apply(x, choice));
      const pooled = tf.mean(x, [1, 2]) as import("@tensorflow/tfjs-core").Tensor2D;
      return classifier.apply(pooled, { inFeatures: 32, outFeatures: 10 });
    },
  };
  await trainNetwork({
    network,
    train,
    normalization,
    epochs: EPOCHS,
    batchSize: 64,
    optimizer: { kind: "adam" },
    learningRate: 0.004,
    seed: 3,
  });
  const tfjsAccuracy = evaluateNetwork(network, test, normalization).accuracy;

  const floatModel = exportToIr(
    shapes,
    (name) => params.byName.get(name) as unknown as { dataSync(): Float32Array; shape: number[] },
  );
  const pixels = 32 * 32 * 3;
  const input = (dataset: ImageDataset, i: number) =>
    normalizeImages(dataset.images.subarray(i * pixels, (i + 1) * pixels), 3, normalization);
  const calibration = Array.from({ length: 128 }, (_, i) => input(train, i));
  const int8Model = quantizeModel(floatModel, calibration);

  let floatCorrect = 0;
  let int8Correct = 0;
  for (let i = 0; i < test.count; i++) {
    const x = input(test, i);
    const label = test.labels[i];
    if (argmax(runFloat(floatModel, x).outputs[0] as Float32Array) === label) floatCorrect++;
    if (argmax(runInt8(int8Model, quantizeInput(int8Model, x)).outputs[0] as Int8Array) === label)
      int8Correct++;
  }
  const floatAccuracy = floatCorrect / test.count;
  const int8Accuracy = int8Correct / test.count;
  const summary = `tfjs ${tfjsAccuracy}, IR float ${floatAccuracy}, IR INT8 ${int8Accuracy} on ${test.count} images`;
  t.diagnostic(summary);
  assert.ok(floatAccuracy > 0.2, `trained well above chance: ${summary}`);
  // The exported float IR computes what tfjs computed.
  assert.ok(Math.abs(floatAccuracy - tfjsAccuracy) <= 0.003, summary);
  assert.ok(Math.abs(int8Accuracy - floatAccuracy) <= 0.01, summary);
  params.dispose();
});

/** tfjs layouts to IR layouts: conv [kh,kw,in,out] → OHWI, dense [in,out] → [out,in]. */
function exportToIr(
  shapes: readonly { name: string; in: number; out: number; stride: number }[],
  variable: (name: string) => { dataSync(): Float32Array; shape: number[] },
): Model {
  const b = createModelBuilder("trained-cnn");
  let x = b.input("image", [1, 32, 32, 3]);
  for (const s of shapes) {
    const hwio = variable(`${s.name}/kernel`).dataSync();
    const ohwi = new Float32Array(hwio.length);
    for (let ky = 0; ky < 3; ky++)
      for (let kx = 0; kx < 3; kx++)
        for (let ci = 0; ci < s.in; ci++)
          for (let co = 0; co < s.out; co++)
            ohwi[((co * 3 + ky) * 3 + kx) * s.in + ci] = hwio[
              ((ky * 3 + kx) * s.in + ci) * s.out + co
            ] as number;
    const w = b.constant(`${s.name}.weight`, [s.out, 3, 3, s.in], ohwi);
    const bias = b.constant(`${s.name}.bias`, [s.out], new Float32Array(s.out));
    x = b.op({
      type: "conv2d",
      name: s.name,
      inputs: [x, w, bias],
      attrs: {
        strides: [s.stride, s.stride],
        dilations: [1, 1],
        padding: "same",
        groups: 1,
        activation: "relu",
      },
    });
  }
  x = b.op({ type: "global_avg_pool", name: "gap", inputs: [x], attrs: {} });
  const io = variable("classifier/kernel").dataSync();
  const oi = new Float32Array(io.length);
  for (let i = 0; i < 32; i++)
    for (let o = 0; o < 10; o++) oi[o * 32 + i] = io[i * 10 + o] as number;
  const w = b.constant("classifier.weight", [10, 32], oi);
  const bias = b.constant(
    "classifier.bias",
    [10],
    Float32Array.from(variable("classifier/bias").dataSync()),
  );
  x = b.op({
    type: "linear",
    name: "classifier",
    inputs: [x, w, bias],
    attrs: { activation: "none" },
  });
  b.output(x);
  return b.finish();
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
