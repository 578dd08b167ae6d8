/**
 * Offline repacking of a block-RLE weight (src/model-ir/sparse-encoding.ts)
 * into the single byte stream the SparseEngine sparse kernels walk
 * (`tf_sparse_weights.stream`, templates/c/include/tf_nn_types.h):
 *
 *   per stored row (a row with at least one stored block):
 *             skip   uint16 LE   rows without stored blocks since the
 *                                previous stored row (or the start)
 *             count  uint16 LE   stored blocks of the row
 *             per stored block:
 *               run    uint8, or uint16 LE when runType is "uint16"
 *               values blockSize int8 weights
 *
 * The IR keeps values, runs and row counts in three arrays; interleaving them
 * lets the kernel use one pointer instead of three, which keeps its loop state
 * in registers, and leaving out the rows whose blocks were all pruned means
 * the kernel never visits them (their output is the requantized bias). The
 * skip and the count form one little-endian word, read with one load. Weights
 * keep their order inside a block (the kernels permute the *input* to match
 * SXTB16), so no value is reordered.
 */
import type { BlockRleEncoding } from "../model-ir/sparse-encoding.js";
import { forEachStoredBlock, storedRowCount } from "../model-ir/sparse-encoding.js";

/** The packed weight and the parameters its `tf_sparse_weights` needs. */
export interface PackedSparseWeight {
  blockSize: number;
  /** 1 (uint8 runs) or 2 (uint16 runs): `tf_sparse_weights.run_bytes`. */
  runBytes: 1 | 2;
  /** Rows with at least one stored block: `tf_sparse_weights.stored_rows`. */
  storedRows: number;
  stream: Uint8Array;
}

/** Bytes of the packed stream of `enc` (headers, runs and values). */
export function packedSparseByteSize(enc: BlockRleEncoding): number {
  const runBytes = enc.runType === "uint8" ? 1 : 2;
  return 4 * storedRowCount(enc) + enc.runs.length * (runBytes + enc.blockSize);
}

export function packSparseWeight(enc: BlockRleEncoding): PackedSparseWeight {
  const runBytes = enc.runType === "uint8" ? 1 : 2;
  if (enc.rows > 0xffff) throw new Error(`packSparseWeight: ${enc.rows} rows exceed 65535`);
  const stream = new Uint8Array(packedSparseByteSize(enc));
  const write16 = (at: number, v: number) => {
    stream[at] = v & 0xff;
    stream[at + 1] = v >> 8;
  };
  let at = 0;
  let row = -1; // the last stored row written
  let j = 0;
  forEachStoredBlock(enc, (r, _start, valueOffset) => {
    if (r !== row) {
      write16(at, r - row - 1);
      write16(at + 2, enc.rowBlockCounts[r] as number);
      at += 4;
      row = r;
    }
    const run = enc.runs[j] as number;
    j += 1;
    stream[at] = run & 0xff;
    if (runBytes === 2) stream[at + 1] = run >> 8;
    at += runBytes;
    for (let i = 0; i < enc.blockSize; i++)
      stream[at + i] = (enc.values[valueOffset + i] as number) & 0xff;
    at += enc.blockSize;
  });
  if (at !== stream.length)
    throw new Error(`packSparseWeight: wrote ${at} of ${stream.length} bytes`);
  return { blockSize: enc.blockSize, runBytes, storedRows: storedRowCount(enc), stream };
}
