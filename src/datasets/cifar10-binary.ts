/**
 * Loader for CIFAR-10's binary format: records of 1 label byte (0-9)
 * followed by 3072 pixel bytes, planar (1024 red, 1024 green, 1024 blue,
 * each a row-major 32x32 plane). No header, no delimiter. We return NHWC
 * (interleaved) pixels, the layout the trainer and the C engine use.
 */
import { access, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { assertSha256, loadSha256Sums } from "./checksum.js";
import type { ImageDataset } from "./image-dataset.js";

export const CIFAR10_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_SIDE * CIFAR10_SIDE * CIFAR10_CHANNELS;
export const CIFAR10_CLASS_COUNT = 10;
export const CIFAR10_SOURCE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

/** The file names of the official release (`cifar-10-batches-bin/`). */
export const cifar10SplitFiles = {
  train: [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
  ],
  test: ["test_batch.bin"],
} as const;

export type Cifar10Split = keyof typeof cifar10SplitFiles;

/** Images per split in the official release (five training batches of 10000). */
export const CIFAR10_OFFICIAL_IMAGES = { train: 50_000, test: 10_000 } as const;

export interface Cifar10LoadOptions {
  /** Directory holding the `.bin` files and `batches.meta.txt`. */
  readonly directory: string;
  readonly split: Cifar10Split;
  /**
   * Verify file digests: `true` reads `SHA256SUMS` in the directory; a map
   * gives file name -> hex digest explicitly. @default false
   */
  readonly checksums?: boolean | ReadonlyMap<string, string>;
  /** Read at most this many records (from the first file on). */
  readonly limit?: number;
}

/**
 * Why a CIFAR-10 file of `length` bytes cannot be read, naming `source`, or
 * undefined when it holds whole records. The check does not depend on how
 * many records are used: a file cut short is corrupt even when a limit stops
 * reading before its end, and an empty one would make an empty split whose
 * accuracy is 0 / 0.
 */
export function cifar10LengthProblem(length: number, source: string): string | undefined {
  if (length === 0) {
    return `${source}: empty file, expected ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 records (1 label byte + 3072 pixel bytes)`;
  }
  if (length % CIFAR10_RECORD_BYTES === 0) return undefined;
  const whole = Math.floor(length / CIFAR10_RECORD_BYTES);
  return (
    `${source}: truncated at record ${whole} (${length} bytes is not a multiple of ` +
    `the ${CIFAR10_RECORD_BYTES}-byte record size)`
  );
}

/**
 * Decodes CIFAR-10 binary records. A length that is not a whole, non-zero
 * number of records, or a label outside 0-9, is an error naming `source` and
 * the record index.
 */
export function decodeCifar10Records(
  bytes: Uint8Array,
  source: string,
  limit = Number.POSITIVE_INFINITY,
): { images: Uint8Array; labels: Uint8Array } {
  const problem = cifar10LengthProblem(bytes.length, source);
  if (problem !== undefined) throw new Error(problem);
  const count = Math.min(bytes.length / CIFAR10_RECORD_BYTES, limit);
  const plane = CIFAR10_SIDE * CIFAR10_SIDE;
  const images = new Uint8Array(count * plane * CIFAR10_CHANNELS);
  const labels = new Uint8Array(count);
  for (let record = 0; record < count; record++) {
    const offset = record * CIFAR10_RECORD_BYTES;
    const label = bytes[offset] as number;
    if (label >= CIFAR10_CLASS_COUNT) {
      throw new Error(
        `${source}: record ${record} has label ${label}, expected 0-9 (corrupt file?)`,
      );
    }
    labels[record] = label;
    const pixels = offset + 1;
    const out = record * plane * CIFAR10_CHANNELS;
    for (let p = 0; p < plane; p++) {
      images[out + p * 3] = bytes[pixels + p] as number;
      images[out + p * 3 + 1] = bytes[pixels + plane + p] as number;
      images[out + p * 3 + 2] = bytes[pixels + 2 * plane + p] as number;
    }
  }
  return { images, labels };
}

/** Encodes NHWC images and labels as CIFAR-10 binary records (for subsets and tests). */
export function encodeCifar10Records(images: Uint8Array, labels: Uint8Array): Uint8Array {
  const plane = CIFAR10_SIDE * CIFAR10_SIDE;
  const out = new Uint8Array(labels.length * CIFAR10_RECORD_BYTES);
  for (let record = 0; record < labels.length; record++) {
    const offset = record * CIFAR10_RECORD_BYTES;
    out[offset] = labels[record] as number;
    const source = record * plane * 3;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++)
        out[offset + 1 + c * plane + p] = images[source + p * 3 + c] as number;
    }
  }
  return out;
}

