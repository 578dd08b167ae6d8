/**
 * Offline repacking of a block-RLE weight (src/model-ir/sparse-encoding.ts)
 * into the single byte stream the SparseEngine sparse kernels walk
 * (`tf_sparse_weights.stream`, templates/c/include/tf_nn_types.h):
 *
 *   per row:  count  uint16 LE   stored blocks of the row
 *             per stored block:
 *               run    uint8, or uint16 LE when runType is "uint16"
 *               values blockSize int8 weights
 *
 * The IR keeps values, runs and row counts in three arrays; interleaving them
 * lets the kernel use one pointer instead of three, which keeps its loop state
 * in registers. Weights keep their order inside a block (the kernels permute
 * the *input* to match SXTB16), so no value is reordered. The stream has
 * exactly the IR encoding's size (values + runs + row counts).
 */
import type { BlockRleEncoding } from "../model-ir/sparse-encoding.js";
import { forEachStoredBlock } from "../model-ir/sparse-encoding.js";

/** The packed weight and the parameters its `tf_sparse_weights` needs. */
export interface PackedSparseWeight {
  blockSize: number;
  /** 1 (uint8 runs) or 2 (uint16 runs): `tf_sparse_weights.run_bytes`. */
  runBytes: 1 | 2;
  stream: Uint8Array;
}

export function packSparseWeight(enc: BlockRleEncoding): PackedSparseWeight {
  const runBytes = enc.runType === "uint8" ? 1 : 2;
  const stored = enc.runs.length;
  const stream = new Uint8Array(2 * enc.rows + stored * (runBytes + enc.blockSize));
  let at = 0;
  let row = -1;
  let j = 0;
  const startRow = (r: number) => {
    while (row < r) {
      row += 1;
      const count = enc.rowBlockCounts[row] as number;
      stream[at] = count & 0xff;
      stream[at + 1] = count >> 8;
      at += 2;
    }
  };
  forEachStoredBlock(enc, (r, _start, valueOffset) => {
    startRow(r);
    const run = enc.runs[j] as number;
    j += 1;
    stream[at] = run & 0xff;
    if (runBytes === 2) stream[at + 1] = run >> 8;
    at += runBytes;
    for (let i = 0; i < enc.blockSize; i++)
      stream[at + i] = (enc.values[valueOffset + i] as number) & 0xff;
    at += enc.blockSize;
  });
  startRow(enc.rows - 1);
  if (at !== stream.length)
    throw new Error(`packSparseWeight: wrote ${at} of ${stream.length} bytes`);
  return { blockSize: enc.blockSize, runBytes, stream };
}
