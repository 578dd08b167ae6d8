import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cDiv,
  INT32_MAX,
  INT32_MIN,
  multiplyByQuantizedMultiplier,
  roundHalfAwayFromZero,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from "../../src/int8/fixed-point.js";
import { createRandom } from "../support/sample-models.js";

/** gemmlowp SaturatingRoundingDoublingHighMul written literally with BigInt. */
function srdhmReference(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates, as C does
}

/** gemmlowp RoundingDivideByPOT written literally. */
function rdbpReference(x: number, e: number): number {
  const mask = (1 << e) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

describe("saturatingRoundingDoublingHighMul", () => {
  it("rounds the doubled high half with ties upward, like gemmlowp", () => {
    // 3 * 0.5 = 1.5 -> 2; -3 * 0.5 = -1.5 -> -1 (gemmlowp's negative nudge is 1 - 2^30)
    assert.equal(saturatingRoundingDoublingHighMul(3, 2 ** 30), 2);
    assert.equal(saturatingRoundingDoublingHighMul(-3, 2 ** 30), -1);
    assert.equal(saturatingRoundingDoublingHighMul(-5, 2 ** 30), -2);
    assert.equal(saturatingRoundingDoublingHighMul(100, 2 ** 30), 50);
  });
  it("saturates only INT32_MIN * INT32_MIN", () => {
    assert.equal(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
    assert.equal(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX), 2147483646);
    assert.equal(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX), -2147483647);
  });
  it("matches a BigInt reference on 20000 random and extreme pairs", () => {
    const rnd = createRandom(42);
    const pick = () => {
      const r = rnd();
      if (r < 0.1)
        return [INT32_MIN, INT32_MAX, 0, 1, -1, 2 ** 30, -(2 ** 30)][
          Math.floor(rnd() * 7)
        ] as number;
      return Math.floor(rnd() * 2 ** 32) - 2 ** 31;
    };
    for (let i = 0; i < 20000; i++) {
      const a = pick();
      const b = pick();
      assert.equal(saturatingRoundingDoublingHighMul(a, b), srdhmReference(a, b), `${a} * ${b}`);
    }
  });
});

describe("roundingDivideByPOT", () => {
  it("rounds ties away from zero", () => {
    assert.equal(roundingDivideByPOT(3, 1), 2); // 1.5
    assert.equal(roundingDivideByPOT(-3, 1), -2); // -1.5
    assert.equal(roundingDivideByPOT(5, 2), 1); // 1.25
    assert.equal(roundingDivideByPOT(-6, 2), -2); // -1.5
    assert.equal(roundingDivideByPOT(-5, 2), -1); // -1.25
    assert.equal(roundingDivideByPOT(7, 0), 7);
    assert.equal(roundingDivideByPOT(INT32_MIN, 31), -1);
    assert.equal(roundingDivideByPOT(INT32_MAX, 31), 1);
  });
  it("matches the literal gemmlowp bit arithmetic", () => {
    const rnd = createRandom(7);
    for (let i = 0; i < 5000; i++) {
      const x = Math.floor(rnd() * 2 ** 32) - 2 ** 31;
      const e = Math.floor(rnd() * 31);
      assert.equal(roundingDivideByPOT(x, e), rdbpReference(x, e), `${x} >> ${e}`);
    }
  });
});

describe("multiplyByQuantizedMultiplier (double rounding)", () => {
  it("applies the high multiply, then the rounding shift", () => {
    // real 0.25 = 2^30 (0.5) with shift -1
    assert.equal(multiplyByQuantizedMultiplier(3, 2 ** 30, -1), 1); // 0.75: 2 then 2/2 = 1
    assert.equal(multiplyByQuantizedMultiplier(-3, 2 ** 30, -1), -1); // -0.75: -1 then -0.5 -> -1
    assert.equal(multiplyByQuantizedMultiplier(-6, 2 ** 30, -1), -2); // -1.5: -3 then -1.5 -> -2
    assert.equal(multiplyByQuantizedMultiplier(10, 2 ** 30, 2), 20); // 0.5 * 4
    // 1000/3 = 333.33, but double rounding gives 334: SRDHM rounds 666.67 to 667,
    // then 667/2 = 333.5 rounds away from zero. C (CMSIS-NN default) agrees.
    assert.equal(multiplyByQuantizedMultiplier(1000, 1431655765, -1), 334);
    assert.equal(multiplyByQuantizedMultiplier(-1000, 1431655765, -1), -334);
    assert.equal(multiplyByQuantizedMultiplier(999, 1431655765, -1), 333);
  });
  it("handles mid-range multipliers with right shifts", () => {
    // x = 5, m = 0.75 * 2^31, shift -2: real 0.9375. SRDHM gives 4 (3.75 -> 4), then 4/4 = 1.
    assert.equal(multiplyByQuantizedMultiplier(5, 1610612736, -2), 1);
    // x = -10, m = 0.55 * 2^31 (1181116006), shift -3: real -0.6875 -> -5.5 -> -5, then -5/8 -> -1
    assert.equal(multiplyByQuantizedMultiplier(-10, 1181116006, -3), -1);
  });
  it("matches a BigInt reference with left and right shifts", () => {
    const rnd = createRandom(3);
    for (let i = 0; i < 5000; i++) {
      const x = Math.floor(rnd() * 2 ** 20) - 2 ** 19;
      const m = 2 ** 30 + Math.floor(rnd() * 2 ** 30);
      const shift = Math.floor(rnd() * 40) - 31;
      const left = Math.max(shift, 0);
      const right = Math.max(-shift, 0);
      const expected = rdbpReference(srdhmReference((x * 2 ** left) | 0, m), right);
      assert.equal(multiplyByQuantizedMultiplier(x, m, shift), expected);
    }
  });
});

describe("C rounding helpers", () => {
  it("roundHalfAwayFromZero is C round, not Math.round", () => {
    assert.equal(roundHalfAwayFromZero(-2.5), -3);
    assert.equal(roundHalfAwayFromZero(2.5), 3);
    assert.equal(roundHalfAwayFromZero(-0.5), -1);
    assert.equal(roundHalfAwayFromZero(-2.4), -2);
    assert.equal(Math.round(-2.5), -2); // the trap this helper avoids
  });
  it("cDiv truncates toward zero", () => {
    assert.equal(cDiv(-7, 2), -3);
    assert.equal(cDiv(7, 2), 3);
    assert.equal(cDiv(-7, -2), 3);
  });
});
