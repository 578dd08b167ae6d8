/**
 * The non-zero stretches conv and linear walk (src/interpreter/ops/weight-spans.ts):
 * every non-zero weight inside a span, spans in order and apart, and long
 * zero gaps left out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { weightSpans } from "../../src/interpreter/ops/weight-spans.js";
import { createRng, randInt } from "../support/reference-cases.js";

test("spans cover every non-zero weight and skip long zero gaps", () => {
  const rng = createRng(4);
  for (let trial = 0; trial < 200; trial++) {
    const rows = randInt(rng, 1, 6);
    const rowLength = randInt(rng, 1, 80);
    const w = new Int8Array(rows * rowLength);
    // Runs of zeros and non-zeros of random lengths, some rows all zero.
    for (let i = 0; i < w.length; ) {
      const run = randInt(rng, 1, 12);
      const value = rng() < 0.5 ? 0 : randInt(rng, 1, 127);
      w.fill(value, i, Math.min(w.length, i + run));
      i += run;
    }
    const { rowStart, spans } = weightSpans(w, rows, rowLength);
    for (let r = 0; r < rows; r++) {
      const covered = new Uint8Array(rowLength);
      let previousEnd = -1;
      for (let s = rowStart[r] as number; s < (rowStart[r + 1] as number); s++) {
        const start = spans[2 * s] as number;
        const end = spans[2 * s + 1] as number;
        assert.ok(
          start > previousEnd && start < end && end <= rowLength,
          "ordered, apart, in the row",
        );
        assert.notEqual(w[r * rowLength + start], 0, "a span starts on a non-zero weight");
        assert.notEqual(w[r * rowLength + end - 1], 0, "and ends on one");
        for (let k = start; k < end; k++) covered[k] = 1;
        previousEnd = end;
      }
      for (let k = 0; k < rowLength; k++) {
        if (w[r * rowLength + k] !== 0) assert.equal(covered[k], 1, `weight ${k} of row ${r}`);
      }
      // A zero gap of 4 or more between two spans is never multiplied through.
      for (let k = 0; k + 4 <= rowLength; k++) {
        const gap = [0, 1, 2, 3].every((j) => w[r * rowLength + k + j] === 0);
        if (gap)
          assert.ok(
            [0, 1, 2, 3].some((j) => covered[k + j] === 0),
            `gap at ${k}`,
          );
      }
    }
  }
});

test("the spans of a weight array are computed once", () => {
  const w = Float32Array.of(1, 0, 0, 0, 0, 2, 3, 0);
  const first = weightSpans(w, 2, 4);
  assert.deepEqual([...first.spans], [0, 1, 1, 3]);
  assert.deepEqual([...first.rowStart], [0, 1, 2]);
  assert.equal(weightSpans(w, 2, 4), first);
});
