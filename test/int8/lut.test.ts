import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { erf } from "../../src/int8/erf.js";
import {
  ACTIVATION_FUNCTIONS,
  activationTransform,
  lookupLut,
  populateLut,
} from "../../src/int8/lut.js";

describe("erf", () => {
  it("matches reference values to 1e-15", () => {
    const refs: Array<[number, number]> = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-1.5, -0.9661051464753108],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
      [7, 1],
    ];
    for (const [x, want] of refs)
      assert.ok(Math.abs(erf(x) - want) <= 1e-15, `erf(${x}) = ${erf(x)}`);
  });
});

describe("populateLut (TFLM LUTPopulate)", () => {
  it("stores entries at (uint8_t)v and reads them back", () => {
    const lut = populateLut(0.1, -10, 0.1, -10, activationTransform("relu"));
    for (let v = -128; v <= 127; v++) assert.equal(lookupLut(lut, v), Math.max(v, -10));
    assert.equal(lut[255], -1); // index of v = -1
    assert.equal(lut[128], -10); // index of v = -128 (clamped by relu to zp)
  });
  it("rounds ties away from zero", () => {
    const lut = populateLut(1, 0, 2, 0, (x) => x); // y = v / 2
    assert.equal(lookupLut(lut, 3), 2);
    assert.equal(lookupLut(lut, -3), -2);
    assert.equal(lookupLut(lut, -1), -1);
    assert.equal(lookupLut(lut, 1), 1);
  });
  it("saturates to [-128, 127]", () => {
    const lut = populateLut(1, 0, 0.5, 0, (x) => x); // y = 2v
    assert.equal(lookupLut(lut, 100), 127);
    assert.equal(lookupLut(lut, -100), -128);
    assert.equal(lookupLut(lut, 20), 40);
  });
  it("evaluates the float32 steps: scale 0.1 is not exact in float32", () => {
    // identity with scale 0.1: fround(0.1) * v * fround(1/0.1) still rounds to v
    const lut = populateLut(0.1, 3, 0.1, 3, (x) => x);
    for (let v = -128; v <= 127; v++) assert.equal(lookupLut(lut, v), v);
  });
  it("GELU table: hand-checked entries", () => {
    const lut = populateLut(0.05, 0, 0.05, -20, activationTransform("gelu"));
    assert.equal(lookupLut(lut, 0), -20); // gelu(0) = 0 -> zero point
    // v = 40 -> x = 2.0, gelu = 1.9545 -> 39.09 -> 39 - 20 = 19
    assert.equal(lookupLut(lut, 40), 19);
    // v = -20 -> x = -1.0, gelu = -0.15866 -> -3.17 -> -3 - 20 = -23
    assert.equal(lookupLut(lut, -20), -23);
  });
  it("every table stays within one step of the float function", () => {
    for (const fn of ACTIVATION_FUNCTIONS) {
      const f = activationTransform(fn);
      const sIn = 0.06;
      const zIn = 5;
      const sOut = 0.04;
      const zOut = -30;
      const lut = populateLut(sIn, zIn, sOut, zOut, f);
      for (let v = -128; v <= 127; v++) {
        const want = Math.max(-128, Math.min(127, Math.round(f(sIn * (v - zIn)) / sOut) + zOut));
        assert.ok(Math.abs(lookupLut(lut, v) - want) <= 1, `${fn}(${v})`);
      }
    }
  });
  it("transforms: gelu, silu, hard_swish values", () => {
    assert.ok(Math.abs(activationTransform("gelu")(1) - 0.8413447460685429) < 1e-7);
    assert.ok(Math.abs(activationTransform("silu")(1) - 0.7310585786300049) < 1e-7);
    assert.equal(activationTransform("hard_swish")(1), Math.fround(4 / 6));
    assert.ok(activationTransform("hard_swish")(-3) === 0);
    assert.equal(activationTransform("relu6")(7), 6);
  });
});
