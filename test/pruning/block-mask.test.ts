import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  applyBlockMask,
  computeBlockMask,
  countBlocks,
  countPrunedBlocks,
  measureBlockSparsity,
} from "../../src/pruning/block-mask.js";

/** A 4-row tensor of rowLength 8 whose block norms are all distinct (block i has norm ~ (i+1)). */
function rampWeights(rows: number, rowLength: number): Float32Array {
  const values = new Float32Array(rows * rowLength);
  for (let i = 0; i < values.length; i++) values[i] = (i % 2 === 0 ? 1 : -1) * (1 + ((i * 7) % 31));
  return values;
}

describe("blockwise magnitude masks", () => {
  test("round(target × blocks) blocks, half up", () => {
    assert.equal(countPrunedBlocks(0.5, 10), 5);
    assert.equal(countPrunedBlocks(0.25, 10), 3); // 2.5 -> 3
    assert.equal(countPrunedBlocks(0.24, 10), 2);
    assert.equal(countPrunedBlocks(0, 7), 0);
    assert.equal(countPrunedBlocks(1, 7), 7);
    assert.throws(() => countPrunedBlocks(1.5, 4), RangeError);
  });

  test("prunes exactly that many blocks, the smallest by L2 norm, for every block size", () => {
    const rowLength = 16;
    for (const blockSize of [1, 4, 8, 16]) {
      for (const target of [0.1, 0.3, 0.5, 0.75, 0.9]) {
        const weights = rampWeights(6, rowLength);
        const blocks = countBlocks(weights.length, rowLength, blockSize);
        const mask = computeBlockMask(weights, rowLength, blockSize, target);
        const expected = Math.round(target * blocks);
        assert.equal(mask.pruned, expected);
        const norms = Array.from({ length: blocks }, (_, b) =>
          weights.subarray(b * blockSize, (b + 1) * blockSize).reduce((s, w) => s + w * w, 0),
        );
        const prunedNorms = norms.filter((_, b) => mask.keep[b] === 0);
        const keptNorms = norms.filter((_, b) => mask.keep[b] === 1);
        if (prunedNorms.length > 0 && keptNorms.length > 0)
          assert.ok(
            Math.max(...prunedNorms) <= Math.min(...keptNorms),
            `b=${blockSize} s=${target}`,
          );
        applyBlockMask(weights, mask);
        assert.equal(measureBlockSparsity(weights, blockSize), expected / blocks);
        for (let b = 0; b < blocks; b++) {
          const block = weights.subarray(b * blockSize, (b + 1) * blockSize);
          if (mask.keep[b] === 0) assert.ok(block.every((w) => w === 0));
          else assert.ok(block.some((w) => w !== 0));
        }
      }
    }
  });

  test("blocks run along rows: block b of the flat array is weights [b·size, (b+1)·size)", () => {
    // Two rows of 4; one block of size 4 per row; the second row is smaller.
    const weights = Float32Array.from([5, 5, 5, 5, 1, -1, 1, -1]);
    const mask = computeBlockMask(weights, 4, 4, 0.5);
    applyBlockMask(weights, mask);
    assert.deepEqual(Array.from(weights), [5, 5, 5, 5, 0, 0, 0, 0]);
  });

  test("ties go to the lower block index, so masks are deterministic", () => {
    const weights = new Float32Array(8).fill(1);
    const mask = computeBlockMask(weights, 8, 2, 0.5);
    assert.deepEqual(Array.from(mask.keep), [0, 0, 1, 1]);
  });

  test("a block size that does not divide the row length is an error", () => {
    assert.throws(
      () => computeBlockMask(new Float32Array(18), 9, 4, 0.5),
      /block size 4 does not divide the row length 9/,
    );
  });
});
