import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computeCubicSparsity, computeRampSteps } from "../../src/pruning/schedule.js";

describe("cubic pruning schedule (Zhu & Gupta)", () => {
  test("s_t = s_f (1 - (1 - t/T)^3), then s_f", () => {
    assert.equal(computeCubicSparsity(0, 0.8, 100), 0);
    assert.ok(Math.abs(computeCubicSparsity(50, 0.8, 100) - 0.8 * (1 - 0.125)) < 1e-12);
    assert.ok(Math.abs(computeCubicSparsity(25, 0.8, 100) - 0.8 * (1 - 0.75 ** 3)) < 1e-12);
    assert.equal(computeCubicSparsity(100, 0.8, 100), 0.8);
    assert.equal(computeCubicSparsity(250, 0.8, 100), 0.8);
  });

  test("rises monotonically and fastest at the start", () => {
    let previous = -1;
    let previousGain = Number.POSITIVE_INFINITY;
    for (let t = 0; t <= 20; t++) {
      const s = computeCubicSparsity(t, 0.5, 20);
      assert.ok(s > previous);
      if (t > 0) {
        const gain = s - previous;
        assert.ok(gain <= previousGain + 1e-15);
        previousGain = gain;
      }
      previous = s;
    }
  });

  test("no ramp prunes at once; ramp length is rampFraction of the steps, rounded", () => {
    assert.equal(computeCubicSparsity(0, 0.6, 0), 0.6);
    assert.equal(computeRampSteps(0.75, 10), 8);
    assert.equal(computeRampSteps(0, 10), 0);
    assert.equal(computeRampSteps(1, 10), 10);
    assert.throws(() => computeCubicSparsity(-1, 0.5, 10), RangeError);
  });
});
