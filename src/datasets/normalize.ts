/**
 * Per-channel normalisation: (pixel / 255 - mean[c]) / std[c]. Statistics are
 * computed from the training split only (never validation or test), and
 * recorded in the dataset manifest so later stages and the C engine's input
 * quantizer apply the very same transform.
 */
export interface ChannelStatistics {
  /** Per-channel mean of pixel / 255. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation of pixel / 255. */
  readonly std: readonly number[];
}

export function computeChannelStatistics(images: Uint8Array, channels: number): ChannelStatistics {
  const sums = new Float64Array(channels);
  const squares = new Float64Array(channels);
  const perChannel = images.length / channels;
  for (let i = 0; i < images.length; i++) {
    const c = i % channels;
    const v = (images[i] as number) / 255;
    sums[c] = (sums[c] as number) + v;
    squares[c] = (squares[c] as number) + v * v;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const m = (sums[c] as number) / perChannel;
    mean.push(m);
    std.push(Math.sqrt(Math.max((squares[c] as number) / perChannel - m * m, 1e-12)));
  }
  return { mean, std };
}

/** Normalises uint8 NHWC pixels into a new float32 buffer. */
export function normalizeImages(
  images: Uint8Array,
  channels: number,
  statistics: ChannelStatistics,
): Float32Array {
  const scale = statistics.std.map((s) => 1 / (255 * s));
  const shift = statistics.mean.map((m, c) => -m / (statistics.std[c] as number));
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const c = i % channels;
    out[i] = (images[i] as number) * (scale[c] as number) + (shift[c] as number);
  }
  return out;
}

/**
 * The uint8 pixel closest to what normalises to zero in every channel (the
 * mean): augmentation pads with it, so padding after normalisation is zero
 * (to within half a grey level), as when padding normalised tensors.
 */
export function zeroPointPixel(statistics: ChannelStatistics): Uint8Array {
  return Uint8Array.from(statistics.mean, (m) => Math.min(255, Math.max(0, Math.round(m * 255))));
}
