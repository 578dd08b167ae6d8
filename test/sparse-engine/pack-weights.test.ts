/**
 * The packed sparse stream (src/sparse-engine/pack-weights.ts) holds exactly
 * the IR encoding's counts, runs and values, in the documented order, in the
 * same number of bytes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { blockRleByteSize, encodeBlockRle } from "../../src/model-ir/sparse-encoding.js";
import type { BlockSize } from "../../src/model-ir/types.js";
import { packSparseWeight } from "../../src/sparse-engine/pack-weights.js";
import { createRng, randomPrunedWeight } from "../../src/sparse-engine/reference-cases.js";

/** Reads the stream back the way the C kernel does, into a dense weight. */
function unpack(
  stream: Uint8Array,
  rows: number,
  rowLength: number,
  b: number,
  runBytes: number,
): Int8Array {
  const dense = new Int8Array(rows * rowLength);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const count = (stream[at] as number) | ((stream[at + 1] as number) << 8);
    at += 2;
    let k = 0;
    for (let n = 0; n < count; n++) {
      const run =
        runBytes === 1
          ? (stream[at] as number)
          : (stream[at] as number) | ((stream[at + 1] as number) << 8);
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

test("packing keeps every stored block, in order, in the IR encoding's size", () => {
  const rng = createRng(3);
  for (const b of [1, 4, 8, 16] as BlockSize[]) {
    for (const sparsity of [0, 0.5, 0.9, 1]) {
      const rows = 7;
      const rowLength = b * 20;
      const dense = randomPrunedWeight(rng, rows, rowLength, b, sparsity);
      const enc = encodeBlockRle(dense, rows, rowLength, b);
      const packed = packSparseWeight(enc);
      assert.equal(packed.stream.length, blockRleByteSize(enc));
      assert.equal(packed.runBytes, 1);
      assert.deepEqual(unpack(packed.stream, rows, rowLength, b, 1), dense);
    }
  }
});

test("uint16 runs take two bytes each", () => {
  const rowLength = 600;
  const dense = new Int8Array(2 * rowLength);
  dense[599] = 5; // gap of 599 blocks in row 0
  dense[rowLength + 3] = -7;
  const enc = encodeBlockRle(dense, 2, rowLength, 1);
  assert.equal(enc.runType, "uint16");
  const packed = packSparseWeight(enc);
  assert.equal(packed.runBytes, 2);
  assert.deepEqual([...packed.stream], [1, 0, 599 & 0xff, 599 >> 8, 5, 1, 0, 3, 0, 0xf9]);
  assert.deepEqual(unpack(packed.stream, 2, rowLength, 1, 2), dense);
});
