/**
 * The in-memory form every loader produces and every consumer reads: uint8
 * NHWC pixels plus one uint8 label per image. Keeping pixels as bytes (not
 * floats) keeps a CIFAR-10 split at 30 MB instead of 120 MB and makes the
 * on-disk tensor file a straight copy.
 */
export interface ImageDataset {
  /** Number of images. */
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** 3 for RGB, 1 for greyscale. */
  readonly channels: number;
  /** `count * height * width * channels` bytes, image-major, then row, column, channel. */
  readonly images: Uint8Array;
  /** `count` class indices, each below `classNames.length`. */
  readonly labels: Uint8Array;
  /** Human-readable class names; label i is `classNames[i]`. */
  readonly classNames: readonly string[];
}

export function imageSize(dataset: Pick<ImageDataset, "height" | "width" | "channels">): number {
  return dataset.height * dataset.width * dataset.channels;
}

/** A new dataset holding the images at `indices`, in that order. */
export function selectImages(dataset: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const size = imageSize(dataset);
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i] as number;
    if (source < 0 || source >= dataset.count) {
      throw new RangeError(`image index ${source} out of range 0..${dataset.count - 1}`);
    }
    images.set(dataset.images.subarray(source * size, (source + 1) * size), i * size);
    labels[i] = dataset.labels[source] as number;
  }
  return { ...dataset, count: indices.length, images, labels };
}

/** Images per class, indexed by label. */
export function countPerClass(dataset: ImageDataset): number[] {
  const counts = new Array<number>(dataset.classNames.length).fill(0);
  for (const label of dataset.labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/** Validates the invariants the interface documents; throws naming `source`. */
export function assertWellFormed(dataset: ImageDataset, source: string): void {
  const expected = dataset.count * imageSize(dataset);
  if (dataset.images.length !== expected) {
    throw new Error(`${source}: ${dataset.images.length} pixel bytes, expected ${expected}`);
  }
  if (dataset.labels.length !== dataset.count) {
    throw new Error(`${source}: ${dataset.labels.length} labels for ${dataset.count} images`);
  }
  for (let i = 0; i < dataset.count; i++) {
    if ((dataset.labels[i] as number) >= dataset.classNames.length) {
      throw new Error(
        `${source}: image ${i} has label ${dataset.labels[i]} but only ${dataset.classNames.length} classes`,
      );
    }
  }
}
