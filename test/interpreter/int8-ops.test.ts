import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runFloat, runInt8 } from "../../src/interpreter/run.js";
import { handModel } from "./int8-model-fixture.js";

const i8 = (v: number[]) => Int8Array.from(v);
const q = (multiplier: number[], shift: number[], actMin = -128, actMax = 127) => ({
  multiplier,
  shift,
  actMin,
  actMax,
});

describe("conv2d", () => {
  const conv = (precision: "int8" | "float32") =>
    handModel({
      precision,
      inputs: [{ name: "x", shape: [1, 3, 3, 1], zp: 1 }],
      activations: [{ name: "y", shape: [1, 3, 3, 1], zp: -5 }],
      constants: [
        {
          name: "w",
          shape: [1, 3, 3, 1],
          dtype: precision === "int8" ? "int8" : "float32",
          values: [1, 1, 1, 1, 2, 1, 1, 1, 1],
        },
        { name: "b", shape: [1], dtype: precision === "int8" ? "int32" : "float32", values: [10] },
      ],
      ops: [
        {
          type: "conv2d",
          name: "y",
          inputs: ["x", "w", "b"],
          outputs: ["y"],
          attrs: {
            strides: [1, 1],
            dilations: [1, 1],
            padding: "same",
            groups: 1,
            activation: "none",
          },
          ...(precision === "int8" ? { int8: q([2 ** 30], [-1], -5, 6) } : {}),
        },
      ],
      outputs: ["y"],
    });
  it("int8: zero-point offset, padding skipped, double rounding, clamp", () => {
    // x - zp = 0..8. corner: 0*2 + 1 + 3 + 4 + bias 10 = 18 -> x0.25 = 4.5 -> 5, -5 = 0
    // top middle: 2*1 + 0 + 2 + 3 + 4 + 5 + 10 = 26 -> 6.5 -> 7, -5 = 2
    // centre: 32 + 2*4 + 10 = 50 -> 12.5 -> 13, -5 = 8 -> clamped to actMax 6
    const y = runInt8(conv("int8"), i8([1, 2, 3, 4, 5, 6, 7, 8, 9])).outputs[0];
    assert.equal(y?.[0], 0);
    assert.equal(y?.[1], 2);
    assert.equal(y?.[4], 6);
  });
  it("float: the same taps without quantization", () => {
    const y = runFloat(conv("float32"), Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8])).outputs[0];
    assert.deepEqual([y?.[0], y?.[1], y?.[4]], [18, 26, 50]);
  });
  it("depthwise (groups = channels) with per-channel multipliers", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [1, 2, 2, 2] }],
      activations: [{ name: "y", shape: [1, 1, 1, 2] }],
      constants: [
        {
          name: "w",
          shape: [2, 2, 2, 1],
          dtype: "int8",
          values: [1, 1, 1, 1, 1, -1, 1, -1],
          scales: [1, 1],
        },
      ],
      ops: [
        {
          type: "conv2d",
          name: "y",
          inputs: ["x", "w"],
          outputs: ["y"],
          attrs: {
            strides: [1, 1],
            dilations: [1, 1],
            padding: "valid",
            groups: 2,
            activation: "none",
          },
          int8: q([2 ** 30, 2 ** 30], [0, 1]),
        },
      ],
      outputs: ["y"],
    });
    // ch0: 1+2+3+4 = 10 * 0.5 = 5; ch1: 10-20+30-40 = -20 * 1.0 = -20
    assert.deepEqual(
      [...(runInt8(m, i8([1, 10, 2, 20, 3, 30, 4, 40])).outputs[0] ?? [])],
      [5, -20],
    );
  });
});

