/**
 * Seeded training-time augmentation on uint8 NHWC images: random crop after
 * padding (the standard CIFAR "pad 4, crop 32") and horizontal flip. The
 * padding is the `fill` pixel: the training loop passes the one that
 * normalises to zero (`zeroPointPixel`), as PyTorch's pad-after-normalise
 * recipes do; black padding reads as an image edge of strongly negative
 * inputs (docs/training.md).
 * The random stream is derived from (seed, epoch), so epoch e of a run sees
 * the same augmented images every time, whatever happened before it.
 */
import { createSeededRandom, deriveSeed } from "./seeded-random.js";

export interface AugmentOptions {
  /** Padding on each side before the random crop; 0 disables cropping. @default 4 */
  readonly padding?: number;
  /** The padding's value per channel. @default 0 in every channel */
  readonly fill?: ArrayLike<number>;
  /** Flip left-right with probability 1/2. @default true */
  readonly horizontalFlip?: boolean;
  readonly seed: number;
}

export interface ImageGeometry {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/**
 * Augments `count` images stored back to back in `images` into a new buffer.
 * `stream` names this call's random stream (e.g. "epoch3/batch17").
 */
export function augmentImages(
  images: Uint8Array,
  count: number,
  geometry: ImageGeometry,
  options: AugmentOptions,
  stream: string,
): Uint8Array {
  const { height, width, channels } = geometry;
  const padding = options.padding ?? 4;
  const flip = options.horizontalFlip ?? true;
  const size = height * width * channels;
  const out = new Uint8Array(count * size);
  const fill = options.fill;
  if (fill !== undefined && padding > 0) {
    if (fill.length !== channels)
      throw new Error(`augmentation fill has ${fill.length} values for ${channels} channels`);
    for (let i = 0; i < out.length; i++) out[i] = fill[i % channels] as number;
  }
  const random = createSeededRandom(deriveSeed(options.seed, stream));
  for (let n = 0; n < count; n++) {
    // Draw in a fixed order per image so each image's choice is stable.
    const offsetY = padding > 0 ? random.nextInt(2 * padding + 1) - padding : 0;
    const offsetX = padding > 0 ? random.nextInt(2 * padding + 1) - padding : 0;
    const mirrored = flip && random.next() < 0.5;
    const source = n * size;
    for (let y = 0; y < height; y++) {
      const sy = y + offsetY;
      for (let x = 0; x < width; x++) {
        const target = source + (y * width + x) * channels;
        const sxUnflipped = x + offsetX;
        const sx = mirrored ? width - 1 - sxUnflipped : sxUnflipped;
        if (sy < 0 || sy >= height || sx < 0 || sx >= width) continue; // padding: the fill
        const from = source + (sy * width + sx) * channels;
        for (let c = 0; c < channels; c++) out[target + c] = images[from + c] as number;
      }
    }
  }
  return out;
}
