/**
 * Scratch bytes each kernel needs, computed in TypeScript so the code
 * generator and the memory planner can size the static arena at build time.
 * These mirror the C `*_get_buffer_size` functions of templates/c/kernels
 * exactly (a test compiles the C and compares).
 */

/** sizeof(tf_requant): eight 32-bit fields (tf_nn_support.h). */
export const REQUANT_BYTES = 32;

const roundUp4 = (n: number): number => (n + 3) & ~3;

/**
 * The matrix kernels (`tf_nn_rows_buffer_size`): prepared multipliers and
 * accumulators per output channel, four packed int16 input rows, a 4-row
 * output block and, for im2col, four im2col rows.
 */
export function matrixScratchBytes(k: number, outChannels: number, im2col: boolean): number {
  return (REQUANT_BYTES + 16 + 4) * outChannels + 8 * k + (im2col ? 4 * roundUp4(k) : 0);
}

/** `tf_conv_1x1_s8_get_buffer_size` and its sparse twin. */
export function conv1x1ScratchBytes(inChannels: number, outChannels: number): number {
  return matrixScratchBytes(inChannels, outChannels, false);
}

/** `tf_conv_kxk_s8_get_buffer_size` and its sparse twin. */
export function convKxKScratchBytes(
  kernelH: number,
  kernelW: number,
  inChannels: number,
  outChannels: number,
): number {
  return matrixScratchBytes(kernelH * kernelW * inChannels, outChannels, true);
}

/** `tf_softmax_s8_get_buffer_size`: the exponential of each difference within diff_min (at most 256 words). */
export function softmaxScratchBytes(diffMin: number): number {
  return 4 * (diffMin >= 0 ? 1 : Math.min(256, 1 - diffMin));
}

/** `tf_linear_s8_get_buffer_size` and its sparse twin. */
export function linearScratchBytes(inFeatures: number, outFeatures: number): number {
  return matrixScratchBytes(inFeatures, outFeatures, false);
}

/**
 * `tf_depthwise_conv_s8_get_buffer_size`: a prepared multiplier and an int32
 * accumulator per output channel; per group of four channels a stream of
 * words (biases; per tap pair two offsets and four weight words, for an odd
 * last tap one offset and two; the requantization of its channels); a
 * zero-point row of O bytes; the weights copied tap-major as int8; a table
 * of tap addresses and the output address (8 bytes each, plus 4 to align it).
 */
export function depthwiseScratchBytes(
  kernelH: number,
  kernelW: number,
  outChannels: number,
): number {
  const taps = kernelH * kernelW;
  return (
    (REQUANT_BYTES + 4) * outChannels +
    4 * (20 + 6 * Math.floor(taps / 2) + 3 * (taps % 2)) * (outChannels >> 2) +
    roundUp4(outChannels) +
    roundUp4(taps * outChannels) +
    8 * (taps + 1) +
    4
  );
}

/** `tf_batch_matmul_s8_get_buffer_size`. */
export function batchMatmulScratchBytes(k: number, n: number, transposeB: boolean): number {
  return 8 * k + 20 * n + (transposeB ? 0 : roundUp4(n * k));
}
