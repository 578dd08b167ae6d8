/**
 * The packed sparse stream (src/sparse-engine/pack-weights.ts) holds exactly
 * the IR encoding's counts, runs and values, in the documented order, and
 * leaves out the rows without a stored block.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeBlockRle } from "../../src/model-ir/sparse-encoding.js";
import type { BlockSize } from "../../src/model-ir/types.js";
import { packedSparseByteSize, packSparseWeight } from "../../src/sparse-engine/pack-weights.js";
import { createRng, randomPrunedWeight } from "../support/reference-cases.js";

/** Reads the stream back the way the C kernel does, into a dense weight. */
function unpack(
  stream: Uint8Array,
  storedRows: number,
  rows: number,
  rowLength: number,
  b: number,
  runBytes: number,
): Int8Array {
  const dense = new Int8Array(rows * rowLength);
  const u16 = (at: number) => (stream[at] as number) | ((stream[at + 1] as number) << 8);
  let at = 0;
  let r = 0;
  for (let left = storedRows; left > 0; left--, r++) {
    r += u16(at);
    const count = u16(at + 2);
    at += 4;
    assert.ok(count > 0 && r < rows, "a stored row has blocks and exists");
    let k = 0;
    for (let n = 0; n < count; n++) {
      const run = runBytes === 1 ? (stream[at] as number) : u16(at);
      at += runBytes;
      k += run * b;
      for (let i = 0; i < b; i++)
        dense[r * rowLength + k + i] = ((stream[at + i] as number) << 24) >> 24;
      at += b;
      k += b;
    }
  }
  assert.equal(at, stream.length);
  return dense;
}

test("packing keeps every stored block, in order, and skips empty rows", () => {
  const rng = createRng(3);
  for (const b of [1, 4, 8, 16] as BlockSize[]) {
    for (const sparsity of [0, 0.5, 0.9, 1]) {
      const rows = 7;
      const rowLength = b * 20;
      const dense = randomPrunedWeight(rng, rows, rowLength, b, sparsity);
      const enc = encodeBlockRle(dense, rows, rowLength, b);
      const packed = packSparseWeight(enc);
      const storedRows = [...enc.rowBlockCounts].filter((n) => n > 0).length;
      assert.equal(packed.storedRows, storedRows);
      assert.equal(packed.stream.length, packedSparseByteSize(enc));
      assert.equal(packed.stream.length, 4 * storedRows + enc.runs.length * (1 + b));
      assert.equal(packed.runBytes, 1);
      assert.deepEqual(unpack(packed.stream, storedRows, rows, rowLength, b, 1), dense);
    }
  }
});

test("uint16 runs take two bytes each", () => {
  const rowLength = 600;
  const dense = new Int8Array(4 * rowLength);
  dense[599] = 5; // gap of 599 blocks in row 0
  dense[3 * rowLength + 3] = -7; // rows 1 and 2 empty
  const enc = encodeBlockRle(dense, 4, rowLength, 1);
  assert.equal(enc.runType, "uint16");
  const packed = packSparseWeight(enc);
  assert.equal(packed.runBytes, 2);
  assert.equal(packed.storedRows, 2);
  assert.deepEqual(
    [...packed.stream],
    [0, 0, 1, 0, 599 & 0xff, 599 >> 8, 5, 2, 0, 1, 0, 3, 0, 0xf9],
  );
  assert.deepEqual(unpack(packed.stream, 2, 4, rowLength, 1, 2), dense);
});
