import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isqrt,
  type LayerNormInt8Params,
  layerNormInt8,
  layerNormReciprocal,
} from "../../src/int8/layernorm.js";

function params(c: number, overrides: Partial<LayerNormInt8Params> = {}): LayerNormInt8Params {
  return {
    epsQ: 1,
    gamma: new Int8Array(c).fill(1),
    beta: new Int32Array(c),
    // real output multiplier 0.5 * 2^-14 = 2^-15: y = n / 2^15 = 2 * (x - mean) / std
    outputMultiplier: new Int32Array(c).fill(2 ** 30),
    outputShift: new Int32Array(c).fill(-14),
    outputZeroPoint: 0,
    ...overrides,
  };
}

function run(row: number[], p: LayerNormInt8Params): number[] {
  const out = new Int8Array(row.length);
  layerNormInt8(Int8Array.from(row), out, p);
  return [...out];
}

describe("isqrt and the per-row reciprocal", () => {
  it("isqrt is the floor square root, exact near 2^52", () => {
    assert.equal(isqrt(80), 8);
    assert.equal(isqrt(81), 9);
    assert.equal(isqrt(0), 0);
    assert.equal(isqrt(2 ** 52 - 1), 2 ** 26 - 1);
    assert.equal(isqrt(2 ** 52), 2 ** 26);
  });
  it("m = round(2^(29+L) / r) with L the bit length of r", () => {
    // r = 9: L = 4, (2^33 + 4) / 9 = 954437177
    assert.deepEqual(layerNormReciprocal(9), { multiplier: 954437177, bitLength: 4 });
    assert.deepEqual(layerNormReciprocal(1), { multiplier: 2 ** 30, bitLength: 1 });
    assert.deepEqual(layerNormReciprocal(2 ** 20), { multiplier: 2 ** 30, bitLength: 21 });
    assert.deepEqual(layerNormReciprocal(3), { multiplier: 715827883, bitLength: 2 });
  });
});

describe("layerNormInt8", () => {
  it("hand-worked row [-3, -1, 1, 3]", () => {
    // S = 0, Q = 20, V = 4*20 - 0 = 80, W = 81, r = 9, d = [-12, -4, 4, 12]
    // n = d * 2^16 / 9 = [-87381.3, -29127.1, ...] -> y = n / 2^15 = [-2.67, -0.89, 0.89, 2.67]
    assert.deepEqual(run([-3, -1, 1, 3], params(4)), [-3, -1, 1, 3]);
  });
  it("the input zero point cancels: a shifted row normalizes the same", () => {
    assert.deepEqual(run([97, 99, 101, 103], params(4)), [-3, -1, 1, 3]);
  });
  it("adds the output zero point and applies per-channel gamma and beta", () => {
    const p = params(4, {
      outputZeroPoint: 10,
      gamma: Int8Array.from([1, 2, -1, 0]),
      beta: Int32Array.from([0, 0, 0, 3 * 2 ** 15]), // beta 3 * 2^15 -> +3 after the 2^-15 scale
    });
    // n/2^15 = [-2.67, -0.89, 0.89, 2.67] * gamma [1, 2, -1, 0] + [0, 0, 0, 3]
    assert.deepEqual(run([-3, -1, 1, 3], p), [7, 8, 9, 13]);
  });
  it("a constant row gives beta (variance 0, epsilon keeps r >= 1)", () => {
    const p = params(3, { beta: Int32Array.from([2 ** 15, -(2 ** 16), 0]), outputZeroPoint: -5 });
    assert.deepEqual(run([42, 42, 42], p), [-4, -7, -5]);
  });
  it("saturates at the int8 limits", () => {
    const p = params(2, { outputShift: new Int32Array(2).fill(-6) }); // y = n / 2^7
    // n = +-2^16 -> +-512 -> clamp
    assert.deepEqual(run([-50, 50], p), [-128, 127]);
  });
  it("epsilon dominates when it is large", () => {
    // V = 4*4 - 0 = 16 for [-1, 1], W = 16 + 1008 = 1024, r = 32
    // d = [-2, 2], n = d * 2^16 / 32 = [-4096, 4096] -> y = n / 2^15 = [-0.125, 0.125] -> 0
    const p = params(2, { epsQ: 1008 });
    assert.deepEqual(run([-1, 1], p), [0, 0]);
  });
  it("tracks float LayerNorm on random rows within one step", () => {
    let seed = 5;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 100; trial++) {
      const c = 8 + Math.floor(next() * 200);
      const row = Array.from({ length: c }, () => Math.floor(next() * 256) - 128);
      const mean = row.reduce((a, b) => a + b, 0) / c;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / c;
      const got = run(row, params(c, { outputShift: new Int32Array(c).fill(-11) })); // y = n / 2^12 = 16 * z
      row.forEach((v, i) => {
        const want = Math.max(
          -128,
          Math.min(127, Math.round((16 * (v - mean)) / Math.sqrt(variance + 1 / (c * c)))),
        );
        assert.ok(Math.abs((got[i] as number) - want) <= 1, `c=${c} i=${i}: ${got[i]} vs ${want}`);
      });
    }
  });
});
