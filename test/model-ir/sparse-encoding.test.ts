import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  blockRleByteSize,
  decodeBlockRle,
  encodeBlockRle,
  forEachStoredBlock,
  sparseMatVec,
} from "../../src/model-ir/sparse-encoding.js";
import type { BlockSize } from "../../src/model-ir/types.js";
import { createRandom } from "../support/sample-models.js";

function randomPruned(
  rows: number,
  rowLength: number,
  b: BlockSize,
  density: number,
  seed: number,
): Int8Array {
  const rnd = createRandom(seed);
  const w = new Int8Array(rows * rowLength);
  for (let start = 0; start < w.length; start += b) {
    if (rnd() >= density) continue;
    for (let i = 0; i < b; i++) w[start + i] = Math.floor(rnd() * 255) - 127;
  }
  return w;
}

describe("block run-length encoding", () => {
  it("encodes the documented example", () => {
    const row = Int8Array.from([0, 0, 3, 1, 0, 0, 0, 0, 0, 5, 0, 0]);
    const enc = encodeBlockRle(row, 1, 12, 2 as BlockSize);
    assert.deepEqual([...enc.values], [3, 1, 0, 5]);
    assert.deepEqual([...enc.runs], [1, 2]);
    assert.deepEqual([...enc.rowBlockCounts], [2]);
    assert.equal(enc.runType, "uint8");
    assert.equal(blockRleByteSize(enc), 4 + 2 + 2);
  });
  it("restarts runs at every row and handles empty rows", () => {
    const w = Int8Array.from([0, 0, 0, 7, /* row 1 */ 0, 0, 0, 0, /* row 2 */ 1, 0, 0, 0]);
    const enc = encodeBlockRle(w, 3, 4, 1);
    assert.deepEqual([...enc.values], [7, 1]);
    assert.deepEqual([...enc.runs], [3, 0]);
    assert.deepEqual([...enc.rowBlockCounts], [1, 0, 1]);
    assert.deepEqual(decodeBlockRle(enc), w);
  });
  it("round-trips random pruned weights for every block size", () => {
    for (const b of [1, 4, 8, 16] as BlockSize[]) {
      const w = randomPruned(24, 144, b, 0.3, b);
      const enc = encodeBlockRle(w, 24, 144, b);
      assert.deepEqual(decodeBlockRle(enc), w);
      assert.equal(enc.values.length % b, 0);
    }
  });
  it("switches to uint16 runs when a gap exceeds 255 blocks", () => {
    const w = new Int8Array(1024);
    w[1000] = 9;
    const enc = encodeBlockRle(w, 1, 1024, 1);
    assert.equal(enc.runType, "uint16");
    assert.ok(enc.runs instanceof Uint16Array);
    assert.deepEqual([...enc.runs], [1000]);
    assert.deepEqual(decodeBlockRle(enc), w);
  });
  it("rejects a row length that is not a multiple of the block size", () => {
    assert.throws(() => encodeBlockRle(new Int8Array(18), 2, 9, 4), /not a multiple/);
  });
  it("the walk visits only stored blocks and matches a dense product", () => {
    const rows = 16;
    const len = 64;
    const w = randomPruned(rows, len, 8, 0.25, 99);
    const enc = encodeBlockRle(w, rows, len, 8);
    let visited = 0;
    forEachStoredBlock(enc, () => {
      visited += 1;
    });
    assert.equal(visited, enc.runs.length);
    const rnd = createRandom(5);
    const x = Int8Array.from({ length: len }, () => Math.floor(rnd() * 256) - 128);
    const got = sparseMatVec(enc, x, 7);
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let k = 0; k < len; k++) acc += (w[r * len + k] as number) * ((x[k] as number) + 7);
      assert.equal(got[r], acc);
    }
  });
  it("detects corrupted runs that overrun a row", () => {
    const enc = encodeBlockRle(Int8Array.from([0, 1, 0, 0]), 1, 4, 1);
    enc.runs[0] = 5;
    assert.throws(() => decodeBlockRle(enc), /overruns/);
  });
});

describe("block-rle in the blob", () => {
  it("round-trips uint8 and uint16 encodings through the blob", async () => {
    const { createBlobWriter, readBlockRle } = await import("../../src/model-ir/blob.js");
    for (const gap of [10, 700]) {
      const w = new Int8Array(2 * 1024);
      w[gap] = 5;
      w[1024 + 3] = -9;
      const enc = encodeBlockRle(w, 2, 1024, 1);
      const writer = createBlobWriter();
      writer.append(Int8Array.from([1, 2, 3])); // misalign on purpose
      const data = writer.appendBlockRle(enc);
      const blob = writer.finish();
      assert.equal(data.runs.offset % 16, 0);
      const tensor = { name: "w", shape: [2, 1024], dtype: "int8" as const, data };
      const back = readBlockRle({ graph: {} as never, blob }, tensor);
      assert.equal(back.runType, gap > 255 ? "uint16" : "uint8");
      assert.deepEqual(decodeBlockRle(back), w);
    }
  });
});
