import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  calculateInputRadius,
  computeSoftmaxParams,
  frexp,
  quantizeMultiplier,
  quantizeMultiplierGreaterThanOne,
} from "../../src/int8/quantize-multiplier.js";

describe("frexp", () => {
  it("splits like C frexp", () => {
    assert.deepEqual(frexp(1), { mantissa: 0.5, exponent: 1 });
    assert.deepEqual(frexp(0.75), { mantissa: 0.75, exponent: 0 });
    assert.deepEqual(frexp(-8), { mantissa: -0.5, exponent: 4 });
    assert.deepEqual(frexp(2 ** -40), { mantissa: 0.5, exponent: -39 });
  });
});

describe("quantizeMultiplier (TFLM QuantizeMultiplier)", () => {
  const cases: Array<[string, number, number, number]> = [
    ["0.5", 0.5, 2 ** 30, 0],
    ["1/3", 1 / 3, 1431655765, -1],
    ["1.0", 1, 2 ** 30, 1],
    ["2.5", 2.5, 1342177280, 2],
    ["0.75", 0.75, 1610612736, 0],
    // mantissa rounds up to 2^31 and is renormalised
    ["just below 1", 0.9999999999, 2 ** 30, 1],
    ["0.99999", 0.99999, 2147462173, 0],
    ["2^-31", 2 ** -31, 2 ** 30, -30],
    ["2^-32 (smallest kept)", 2 ** -32, 2 ** 30, -31],
    ["2^-33 flushes to zero", 2 ** -33, 0, 0],
    ["1e-10 flushes to zero", 1e-10, 0, 0],
    ["zero", 0, 0, 0],
  ];
  for (const [label, real, multiplier, shift] of cases) {
    it(label, () => {
      assert.deepEqual(quantizeMultiplier(real), { multiplier, shift });
    });
  }
  it("rounds the mantissa half away from zero", () => {
    // 0.5 + 2^-32: mantissa * 2^31 = 2^30 + 0.5 -> 2^30 + 1
    assert.deepEqual(quantizeMultiplier(0.5 + 2 ** -32), { multiplier: 2 ** 30 + 1, shift: 0 });
  });
  it("represents every real within half a unit of the Q31 mantissa", () => {
    for (const real of [0.001234, 0.0421, 0.3, 0.7, 1.9, 123.456]) {
      const { multiplier, shift } = quantizeMultiplier(real);
      assert.ok(multiplier >= 2 ** 30 && multiplier < 2 ** 31);
      assert.ok(Math.abs(multiplier * 2 ** (shift - 31) - real) <= 2 ** (shift - 32));
    }
  });
  it("GreaterThanOne refuses multipliers <= 1", () => {
    assert.throws(() => quantizeMultiplierGreaterThanOne(0.5));
    assert.deepEqual(quantizeMultiplierGreaterThanOne(3), { multiplier: 1610612736, shift: 2 });
  });
});

describe("softmax parameters (TFLM CalculateSoftmaxParams)", () => {
  it("scale 1/16: real multiplier 2^22 exactly", () => {
    // beta * scale * 2^26 = 2^22 -> frexp 0.5 * 2^23
    const p = computeSoftmaxParams(1 / 16);
    assert.deepEqual(p, { inputMultiplier: 2 ** 30, inputLeftShift: 23, diffMin: -248 });
  });
  it("diffMin is -floor(31 * 2^26 / 2^leftShift)", () => {
    assert.equal(calculateInputRadius(5, 23), 248);
    assert.equal(calculateInputRadius(5, 20), 1984);
    const p = computeSoftmaxParams(0.1);
    assert.equal(p.inputLeftShift, 23);
    assert.equal(p.diffMin, -248);
  });
  it("caps the real multiplier at 2^31 - 1", () => {
    const p = computeSoftmaxParams(1000);
    // (2^31 - 1) = frexp mantissa (2^31 - 1)/2^31, exponent 31
    assert.equal(p.inputLeftShift, 31);
    assert.equal(p.inputMultiplier, 2147483647);
  });
});
