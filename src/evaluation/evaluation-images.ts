/**
 * A set of images to measure accuracy on, as both evaluations (float on the
 * training backend, INT8 by the interpreter) read it: raw uint8 pixels,
 * normalised per image exactly as training normalised them.
 */
import { type ChannelStatistics, normalizeImages } from "../datasets/normalize.js";

/** Images (uint8, NHWC, one after another) and the normalisation the model was trained with. */
export interface EvaluationImages {
  readonly images: Uint8Array;
  readonly count: number;
  /** Values per image (height x width x channels). */
  readonly pixels: number;
  readonly channels: number;
  readonly normalization: ChannelStatistics;
}

/** Image `index` of `set`, normalised as in training (float32, the float model's input). */
export function floatImage(set: EvaluationImages, index: number): Float32Array {
  return normalizeImages(
    set.images.subarray(index * set.pixels, (index + 1) * set.pixels),
    set.channels,
    set.normalization,
  );
}

/** The index of the largest value (the first one on a tie). */
export function argmax(values: ArrayLike<number> | undefined): number {
  if (values === undefined || values.length === 0) throw new Error("the model produced no output");
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
