import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { INT32_MAX } from "../../src/int8/fixed-point.js";
import {
  expOnNegativeValues,
  getReciprocal,
  oneOverOnePlusXForXIn01,
} from "../../src/int8/gemmlowp.js";
import { computeSoftmaxParams } from "../../src/int8/quantize-multiplier.js";
import { softmaxInt8 } from "../../src/int8/softmax.js";
import { createRandom } from "../support/sample-models.js";

function softmax(row: number[], scale: number): Int8Array {
  const out = new Int8Array(row.length);
  softmaxInt8(Int8Array.from(row), out, row.length, computeSoftmaxParams(scale));
  return out;
}

describe("gemmlowp helpers", () => {
  it("exp of 0 is One (INT32_MAX) and exp of -1 is close to e^-1", () => {
    assert.equal(expOnNegativeValues(0, 5), INT32_MAX);
    const e1 = expOnNegativeValues(-(2 ** 26), 5); // -1.0 in Q5.26
    // gemmlowp's polynomial and barrel shifter are accurate to about 3e-7
    assert.ok(Math.abs(e1 - Math.exp(-1) * 2 ** 31) < 1000, `${e1}`);
  });
  it("exp_on_negative_values stays within 1e-6 of exp on [-31, 0]", () => {
    for (let x = -31; x <= 0; x += 0.0371) {
      const raw = Math.round(x * 2 ** 26);
      const got = expOnNegativeValues(raw, 5) / 2 ** 31;
      assert.ok(Math.abs(got - Math.exp(raw / 2 ** 26)) < 1e-6, `x=${x}: ${got}`);
    }
  });
  it("one_over_one_plus_x is close to 1/(1+x)", () => {
    for (let x = 0; x < 1; x += 0.013) {
      const got = oneOverOnePlusXForXIn01(Math.round(x * 2 ** 31)) / 2 ** 31;
      assert.ok(Math.abs(got - 1 / (1 + x)) < 1e-8, `x=${x}: ${got}`);
    }
  });
  it("GetReciprocal of 4.0 in Q12.19 is 1.0 with two bits over unit", () => {
    const r = getReciprocal(4 * 2 ** 19, 12);
    assert.equal(r.numBitsOverUnit, 2);
    assert.ok(r.scale > 2 ** 31 - 16, `${r.scale}`);
  });
});

describe("softmaxInt8 (TFLM int8 Softmax)", () => {
  it("uniform rows: 1/2 -> 0, 1/3 -> -43, 1/4 -> -64", () => {
    assert.deepEqual([...softmax([9, 9], 0.1)], [0, 0]);
    assert.deepEqual([...softmax([-7, -7, -7], 0.05)], [-43, -43, -43]);
    assert.deepEqual([...softmax([5, 5, 5, 5], 0.1)], [-64, -64, -64, -64]);
  });
  it("a single element saturates to 127 (probability 1.0 = 256 - 128)", () => {
    assert.deepEqual([...softmax([-100], 0.1)], [127]);
  });
  it("differences below diffMin give exactly -128", () => {
    // scale 0.1 -> diffMin -248; 127 - (-128) = 255 > 248
    assert.deepEqual([...softmax([127, -128], 0.1)], [127, -128]);
  });
  it("matches TFLM on hand-checked two-element rows", () => {
    // scale 1/16 (exact multiplier 2^22): diff -16 is exactly -1.0:
    // p = 1/(1+e^-1) = 0.7311 -> 187.16 - 128 = 59; 1 - p -> 68.84 - 128 = -59
    assert.deepEqual([...softmax([16, 0], 1 / 16)], [59, -59]);
  });
  it("rows are independent and within 1 LSB of float softmax", () => {
    const rnd = createRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const depth = 1 + Math.floor(rnd() * 64);
      const scale = 0.01 + rnd() * 0.3;
      const row = Array.from({ length: depth }, () => Math.floor(rnd() * 256) - 128);
      const got = softmax(row, scale);
      const max = Math.max(...row);
      const exps = row.map((v) => Math.exp((v - max) * scale));
      const sum = exps.reduce((a, b) => a + b, 0);
      exps.forEach((e, i) => {
        const want = Math.min(127, Math.round((e / sum) * 256) - 128);
        assert.ok(
          Math.abs((got[i] as number) - want) <= 1,
          `row ${row} i=${i}: ${got[i]} vs ${want}`,
        );
      });
    }
  });
});
