/**
 * Exact 32-bit fixed-point primitives shared by every int8 kernel.
 *
 * These follow gemmlowp `fixedpoint.h` as used by TFLM
 * (`tensorflow/lite/kernels/internal/common.h`) and CMSIS-NN
 * (`arm_nn_doubling_high_mult_no_sat`, `arm_nn_divide_by_power_of_two`,
 * `arm_nn_requantize` in `Include/arm_nnsupportfunctions.h`, default double
 * rounding). All arguments and results are int32 values held in JS numbers.
 *
 * JS numbers are doubles, so an int32*int32 product (up to 62 bits) is not
 * exact. `saturatingRoundingDoublingHighMul` splits one factor in 16-bit
 * halves so that every intermediate stays below 2^53 and is exact.
 */

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** Wraps any exact integer (|x| < 2^53) to int32 as two's-complement C code would. */
export function wrapInt32(x: number): number {
  return x | 0;
}

/** Clamps to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}

/**
 * gemmlowp `SaturatingRoundingDoublingHighMul(a, b)`: the high 32 bits of
 * 2*a*b, rounded to nearest with ties away from zero, saturating only for
 * a == b == INT32_MIN.
 *
 * gemmlowp adds a nudge of 2^30 (or 1 - 2^30 for negative products) and
 * divides by 2^31 truncating toward zero; that equals floor((a*b + 2^30) / 2^31)
 * for every product, which is exactly what CMSIS-NN
 * `arm_nn_doubling_high_mult_no_sat` computes with a 64-bit add and shift.
 * We evaluate the floor exactly with a split product:
 *   b = bh*2^16 + bl, a*b = (a*bh)*2^16 + a*bl, a*bh = q*2^15 + r
 *   => floor((a*b + 2^30)/2^31) = q + floor((r*2^16 + a*bl + 2^30) / 2^31)
 * where |a*bh| < 2^46, |a*bl| < 2^47, so every term is an exact double.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  const p = a * b;
  // Fast path: a product below 2^52 in magnitude is exact, and so is p + 2^30.
  if (p < 4503599627370496 && p > -4503599627370496)
    return Math.floor((p + 1073741824) / 2147483648);
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const bl = b & 0xffff;
  const bh = b >> 16; // floor(b / 2^16)
  const hi = a * bh;
  const q = Math.floor(hi / 32768);
  const r = hi - q * 32768;
  return q + Math.floor((r * 65536 + a * bl + 1073741824) / 2147483648);
}

/**
 * gemmlowp `RoundingDivideByPOT(x, exponent)` / CMSIS-NN
 * `arm_nn_divide_by_power_of_two`: x / 2^exponent rounded to nearest, ties
 * away from zero. exponent in [0, 31].
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  // x is an int32, so JS bit operators act on its two's complement as C does.
  const mask = exponent === 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const result = x >> exponent;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return remainder > threshold ? result + 1 : result;
}

/**
 * TFLM `MultiplyByQuantizedMultiplier(x, multiplier, shift)` with double
 * rounding (CMSIS-NN `arm_nn_requantize` default): left shift by max(shift, 0)
 * (wrapping like the C int32 multiply), SRDHM, then rounding right shift by
 * max(-shift, 0).
 */
export function multiplyByQuantizedMultiplier(
  x: number,
  multiplier: number,
  shift: number,
): number {
  const leftShift = Math.max(shift, 0);
  const rightShift = shift > 0 ? 0 : -shift;
  const shifted = leftShift === 0 ? x : wrapInt32(x * 2 ** leftShift);
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), rightShift);
}

/**
 * gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>(x)`: for exponent > 0 a
 * left shift that saturates to int32, for exponent < 0 a rounding right shift.
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = 2 ** (31 - exponent) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x * 2 ** exponent;
}

/**
 * gemmlowp `RoundingHalfSum(a, b)` for int32: (a + b + sign) / 2 in 64-bit,
 * C division truncating toward zero.
 */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/**
 * C `round` / TFLM `TfLiteRound`: ties away from zero. JS `Math.round` rounds
 * ties toward +infinity (Math.round(-2.5) === -2), so it must not be used.
 */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** C integer division (truncates toward zero). */
export function cDiv(a: number, b: number): number {
  return Math.trunc(a / b);
}
