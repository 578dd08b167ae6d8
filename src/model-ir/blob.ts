/**
 * The model blob: constant tensors packed back to back, each 16-byte aligned,
 * little-endian. `createBlobWriter` appends typed arrays and returns their
 * ranges; `readTensorData` gives a constant back as a dense typed array
 * (decoding block-rle weights).
 */
import { createHash } from "node:crypto";
import { type BlockRleEncoding, decodeBlockRle } from "./sparse-encoding.js";
import type { BlobRange, BlockRleData, Model, TensorIR } from "./types.js";

export const BLOB_ALIGNMENT = 16;

type Typed = Int8Array | Uint8Array | Uint16Array | Int32Array | Float32Array;

export interface BlobWriter {
  /** Appends the bytes of `data` and returns where they went. */
  append(data: Typed): BlobRange;
  /** Appends a block-rle encoding and returns its IR description. */
  appendBlockRle(enc: BlockRleEncoding): BlockRleData;
  /** The finished blob. */
  finish(): Uint8Array;
}

export function createBlobWriter(): BlobWriter {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const append = (data: Typed): BlobRange => {
    const pad = (BLOB_ALIGNMENT - (length % BLOB_ALIGNMENT)) % BLOB_ALIGNMENT;
    if (pad > 0) {
      chunks.push(new Uint8Array(pad));
      length += pad;
    }
    // Node only runs on little-endian hosts we support; copy the raw bytes.
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    const range = { offset: length, byteLength: bytes.byteLength };
    chunks.push(bytes);
    length += bytes.byteLength;
    return range;
  };
  return {
    append,
    appendBlockRle(enc) {
      return {
        encoding: "block-rle",
        blockSize: enc.blockSize,
        runType: enc.runType,
        nonZeroBlocks: enc.runs.length,
        values: append(enc.values),
        runs: append(enc.runs),
        rowBlockCounts: append(enc.rowBlockCounts),
      };
    },
    finish() {
      const out = new Uint8Array(length);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out;
    },
  };
}

/** Hex SHA-256 of the blob, recorded in the graph and checked on load. */
export function computeBlobDigest(blob: Uint8Array): string {
  return createHash("sha256").update(blob).digest("hex");
}

function slice(blob: Uint8Array, range: BlobRange): Uint8Array {
  if (range.offset + range.byteLength > blob.byteLength) {
    throw new Error(
      `blob range ${range.offset}+${range.byteLength} beyond ${blob.byteLength} bytes`,
    );
  }
  // Copy so the view is aligned and independent of the blob's buffer.
  return blob.slice(range.offset, range.offset + range.byteLength);
}

/** Reads the block-rle arrays of a sparse weight tensor. */
export function readBlockRle(model: Model, tensor: TensorIR): BlockRleEncoding {
  const data = tensor.data;
  if (data?.encoding !== "block-rle") throw new Error(`tensor ${tensor.name} is not block-rle`);
  const [rows = 1] = tensor.shape;
  const rowLength = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  const runBytes = slice(model.blob, data.runs);
  return {
    blockSize: data.blockSize,
    rows,
    rowLength,
    runType: data.runType,
    values: new Int8Array(slice(model.blob, data.values).buffer),
    runs: data.runType === "uint8" ? runBytes : new Uint16Array(runBytes.buffer),
    rowBlockCounts: new Uint16Array(slice(model.blob, data.rowBlockCounts).buffer),
  };
}

/** A constant tensor's values as a dense row-major typed array. */
export function readTensorData(
  model: Model,
  tensor: TensorIR,
): Float32Array | Int8Array | Int32Array {
  const data = tensor.data;
  if (data === undefined) throw new Error(`tensor ${tensor.name} has no data`);
  if (data.encoding === "block-rle") return decodeBlockRle(readBlockRle(model, tensor));
  const bytes = slice(model.blob, data);
  switch (tensor.dtype) {
    case "float32":
      return new Float32Array(bytes.buffer);
    case "int8":
      return new Int8Array(bytes.buffer);
    case "int32":
      return new Int32Array(bytes.buffer);
    default:
      throw new Error(`tensor ${tensor.name}: unknown dtype`);
  }
}
