/**
 * Real multiplier -> (Q31 multiplier, shift) as TFLM does it
 * (`tensorflow/lite/kernels/internal/quantization_util.cc`,
 * `QuantizeMultiplier`, `QuantizeMultiplierGreaterThanOne`,
 * `PreprocessSoftmaxScaling`, `CalculateInputRadius`).
 */
import { roundHalfAwayFromZero } from "./fixed-point.js";

/** A real multiplier m ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31). */
export interface QuantizedMultiplier {
  /** Q31 mantissa, 0 or in [2^30, 2^31). */
  multiplier: number;
  /** Power-of-two exponent; positive = left shift. */
  shift: number;
}

/** C `frexp`: x = mantissa * 2^exponent with |mantissa| in [0.5, 1). */
export function frexp(x: number): { mantissa: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { mantissa: x, exponent: 0 };
  let exponent = Math.max(-1073, Math.floor(Math.log2(Math.abs(x))) + 1);
  let mantissa = x * 2 ** -exponent;
  // log2 can be off by one near powers of two; fix up exactly.
  while (Math.abs(mantissa) < 0.5) {
    mantissa *= 2;
    exponent -= 1;
  }
  while (Math.abs(mantissa) >= 1) {
    mantissa /= 2;
    exponent += 1;
  }
  return { mantissa, exponent };
}

/**
 * TFLM `QuantizeMultiplier`: q = frexp(m); q_fixed = round(q * 2^31) (half away
 * from zero); q_fixed == 2^31 is renormalised; a shift below -31 flushes the
 * multiplier to zero.
 */
export function quantizeMultiplier(realMultiplier: number): QuantizedMultiplier {
  if (realMultiplier === 0) return { multiplier: 0, shift: 0 };
  const { mantissa, exponent } = frexp(realMultiplier);
  let shift = exponent;
  let qFixed = roundHalfAwayFromZero(mantissa * 2147483648);
  if (qFixed > 2147483648)
    throw new Error(`quantizeMultiplier: bad mantissa for ${realMultiplier}`);
  if (qFixed === 2147483648) {
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) {
    shift = 0;
    qFixed = 0;
  }
  return { multiplier: qFixed, shift };
}

/** TFLM `QuantizeMultiplierGreaterThanOne`: as above, checking shift >= 0. */
export function quantizeMultiplierGreaterThanOne(realMultiplier: number): QuantizedMultiplier {
  if (!(realMultiplier > 1)) {
    throw new Error(`quantizeMultiplierGreaterThanOne: ${realMultiplier} is not > 1`);
  }
  const q = quantizeMultiplier(realMultiplier);
  if (q.shift < 0)
    throw new Error(`quantizeMultiplierGreaterThanOne: negative shift for ${realMultiplier}`);
  return q;
}

/** Parameters of the TFLM int8 Softmax (`SoftmaxParams` for int8 input). */
export interface SoftmaxQuantParams {
  /** Q31 multiplier of beta * input_scale * 2^(31 - 5). */
  inputMultiplier: number;
  /** Left shift applied before the multiply (>= 0). */
  inputLeftShift: number;
  /** Differences from the row max below this are treated as exp() == 0. */
  diffMin: number;
}

/** gemmlowp integer bits of the scaled input difference in TFLM Softmax. */
export const SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5;

/**
 * TFLM `CalculateSoftmaxParams` for int8: `PreprocessSoftmaxScaling(beta,
 * input_scale, 5)` (double rounding: cap at 2^31 - 1) and
 * diff_min = -CalculateInputRadius(5, left_shift).
 */
export function computeSoftmaxParams(inputScale: number, beta = 1): SoftmaxQuantParams {
  const bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS;
  const maxRealMultiplier = 2 ** 31 - 1;
  const real = Math.min(beta * inputScale * 2 ** (31 - bits), maxRealMultiplier);
  const q = quantizeMultiplierGreaterThanOne(real);
  return {
    inputMultiplier: q.multiplier,
    inputLeftShift: q.shift,
    diffMin: -calculateInputRadius(bits, q.shift),
  };
}

/** TFLM `CalculateInputRadius(input_integer_bits, input_left_shift, 31)`. */
export function calculateInputRadius(inputIntegerBits: number, inputLeftShift: number): number {
  const maxInputRescaled =
    (1.0 * (2 ** inputIntegerBits - 1) * 2 ** (31 - inputIntegerBits)) / 2 ** inputLeftShift;
  return Math.floor(maxInputRescaled);
}