describe("linear and matmul", () => {
  it("linear: per-channel requantization with input and output zero points", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [1, 3], zp: 10 }],
      activations: [{ name: "y", shape: [1, 2], zp: 1 }],
      constants: [
        { name: "w", shape: [2, 3], dtype: "int8", values: [1, 2, 3, -1, 0, 1], scales: [1, 1] },
        { name: "b", shape: [2], dtype: "int32", values: [5, -2], scales: [1, 1] },
      ],
      ops: [
        {
          type: "linear",
          name: "y",
          inputs: ["x", "w", "b"],
          outputs: ["y"],
          attrs: { activation: "none" },
          int8: q([2 ** 30, 2 ** 30], [0, 0]),
        },
      ],
      outputs: ["y"],
    });
    // x - zp = [0, -30, 20]; acc = [0 - 60 + 60 + 5, 20 - 2] = [5, 18]; x0.5 = [2.5 -> 3, 9]; +1
    assert.deepEqual([...(runInt8(m, i8([10, -20, 30])).outputs[0] ?? [])], [4, 10]);
  });
  for (const transposeB of [false, true]) {
    it(`matmul transposeB=${transposeB}: both operands asymmetric`, () => {
      const m = handModel({
        inputs: [
          { name: "a", shape: [1, 2, 2], zp: 1 },
          { name: "b", shape: [1, 2, 2], zp: 5 },
        ],
        activations: [{ name: "y", shape: [1, 2, 2], zp: -1 }],
        ops: [
          {
            type: "matmul",
            name: "y",
            inputs: ["a", "b"],
            outputs: ["y"],
            attrs: { transposeB, alpha: 1 },
            int8: { multiplier: 2 ** 30, shift: 1 },
          },
        ],
        outputs: ["y"],
      });
      // a - 1 = [[0,1],[2,3]], b - 5 = [[0,1],[2,3]]
      const y = runInt8(m, [i8([1, 2, 3, 4]), i8([5, 6, 7, 8])]).outputs[0];
      assert.deepEqual([...(y ?? [])], transposeB ? [0, 2, 2, 12] : [1, 2, 5, 10]);
    });
  }
});

describe("add and mul", () => {
  const addModel = (shapeB: number[]) =>
    handModel({
      inputs: [
        { name: "a", shape: [1, 2, 2], scale: 0.5 },
        { name: "b", shape: shapeB, scale: 0.25 },
      ],
      activations: [{ name: "y", shape: [1, 2, 2], scale: 1 }],
      ops: [
        {
          type: "add",
          name: "y",
          inputs: ["a", "b"],
          outputs: ["y"],
          attrs: { activation: "none" },
          // TFLite: twice_max = 1; 0.5 -> (2^30, 0), 0.25 -> (2^30, -1), 1/2^20 -> (2^30, -19)
          int8: {
            leftShift: 20,
            input1Multiplier: 2 ** 30,
            input1Shift: 0,
            input2Multiplier: 2 ** 30,
            input2Shift: -1,
            outputMultiplier: 2 ** 30,
            outputShift: -19,
            actMin: -128,
            actMax: 127,
          },
        },
      ],
      outputs: ["y"],
    });
  it("add: rescales both inputs and rounds ties away from zero", () => {
    // 1.5 + 0.5 = 2; 0.5 + 0 = 0.5 -> 1; -0.5 + 0 -> -1; 63.5 + 31.75 = 95.25 -> 95
    const y = runInt8(addModel([1, 2, 2]), [i8([3, 1, -1, 127]), i8([2, 0, 0, 127])]).outputs[0];
    assert.deepEqual([...(y ?? [])], [2, 1, -1, 95]);
  });
  it("add: fused activation clamps to [actMin, actMax]", () => {
    const base = addModel([1, 2, 2]);
    const op = base.graph.ops[0];
    if (op?.type === "add" && op.int8 !== undefined) {
      op.int8.actMin = 0; // relu with zero point 0
      op.int8.actMax = 3;
    }
    const y = runInt8(base, [i8([3, 1, -6, 127]), i8([2, 0, 0, 127])]).outputs[0];
    assert.deepEqual([...(y ?? [])], [2, 1, 0, 3]);
  });
  it("add: broadcasts a per-channel vector", () => {
    const y = runInt8(addModel([2]), [i8([2, 4, 6, 8]), i8([4, -4])]).outputs[0];
    // [1, 2, 3, 4] + [1, -1, 1, -1]
    assert.deepEqual([...(y ?? [])], [2, 1, 4, 3]);
  });
  it("mul: one multiplier on the product of offset inputs", () => {
    const m = handModel({
      inputs: [
        { name: "a", shape: [3], scale: 0.5, zp: 1 },
        { name: "b", shape: [3], scale: 0.5 },
      ],
      activations: [{ name: "y", shape: [3], scale: 0.25, zp: 3 }],
      ops: [
        {
          type: "mul",
          name: "y",
          inputs: ["a", "b"],
          outputs: ["y"],
          attrs: { activation: "none" },
          int8: { multiplier: 2 ** 30, shift: 1, actMin: -128, actMax: 127 },
        },
      ],
      outputs: ["y"],
    });
    // (3-1)*(-5) = -10 + 3 = -7; (1-1)*9 = 0 + 3; (101-1)*100 -> saturates
    assert.deepEqual(
      [...(runInt8(m, [i8([3, 1, 101]), i8([-5, 9, 100])]).outputs[0] ?? [])],
      [-7, 3, 127],
    );
  });
});

