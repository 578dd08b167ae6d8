/**
 * Blockwise run-length encoding of pruned int8 weights (DESIGN §6), shared by
 * the quantizer (encode), the interpreter (decode) and the C code generator
 * (which emits the three arrays as const data and walks them).
 *
 * A weight is viewed as `rows` output channels of `rowLength` weights along
 * the reduction axis (conv OHWI: rowLength = KH*KW*I/groups; linear [O, I]:
 * rowLength = I). A row is cut into rowLength / blockSize consecutive blocks.
 * A block whose weights are all zero is dropped; every other block is stored
 * with its run: the number of zero blocks skipped since the previous stored
 * block of the same row (or since the row start). A row's trailing zero
 * blocks need no entry: `rowBlockCounts[row]` says how many blocks it stores.
 *
 * Example, blockSize 2, one row [0 0 | 3 1 | 0 0 | 0 0 | 0 5 | 0 0]:
 *   values = [3 1 0 5], runs = [1 2], rowBlockCounts = [2].
 * The kernel walks it as
 *   k = 0; for each stored block j of the row: k += runs[j] * b;
 *          acc += dot(values[j*b ..], x[k ..], b); k += b;
 * and never touches a pruned block.
 */
import type { BlockSize } from "./types.js";

export interface BlockRleEncoding {
  blockSize: BlockSize;
  rows: number;
  rowLength: number;
  /** Narrowest run type that holds the largest gap. */
  runType: "uint8" | "uint16";
  /** Stored blocks' weights, blockSize per stored block, rows in order. */
  values: Int8Array;
  /** One run per stored block. */
  runs: Uint8Array | Uint16Array;
  /** Stored blocks per row. */
  rowBlockCounts: Uint16Array;
}

/** Encodes a dense row-major [rows, rowLength] int8 weight. */
export function encodeBlockRle(
  dense: Int8Array,
  rows: number,
  rowLength: number,
  blockSize: BlockSize,
): BlockRleEncoding {
  if (dense.length !== rows * rowLength) {
    throw new Error(`encodeBlockRle: ${dense.length} weights is not ${rows} x ${rowLength}`);
  }
  if (rowLength % blockSize !== 0) {
    throw new Error(`encodeBlockRle: row length ${rowLength} is not a multiple of ${blockSize}`);
  }
  const blocksPerRow = rowLength / blockSize;
  if (blocksPerRow > 65535) throw new Error(`encodeBlockRle: ${blocksPerRow} blocks per row`);
  const values: number[] = [];
  const runs: number[] = [];
  const rowBlockCounts = new Uint16Array(rows);
  let maxRun = 0;
  for (let row = 0; row < rows; row++) {
    let run = 0;
    let stored = 0;
    for (let blk = 0; blk < blocksPerRow; blk++) {
      const start = row * rowLength + blk * blockSize;
      let nonZero = false;
      for (let i = 0; i < blockSize; i++) {
        if (dense[start + i] !== 0) {
          nonZero = true;
          break;
        }
      }
      if (!nonZero) {
        run += 1;
        continue;
      }
      for (let i = 0; i < blockSize; i++) values.push(dense[start + i] as number);
      runs.push(run);
      if (run > maxRun) maxRun = run;
      run = 0;
      stored += 1;
    }
    rowBlockCounts[row] = stored;
  }
  const runType = maxRun <= 255 ? "uint8" : "uint16";
  return {
    blockSize,
    rows,
    rowLength,
    runType,
    values: Int8Array.from(values),
    runs: runType === "uint8" ? Uint8Array.from(runs) : Uint16Array.from(runs),
    rowBlockCounts,
  };
}

/**
 * Visits stored blocks in storage order: `row`, the weight index of the
 * block's first weight within the row, and the offset of its weights in
 * `values`. This is the walk the sparse C kernels perform.
 */
export function forEachStoredBlock(
  enc: BlockRleEncoding,
  visit: (row: number, start: number, valueOffset: number) => void,
): void {
  let j = 0;
  for (let row = 0; row < enc.rows; row++) {
    let k = 0;
    const count = enc.rowBlockCounts[row] as number;
    for (let n = 0; n < count; n++, j++) {
      k += (enc.runs[j] as number) * enc.blockSize;
      if (k + enc.blockSize > enc.rowLength) throw new Error(`block-rle: row ${row} overruns`);
      visit(row, k, j * enc.blockSize);
      k += enc.blockSize;
    }
  }
  if (j !== enc.runs.length || j * enc.blockSize !== enc.values.length) {
    throw new Error(`block-rle: ${j} blocks walked, ${enc.runs.length} runs stored`);
  }
}

/** Expands back to the dense [rows, rowLength] weight. */
export function decodeBlockRle(enc: BlockRleEncoding): Int8Array {
  const dense = new Int8Array(enc.rows * enc.rowLength);
  forEachStoredBlock(enc, (row, start, valueOffset) => {
    const dst = row * enc.rowLength + start;
    for (let i = 0; i < enc.blockSize; i++) dense[dst + i] = enc.values[valueOffset + i] as number;
  });
  return dense;
}

/**
 * Sparse matrix-vector product over one encoded weight: out[row] =
 * sum over stored blocks of w * (x[k] + inputOffset). The reference of what the
 * C sparse kernels compute (before bias and requantization).
 */
export function sparseMatVec(enc: BlockRleEncoding, x: Int8Array, inputOffset: number): Int32Array {
  const out = new Int32Array(enc.rows);
  forEachStoredBlock(enc, (row, start, valueOffset) => {
    let acc = 0;
    for (let i = 0; i < enc.blockSize; i++) {
      acc += (enc.values[valueOffset + i] as number) * ((x[start + i] as number) + inputOffset);
    }
    out[row] = ((out[row] as number) + acc) | 0;
  });
  return out;
}

/** Rows with at least one stored block (the rows a sparse kernel walks). */
export function storedRowCount(enc: BlockRleEncoding): number {
  let rows = 0;
  for (const count of enc.rowBlockCounts) if (count > 0) rows += 1;
  return rows;
}

/** Bytes the encoding occupies in flash (values + runs + row counts). */
export function blockRleByteSize(enc: BlockRleEncoding): number {
  return enc.values.byteLength + enc.runs.byteLength + enc.rowBlockCounts.byteLength;
}
