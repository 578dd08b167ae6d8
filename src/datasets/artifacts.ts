/**
 * The dataset stage's outputs: one tensor file per split plus a JSON
 * manifest (class names, counts, normalisation statistics, digests).
 *
 *   source (CIFAR-10 binary dir | image folder)
 *     -> load -> optional resize -> seeded stratified train/validation split
 *     -> train.tfds, validation.tfds, [test.tfds], manifest.json
 *
 * `computeDatasetArtifacts` builds the files in memory (deterministic: the
 * same options and source bytes give the same output bytes);
 * `writeDatasetArtifacts` persists them; `loadDatasetArtifacts` reads them
 * back and verifies their digests.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "./checksum.js";
import { loadCifar10Binary } from "./cifar10-binary.js";
import { countPerClass, type ImageDataset, imageSize, selectImages } from "./image-dataset.js";
import { loadImageFolder } from "./image-folder.js";
import { type ChannelStatistics, computeChannelStatistics } from "./normalize.js";
import { resizeBilinear } from "./resize.js";
import { computeTrainValidationSplit } from "./split.js";
import { decodeTensorFile, encodeTensorFile } from "./tensor-file.js";

export type DatasetSource =
  | {
      readonly kind: "cifar10-binary";
      /** Directory with `data_batch_*.bin`, `test_batch.bin`, `batches.meta.txt`. */
      readonly directory: string;
      /** Verify against the directory's `SHA256SUMS`. @default false */
      readonly verifyChecksums?: boolean;
      /** Expected SHA-256 per file name (the recipe's `dataset.sha256`); wins over verifyChecksums. */
      readonly checksums?: ReadonlyMap<string, string>;
    }
  | {
      readonly kind: "image-folder";
      /** `root/<class>/*.png|*.jpg`, the training images. */
      readonly root: string;
      /** Same layout, the held-out test images (optional). */
      readonly testRoot?: string;
    };

export interface DatasetArtifactOptions {
  readonly source: DatasetSource;
  /** Fraction of each training class held out for validation. @default 0.1 */
  readonly validationFraction?: number;
  /** Seeds the split. */
  readonly seed: number;
  /** Resize every image to this resolution (bilinear); default keeps the source size. */
  readonly resize?: { readonly height: number; readonly width: number };
  /** Use at most this many source images per split (quick experiments). */
  readonly limit?: { readonly train?: number; readonly test?: number };
}

export type SplitName = "train" | "validation" | "test";

export interface SplitManifest {
  readonly file: string;
  readonly count: number;
  /** Images per class, indexed by label. */
  readonly perClass: readonly number[];
  readonly sha256: string;
}

export interface DatasetManifest {
  readonly format: "tinyformer-dataset";
  readonly version: 1;
  readonly classNames: readonly string[];
  readonly image: { readonly height: number; readonly width: number; readonly channels: number };
  readonly splits: Partial<Record<SplitName, SplitManifest>>;
  /** Per-channel statistics of the training split, for input normalisation. */
  readonly normalization: ChannelStatistics;
  readonly seed: number;
  readonly validationFraction: number;
  /** SHA-256 over the class names, image geometry and every split's digest. */
  readonly contentDigest: string;
}