/** The message for a dataset that is not where the recipe says. */
export function missingCifar10Message(directory: string, file: string): string {
  return (
    `CIFAR-10 file ${file} not found in ${directory}. Put the binary version there ` +
    `(download ${CIFAR10_SOURCE_URL} and extract cifar-10-batches-bin/), or point the ` +
    "recipe's dataset path at a directory that has it. The repository's data/cifar10-subset/ " +
    "is a small subset that works out of the box."
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads class names from `batches.meta.txt` (one per line); falls back to
 * the official names when the file is absent.
 */
export async function loadCifar10ClassNames(directory: string): Promise<string[]> {
  const path = join(directory, "batches.meta.txt");
  if (!(await exists(path))) {
    return [
      "airplane",
      "automobile",
      "bird",
      "cat",
      "deer",
      "dog",
      "frog",
      "horse",
      "ship",
      "truck",
    ];
  }
  const names = (await readFile(path, "utf8"))
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (names.length !== CIFAR10_CLASS_COUNT) {
    throw new Error(`${path}: expected ${CIFAR10_CLASS_COUNT} class names, found ${names.length}`);
  }
  return names;
}

/**
 * Loads one split from a CIFAR-10 binary directory. For `train`, every
 * `data_batch_N.bin` present is read in order (a partial copy with only some
 * batches works); at least one must exist.
 */
export async function loadCifar10Binary(options: Cifar10LoadOptions): Promise<ImageDataset> {
  const { directory, split } = options;
  const candidates = cifar10SplitFiles[split];
  const present: string[] = [];
  for (const name of candidates) {
    if (await exists(join(directory, name))) present.push(name);
  }
  if (present.length === 0) {
    throw new Error(missingCifar10Message(directory, candidates[0]));
  }
  const sums =
    options.checksums === true
      ? await loadSha256Sums(join(directory, "SHA256SUMS"))
      : options.checksums === false || options.checksums === undefined
        ? undefined
        : options.checksums;
  const classNames = await loadCifar10ClassNames(directory);
  // Every file of the split, also those a limit leaves unread.
  for (const name of present) {
    const path = join(directory, name);
    const problem = cifar10LengthProblem((await stat(path)).size, path);
    if (problem !== undefined) throw new Error(problem);
  }
  const imageParts: Uint8Array[] = [];
  const labelParts: Uint8Array[] = [];
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  for (const name of present) {
    if (remaining <= 0) break;
    const path = join(directory, name);
    const bytes = new Uint8Array(await readFile(path));
    if (sums !== undefined) {
      const expected = sums.get(basename(name));
      if (expected === undefined) throw new Error(`${path}: no checksum listed for this file`);
      assertSha256(bytes, expected, path);
    }
    const { images, labels } = decodeCifar10Records(bytes, path, remaining);
    imageParts.push(images);
    labelParts.push(labels);
    remaining -= labels.length;
  }
  const count = labelParts.reduce((n, part) => n + part.length, 0);
  return {
    count,
    height: CIFAR10_SIDE,
    width: CIFAR10_SIDE,
    channels: CIFAR10_CHANNELS,
    images: concatBytes(imageParts),
    labels: concatBytes(labelParts),
    classNames,
  };
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
