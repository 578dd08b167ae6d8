/** Kendall's tau-b of the SuperNAS benchmark: known values, ties, and the degenerate case. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kendallTau } from "../../bench/_kendall.js";

test("perfect agreement is 1, reversal -1, an independent pairing near 0", () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // 6 pairs, one of them (2, 3) discordant: (5 - 1) / 6.
  assert.equal(kendallTau([1, 2, 3, 4], [1, 3, 2, 4]), (5 - 1) / 6);
});

test("ties count in tau-b's denominator; constant lists give 0", () => {
  // x ties on one pair: 5 untied pairs, all concordant; sqrt(5 * 6).
  assert.equal(kendallTau([1, 1, 2, 3], [1, 2, 3, 4]), 5 / Math.sqrt(5 * 6));
  assert.equal(kendallTau([1, 1, 1], [1, 2, 3]), 0);
});
