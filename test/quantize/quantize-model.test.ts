import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareModels, renderComparison } from "../../src/interpreter/compare.js";
import { runInt8 } from "../../src/interpreter/run.js";
import { readBlockRle, readTensorData } from "../../src/model-ir/blob.js";
import { decodeBlockRle } from "../../src/model-ir/sparse-encoding.js";
import type { Model, TensorIR } from "../../src/model-ir/types.js";
import { calibrateRanges, nearestRank } from "../../src/quantize/calibration.js";
import {
  activationRange,
  chooseActivationQuant,
  quantizeBias,
  quantizeValues,
  quantizeWeightsPerChannel,
} from "../../src/quantize/quant-params.js";
import { quantizeInput, quantizeModel } from "../../src/quantize/quantize-model.js";
import { buildMobileVitSample, createRandomImages } from "../support/sample-models.js";

const small = () => buildMobileVitSample({ dim: 32, heads: 2, layers: 1, resolution: 16, seed: 3 });
const images = createRandomImages(6, [1, 16, 16, 3], 21);

function tensor(model: Model, name: string): TensorIR {
  const t = model.graph.tensors.find((x) => x.name === name);
  assert.ok(t !== undefined, name);
  return t;
}

describe("quantization parameters", () => {
  it("activations: range widened to include 0, zero point rounded half away from zero", () => {
    assert.deepEqual(chooseActivationQuant(0, 2.55), {
      scale: [Math.fround(0.01)],
      zeroPoint: [-128],
    });
    assert.deepEqual(chooseActivationQuant(1, 2.55), {
      scale: [Math.fround(0.01)],
      zeroPoint: [-128],
    });
    // scale 0.125 exactly; zp = -128 + 15.9375 / 0.125 = -0.5 -> -1 (Math.round would give 0)
    assert.deepEqual(chooseActivationQuant(-15.9375, 15.9375), { scale: [0.125], zeroPoint: [-1] });
    assert.deepEqual(chooseActivationQuant(-2.55, 0), {
      scale: [Math.fround(0.01)],
      zeroPoint: [127],
    });
  });
  it("weights: symmetric per channel in [-127, 127], zeros stay zero", () => {
    const { data, scales } = quantizeWeightsPerChannel(
      Float32Array.from([0.5, -1, 0, 0.25, 0, 0]),
      2,
    );
    assert.deepEqual([...data], [64, -127, 0, 127, 0, 0]); // 0.5/(1/127) = 63.5 -> 64
    assert.deepEqual(scales, [Math.fround(1 / 127), Math.fround(0.25 / 127)]);
  });
  it("bias: int32 at s_in * s_w, rounding half away from zero", () => {
    assert.deepEqual(
      [...quantizeBias(Float32Array.from([0.25, -0.25, 1e12]), 0.5, [1, 0.2, 1])],
      [1, -3, 2147483647],
    );
  });
  it("fused activation ranges (TFLite CalculateActivationRangeQuantized)", () => {
    assert.deepEqual(activationRange("relu6", 0.05, -100), { actMin: -100, actMax: 20 });
    assert.deepEqual(activationRange("relu", 0.05, -140), { actMin: -128, actMax: 127 });
    assert.deepEqual(activationRange("none", 1, 0), { actMin: -128, actMax: 127 });
  });
  it("quantizeValues saturates and rounds like TFLite AffineQuantize", () => {
    assert.deepEqual([...quantizeValues([0.25, -0.25, 100, -100], 0.5, 3)], [4, 2, 127, -128]);
  });
});

describe("calibration", () => {
  it("nearest-rank percentile", () => {
    const sorted = Float32Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(nearestRank(sorted, 99), 99);
    assert.equal(nearestRank(sorted, 1), 1);
    assert.equal(nearestRank(sorted, 100), 100);
  });
  it("percentile ranges are inside min/max ranges", () => {
    const m = small();
    const mm = calibrateRanges(m, images.slice(0, 2));
    const pc = calibrateRanges(m, images.slice(0, 2), { method: "percentile", percentile: 99 });
    let narrower = 0;
    for (const [name, r] of mm) {
      const p = pc.get(name);
      assert.ok(p !== undefined && p.min >= r.min && p.max <= r.max, name);
      if (p.max < r.max) narrower += 1;
    }
    assert.ok(narrower > 10);
  });
});