describe("pooling", () => {
  it("avg_pool2d: TFLM rounding (half away from zero, C division), padding excluded", () => {
    const pool = (padding: "same" | "valid", outShape: number[]) =>
      handModel({
        inputs: [{ name: "x", shape: [1, 2, 2, 1] }],
        activations: [{ name: "y", shape: outShape }],
        ops: [
          {
            type: "avg_pool2d",
            name: "y",
            inputs: ["x"],
            outputs: ["y"],
            attrs: { poolSize: [2, 2], strides: [1, 1], padding },
          },
        ],
        outputs: ["y"],
      });
    assert.deepEqual(
      [...(runInt8(pool("valid", [1, 1, 1, 1]), i8([1, 2, 3, 4])).outputs[0] ?? [])],
      [3],
    ); // 2.5 -> 3
    assert.deepEqual(
      [...(runInt8(pool("valid", [1, 1, 1, 1]), i8([-1, -2, -3, -4])).outputs[0] ?? [])],
      [-3],
    ); // -2.5 -> -3
    assert.deepEqual(
      [...(runInt8(pool("valid", [1, 1, 1, 1]), i8([-1, 0, 0, -1])).outputs[0] ?? [])],
      [-1],
    ); // -0.5 -> -1
    // same: windows at the right / bottom edge hold 2 or 1 elements
    assert.deepEqual(
      [...(runInt8(pool("same", [1, 2, 2, 1]), i8([1, 2, 3, 4])).outputs[0] ?? [])],
      [3, 3, 4, 4],
    );
  });
  it("global_avg_pool: sum of (x - zp), one requantization", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [1, 2, 2, 1], zp: 10 }],
      activations: [{ name: "y", shape: [1, 1], zp: 10 }],
      ops: [
        {
          type: "global_avg_pool",
          name: "y",
          inputs: ["x"],
          outputs: ["y"],
          attrs: {},
          int8: { multiplier: 2 ** 30, shift: -1 },
        },
      ],
      outputs: ["y"],
    });
    // sum = 0 + 10 + 20 + 31 = 61; x0.25 = 15.25, but double rounding: 30.5 -> 31, 15.5 -> 16
    assert.deepEqual([...(runInt8(m, i8([10, 20, 30, 41])).outputs[0] ?? [])], [26]);
  });
});

describe("softmax, layer_norm and table activations as ops", () => {
  it("softmax op uses the stored parameters", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [2, 4], scale: 1 / 16 }],
      activations: [{ name: "y", shape: [2, 4], scale: 1 / 256, zp: -128 }],
      ops: [
        {
          type: "softmax",
          name: "y",
          inputs: ["x"],
          outputs: ["y"],
          attrs: { beta: 1 },
          int8: { inputMultiplier: 2 ** 30, inputLeftShift: 23, diffMin: -248 },
        },
      ],
      outputs: ["y"],
    });
    assert.deepEqual(
      [...(runInt8(m, i8([5, 5, 5, 5, 16, 0, -128, -128])).outputs[0] ?? [])],
      [-64, -64, -64, -64, 59, -59, -128, -128],
    );
  });
  it("layer_norm op with int8 gamma and int32 beta", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [1, 1, 4] }],
      activations: [{ name: "y", shape: [1, 1, 4], zp: 10 }],
      constants: [
        { name: "g", shape: [4], dtype: "int8", values: [1, 1, 1, 1], scales: [1, 1, 1, 1] },
        { name: "b", shape: [4], dtype: "int32", values: [0, 0, 0, 2 ** 15], scales: [1, 1, 1, 1] },
      ],
      ops: [
        {
          type: "layer_norm",
          name: "y",
          inputs: ["x", "g", "b"],
          outputs: ["y"],
          attrs: { epsilon: 1e-5 },
          int8: {
            epsQ: 1,
            multiplier: [2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30],
            shift: [-14, -14, -14, -14],
          },
        },
      ],
      outputs: ["y"],
    });
    // 2 * (x - mean) / std = [-2.67, -0.89, 0.89, 2.67] (+1 on the last channel) + zp 10
    assert.deepEqual([...(runInt8(m, i8([-3, -1, 1, 3])).outputs[0] ?? [])], [7, 9, 11, 14]);
  });
  it("activation reads table[(uint8_t)x]", () => {
    const table = Array.from({ length: 256 }, (_, i) => (i < 128 ? i : i - 256) >> 1);
    const m = handModel({
      inputs: [{ name: "x", shape: [4] }],
      activations: [{ name: "y", shape: [4] }],
      constants: [{ name: "t", shape: [256], dtype: "int8", values: table, noQuant: true }],
      ops: [
        {
          type: "activation",
          name: "y",
          inputs: ["x", "t"],
          outputs: ["y"],
          attrs: { function: "relu" },
        },
      ],
      outputs: ["y"],
    });
    assert.deepEqual([...(runInt8(m, i8([-128, -1, 0, 127])).outputs[0] ?? [])], [-64, -1, 0, 63]);
  });
});

