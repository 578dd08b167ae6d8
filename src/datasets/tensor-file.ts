/**
 * The compact dataset tensor file (`*.tfds`), specified in
 * docs/dataset-format.md: a 32-byte little-endian header, then uint8 NHWC
 * pixels, then one uint8 label per image. Class names live in the manifest
 * next to it, not in the file.
 */
import type { ImageDataset } from "./image-dataset.js";

export const TENSOR_FILE_MAGIC = "TFDS";
export const TENSOR_FILE_VERSION = 1;
export const TENSOR_FILE_HEADER_BYTES = 32;

export interface TensorFileHeader {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classCount: number;
}

export function encodeTensorFile(dataset: ImageDataset): Uint8Array {
  const pixels = dataset.count * dataset.height * dataset.width * dataset.channels;
  if (dataset.images.length !== pixels || dataset.labels.length !== dataset.count) {
    throw new Error("encodeTensorFile: image or label buffer does not match the declared shape");
  }
  const out = new Uint8Array(TENSOR_FILE_HEADER_BYTES + pixels + dataset.count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = TENSOR_FILE_MAGIC.charCodeAt(i);
  const fields = [
    TENSOR_FILE_VERSION,
    dataset.count,
    dataset.height,
    dataset.width,
    dataset.channels,
    dataset.classNames.length,
  ];
  for (const [index, value] of fields.entries()) view.setUint32(4 + 4 * index, value, true);
  // Bytes 28-31 are reserved and stay zero.
  out.set(dataset.images, TENSOR_FILE_HEADER_BYTES);
  out.set(dataset.labels, TENSOR_FILE_HEADER_BYTES + pixels);
  return out;
}

/** Reads and checks the header; `source` names errors. */
export function decodeTensorFileHeader(bytes: Uint8Array, source: string): TensorFileHeader {
  if (bytes.length < TENSOR_FILE_HEADER_BYTES) {
    throw new Error(`${source}: ${bytes.length} bytes, shorter than the 32-byte header`);
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== TENSOR_FILE_MAGIC) {
    throw new Error(`${source}: not a dataset tensor file (magic ${JSON.stringify(magic)})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== TENSOR_FILE_VERSION) {
    throw new Error(
      `${source}: format version ${version}, this reader knows ${TENSOR_FILE_VERSION}`,
    );
  }
  return {
    count: view.getUint32(8, true),
    height: view.getUint32(12, true),
    width: view.getUint32(16, true),
    channels: view.getUint32(20, true),
    classCount: view.getUint32(24, true),
  };
}

/**
 * Decodes a tensor file into a dataset sharing `bytes`' memory. A wrong size
 * or an out-of-range label is an error naming `source` (and the image index).
 */
export function decodeTensorFile(
  bytes: Uint8Array,
  classNames: readonly string[],
  source: string,
): ImageDataset {
  const header = decodeTensorFileHeader(bytes, source);
  const pixels = header.count * header.height * header.width * header.channels;
  const expected = TENSOR_FILE_HEADER_BYTES + pixels + header.count;
  if (bytes.length !== expected) {
    const imageBytes = header.height * header.width * header.channels;
    const complete = Math.floor((bytes.length - TENSOR_FILE_HEADER_BYTES) / imageBytes);
    throw new Error(
      `${source}: ${bytes.length} bytes, expected ${expected} for ${header.count} images` +
        (bytes.length < expected
          ? ` (truncated in image ${Math.min(complete, header.count)})`
          : ""),
    );
  }
  if (classNames.length !== header.classCount) {
    throw new Error(
      `${source}: header says ${header.classCount} classes, manifest names ${classNames.length}`,
    );
  }
  const labels = bytes.subarray(TENSOR_FILE_HEADER_BYTES + pixels, expected);
  for (let i = 0; i < labels.length; i++) {
    if ((labels[i] as number) >= header.classCount) {
      throw new Error(
        `${source}: image ${i} has label ${labels[i]} of ${header.classCount} classes`,
      );
    }
  }
  return {
    count: header.count,
    height: header.height,
    width: header.width,
    channels: header.channels,
    images: bytes.subarray(TENSOR_FILE_HEADER_BYTES, TENSOR_FILE_HEADER_BYTES + pixels),
    labels,
    classNames,
  };
}