export interface DatasetArtifacts {
  readonly manifest: DatasetManifest;
  /** File name (relative to the output directory) -> bytes, manifest.json included. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export const MANIFEST_FILE = "manifest.json";

async function loadSource(
  source: DatasetSource,
  split: "train" | "test",
  limit: number | undefined,
): Promise<ImageDataset | undefined> {
  switch (source.kind) {
    case "cifar10-binary":
      return loadCifar10Binary({
        directory: source.directory,
        split,
        checksums: source.checksums ?? source.verifyChecksums ?? false,
        ...(limit === undefined ? {} : { limit }),
      });
    case "image-folder": {
      const root = split === "train" ? source.root : source.testRoot;
      if (root === undefined) return undefined;
      const dataset = await loadImageFolder({ root });
      return limit === undefined || limit >= dataset.count
        ? dataset
        : selectImages(
            dataset,
            Array.from({ length: limit }, (_, i) => i),
          );
    }
  }
}

function resizeDataset(
  dataset: ImageDataset,
  to: { height: number; width: number } | undefined,
): ImageDataset {
  if (to === undefined || (to.height === dataset.height && to.width === dataset.width)) {
    return dataset;
  }
  const from = imageSize(dataset);
  const size = to.height * to.width * dataset.channels;
  const images = new Uint8Array(dataset.count * size);
  for (let i = 0; i < dataset.count; i++) {
    images.set(
      resizeBilinear(dataset.images.subarray(i * from, (i + 1) * from), dataset, to),
      i * size,
    );
  }
  return { ...dataset, ...to, images };
}

export async function computeDatasetArtifacts(
  options: DatasetArtifactOptions,
): Promise<DatasetArtifacts> {
  const validationFraction = options.validationFraction ?? 0.1;
  const trainSource = await loadSource(options.source, "train", options.limit?.train);
  if (trainSource === undefined) throw new Error("dataset source has no training images");
  const testSource = await loadSource(options.source, "test", options.limit?.test);
  if (
    testSource !== undefined &&
    testSource.classNames.join("\n") !== trainSource.classNames.join("\n")
  ) {
    throw new Error("training and test sources name different classes");
  }
  const full = resizeDataset(trainSource, options.resize);
  const indices = computeTrainValidationSplit(full.labels, {
    validationFraction,
    seed: options.seed,
  });
  // Rounding per class can hold out every image of a tiny source; training on none fails late.
  if (indices.train.length === 0) {
    throw new Error(
      `no training images: validation_fraction ${validationFraction} holds out all ${full.count} images of the training source`,
    );
  }
  const splits: [SplitName, ImageDataset][] = [
    ["train", selectImages(full, indices.train)],
    ["validation", selectImages(full, indices.validation)],
  ];
  if (testSource !== undefined) splits.push(["test", resizeDataset(testSource, options.resize)]);

  const files = new Map<string, Uint8Array>();
  const splitManifests: Partial<Record<SplitName, SplitManifest>> = {};
  for (const [name, dataset] of splits) {
    const bytes = encodeTensorFile(dataset);
    const file = `${name}.tfds`;
    files.set(file, bytes);
    splitManifests[name] = {
      file,
      count: dataset.count,
      perClass: countPerClass(dataset),
      sha256: sha256Hex(bytes),
    };
  }
  const train = splits[0]?.[1] as ImageDataset;
  const image = { height: full.height, width: full.width, channels: full.channels };
  const contentDigest = sha256Hex(
    new TextEncoder().encode(
      JSON.stringify({
        classNames: full.classNames,
        image,
        splits: Object.entries(splitManifests).map(([name, split]) => [name, split.sha256]),
      }),
    ),
  );
  const manifest: DatasetManifest = {
    format: "tinyformer-dataset",
    version: 1,
    classNames: full.classNames,
    image,
    splits: splitManifests,
    normalization: computeChannelStatistics(train.images, train.channels),
    seed: options.seed,
    validationFraction,
    contentDigest,
  };
  files.set(MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { manifest, files };
}

/**
 * Builds the artifacts and writes them into `outDir` (created if needed).
 * Returns the manifest and the names of the files written.
 */
export async function writeDatasetArtifacts(
  options: DatasetArtifactOptions,
  outDir: string,
): Promise<{ manifest: DatasetManifest; files: string[] }> {
  const artifacts = await computeDatasetArtifacts(options);
  await mkdir(outDir, { recursive: true });
  for (const [name, bytes] of artifacts.files) await writeFile(join(outDir, name), bytes);
  return { manifest: artifacts.manifest, files: [...artifacts.files.keys()] };
}

export interface LoadedDatasetArtifacts {
  readonly manifest: DatasetManifest;
  readonly splits: Partial<Record<SplitName, ImageDataset>>;
}

/** Reads what `writeDatasetArtifacts` wrote, verifying every split's SHA-256. */
export async function loadDatasetArtifacts(directory: string): Promise<LoadedDatasetArtifacts> {
  const manifestPath = join(directory, MANIFEST_FILE);
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as DatasetManifest;
  if (manifest.format !== "tinyformer-dataset" || manifest.version !== 1) {
    throw new Error(`${manifestPath}: not a version-1 tinyformer dataset manifest`);
  }
  const splits: Partial<Record<SplitName, ImageDataset>> = {};
  for (const name of ["train", "validation", "test"] as const) {
    const split = manifest.splits[name];
    if (split === undefined) continue;
    const path = join(directory, split.file);
    const bytes = new Uint8Array(await readFile(path));
    const digest = sha256Hex(bytes);
    if (digest !== split.sha256) {
      throw new Error(`${path}: SHA-256 ${digest} does not match the manifest's ${split.sha256}`);
    }
    splits[name] = decodeTensorFile(bytes, manifest.classNames, path);
  }
  return { manifest, splits };
}