describe("data movement", () => {
  it("transpose permutes axes", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [1, 2, 3] }],
      activations: [{ name: "y", shape: [1, 3, 2] }],
      ops: [
        { type: "transpose", name: "y", inputs: ["x"], outputs: ["y"], attrs: { perm: [0, 2, 1] } },
      ],
      outputs: ["y"],
    });
    assert.deepEqual(
      [...(runInt8(m, i8([0, 1, 2, 3, 4, 5])).outputs[0] ?? [])],
      [0, 3, 1, 4, 2, 5],
    );
  });
  it("unfold lists one pixel position of every patch per sequence; fold inverts it", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [1, 4, 4, 1] }],
      activations: [
        { name: "u", shape: [4, 4, 1] },
        { name: "f", shape: [1, 4, 4, 1] },
      ],
      ops: [
        { type: "unfold", name: "u", inputs: ["x"], outputs: ["u"], attrs: { patchSize: [2, 2] } },
        {
          type: "fold",
          name: "f",
          inputs: ["u"],
          outputs: ["f"],
          attrs: { patchSize: [2, 2], height: 4, width: 4 },
        },
      ],
      outputs: ["u", "f"],
    });
    const x = i8(Array.from({ length: 16 }, (_, i) => i));
    const [u, f] = runInt8(m, x).outputs;
    assert.deepEqual([...(u ?? [])], [0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15]);
    assert.deepEqual(f, x);
  });
  it("concat copies same-quantized inputs and requantizes the others", () => {
    const m = handModel({
      inputs: [
        { name: "a", shape: [1, 2], scale: 0.5 },
        { name: "b", shape: [1, 1], scale: 1 },
      ],
      activations: [{ name: "y", shape: [1, 3], scale: 1 }],
      ops: [
        {
          type: "concat",
          name: "y",
          inputs: ["a", "b"],
          outputs: ["y"],
          attrs: { axis: -1 },
          int8: { inputs: [{ multiplier: 2 ** 30, shift: 0 }, null] },
        },
      ],
      outputs: ["y"],
    });
    // 3 * 0.5 = 1.5 -> 2; -3 * 0.5 = -1.5 -> -1 (the doubling high multiply rounds ties up)
    assert.deepEqual([...(runInt8(m, [i8([3, -3]), i8([-7])]).outputs[0] ?? [])], [2, -1, -7]);
  });
  it("dump returns every activation and rejects wrong input sizes", () => {
    const m = handModel({
      inputs: [{ name: "x", shape: [2, 3] }],
      activations: [{ name: "y", shape: [3, 2] }],
      ops: [
        { type: "reshape", name: "y", inputs: ["x"], outputs: ["y"], attrs: { shape: [3, 2] } },
      ],
      outputs: ["y"],
    });
    const r = runInt8(m, i8([1, 2, 3, 4, 5, 6]), { dump: true });
    assert.deepEqual([...(r.tensors?.keys() ?? [])], ["x", "y"]);
    assert.throws(() => runInt8(m, i8([1, 2])), /needs 6 values/);
    assert.throws(() => runFloat(m, new Float32Array(6)), /is int8/);
  });
});