describe("quantizeModel", () => {
  const floatModel = small();
  const int8 = quantizeModel(floatModel, images.slice(0, 4));

  it("produces a valid int8 model with every parameter in range", () => {
    assert.equal(int8.graph.precision, "int8");
    for (const t of int8.graph.tensors) {
      if (t.data === undefined || t.dtype !== "int8" || t.quant === undefined) continue;
      const v = readTensorData(int8, t);
      if (t.quant.axis === 0 && t.quant.zeroPoint.every((z) => z === 0)) {
        for (const x of v) assert.ok(x >= -127 && x <= 127, t.name);
      }
    }
  });
  it("keeps pruned weights exactly zero and stores them block-rle", () => {
    let sparse = 0;
    for (const ft of floatModel.graph.tensors) {
      if (ft.sparsity === undefined) continue;
      const qt = tensor(int8, ft.name);
      assert.equal(qt.data?.encoding, "block-rle", ft.name);
      const fv = readTensorData(floatModel, ft);
      const qv = decodeBlockRle(readBlockRle(int8, qt));
      for (let i = 0; i < fv.length; i++)
        if (fv[i] === 0) assert.equal(qv[i], 0, `${ft.name}[${i}]`);
      if (qt.data?.encoding === "block-rle") assert.equal(qt.data.blockSize, ft.sparsity.blockSize);
      sparse += 1;
    }
    assert.ok(sparse >= 8);
  });
  it("fixes softmax output quantization and passes quantization through data movement", () => {
    assert.deepEqual(tensor(int8, "mvit.layer0.attn.softmax").quant, {
      scale: [1 / 256],
      zeroPoint: [-128],
    });
    assert.deepEqual(tensor(int8, "mvit.unfold").quant, tensor(int8, "mvit.expand").quant);
    assert.deepEqual(tensor(int8, "head.pool").quant, tensor(int8, "head").quant);
  });
  it("stores conv biases as int32 at s_in * s_w", () => {
    const b = tensor(int8, "stem.bias");
    const w = tensor(int8, "stem.weight");
    const sIn = tensor(int8, "image").quant?.scale[0] ?? 0;
    assert.equal(b.dtype, "int32");
    for (const [i, s] of (b.quant?.scale ?? []).entries())
      assert.equal(s, sIn * (w.quant?.scale[i] ?? 0));
  });
  it("emits a LUT table per activation and an int8 LayerNorm", () => {
    const gelu = int8.graph.ops.find((o) => o.name === "mvit.layer0.gelu");
    assert.deepEqual(gelu?.inputs, ["mvit.layer0.ffn1", "mvit.layer0.gelu.table"]);
    const ln = int8.graph.ops.find((o) => o.name === "mvit.layer0.ln1");
    assert.ok(ln?.type === "layer_norm" && ln.int8 !== undefined && ln.int8.epsQ >= 1);
  });
  it("tracks the float model layer by layer (cosine > 0.99)", () => {
    const rows = compareModels(floatModel, int8, images.slice(4));
    assert.ok(rows.length > 40);
    for (const r of rows) assert.ok(r.cosine > 0.99, renderComparison([r]));
    assert.match(renderComparison(rows), /^tensor\s+cosine/);
  });
  it("is deterministic and the int8 run is reproducible", () => {
    const again = quantizeModel(floatModel, images.slice(0, 4));
    assert.equal(again.graph.blob.sha256, int8.graph.blob.sha256);
    assert.deepEqual(again.graph, int8.graph);
    const input = quantizeInput(int8, images[5] ?? new Float32Array());
    assert.deepEqual(runInt8(again, input).outputs, runInt8(int8, input).outputs);
  });
  it("rejects an int8 model as input", () => {
    assert.throws(() => quantizeModel(int8, images), /needs a float32 model/);
  });
});
