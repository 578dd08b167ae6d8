/**
 * Integer-only LayerNorm ("Scaled-LayerNorm" in the TinyFormer paper). There
 * is no TFLite int8 LayerNorm to copy, so the algorithm is ours; it is
 * specified in docs/model-ir.md (section "layer_norm") and the C kernel must
 * implement these exact steps. Per row of C int8 values x_i:
 *
 *   S = sum x_i                         (int32; |S| <= 128*C)
 *   Q = sum x_i^2                       (int32; Q <= 16384*C)
 *   V = C*Q - S^2                       (int64; = C^2 * population variance)
 *   W = V + epsQ                        (int64; epsQ >= 1 folds epsilon in)
 *   r = isqrt(W)                        (floor square root, r >= 1, r < 2^27)
 *   L = bit length of r                 (32 - clz(r))
 *   m = (2^(29+L) + (r >> 1)) / r       (uint64 division; m in (2^29, 2^30])
 *   d_i = C*x_i - S                     (int32; = C*(x_i - mean))
 *   n_i = requant(d_i, m, F + 2 - L)    (= d_i * 2^F / r; F = 16 fraction bits)
 *   acc_i = gamma_i * n_i + beta_i      (int8 gamma, int32 beta per channel)
 *   y_i = clamp(zp_out + requant(acc_i, M_i, shift_i), -128, 127)
 *
 * `requant` is the double-rounding MultiplyByQuantizedMultiplier used by every
 * other op, so the C kernel reuses `arm_nn_requantize`. The zero point of the
 * input cancels in d_i and is not needed. Overflow-freedom for C <= 4096:
 * |d_i| <= sqrt(C * W) < sqrt(C) * 2^L, so |d_i * 2^(18-L)| < 2^24 and
 * |n_i| < sqrt(C) * 2^16 <= 2^22; the quantizer keeps |beta_i| <= 2^30.
 */
import { multiplyByQuantizedMultiplier } from "./fixed-point.js";

/** Fraction bits of the normalised value n_i. */
export const LAYERNORM_FRACTION_BITS = 16;
/** Largest normalised axis the overflow analysis above covers. */
export const LAYERNORM_MAX_CHANNELS = 4096;
/** Largest epsQ; keeps W below 2^53 so the TypeScript evaluation is exact. */
export const LAYERNORM_MAX_EPS_Q = 2 ** 40;

/** Integer parameters of one int8 LayerNorm. */
export interface LayerNormInt8Params {
  /** epsilon * C^2 / s_in^2, rounded, at least 1. */
  epsQ: number;
  /** Per-channel int8 gamma. */
  gamma: Int8Array;
  /** Per-channel int32 beta at scale s_gamma_i * 2^-F. */
  beta: Int32Array;
  /** Per-channel Q31 output multiplier of s_gamma_i * 2^-F / s_out. */
  outputMultiplier: Int32Array;
  /** Per-channel output shift. */
  outputShift: Int32Array;
  /** Output zero point. */
  outputZeroPoint: number;
}

/** Floor square root of a non-negative integer below 2^53. */
export function isqrt(w: number): number {
  let r = Math.floor(Math.sqrt(w));
  while (r * r > w) r -= 1;
  while ((r + 1) * (r + 1) <= w) r += 1;
  return r;
}

/** Per-row reciprocal: m = round_half_up(2^(29+L) / r) and the bit length L. */
export function layerNormReciprocal(r: number): { multiplier: number; bitLength: number } {
  const bitLength = 32 - Math.clz32(r);
  // 2^(29+L) can reach 2^56: exact only in BigInt (the C code uses uint64_t).
  const num = (1n << BigInt(29 + bitLength)) + BigInt(r >> 1);
  return { multiplier: Number(num / BigInt(r)), bitLength };
}

/** Normalises rows of length C = params.gamma.length. */
export function layerNormInt8(
  input: Int8Array,
  output: Int8Array,
  params: LayerNormInt8Params,
): void {
  const c = params.gamma.length;
  if (c > LAYERNORM_MAX_CHANNELS)
    throw new Error(`layer_norm: axis of ${c} > ${LAYERNORM_MAX_CHANNELS}`);
  const rows = input.length / c;
  const { gamma, beta, outputMultiplier, outputShift, outputZeroPoint, epsQ } = params;
  for (let row = 0; row < rows; row++) {
    const base = row * c;
    let s = 0;
    let q = 0;
    for (let i = 0; i < c; i++) {
      const v = input[base + i] as number;
      s += v;
      q += v * v;
    }
    const w = c * q - s * s + epsQ;
    const r = isqrt(w);
    const { multiplier, bitLength } = layerNormReciprocal(r);
    const nShift = LAYERNORM_FRACTION_BITS + 2 - bitLength;
    for (let i = 0; i < c; i++) {
      const d = c * (input[base + i] as number) - s;
      const n = multiplyByQuantizedMultiplier(d, multiplier, nShift);
      const acc = ((gamma[i] as number) * n + (beta[i] as number)) | 0;
      const y =
        outputZeroPoint +
        multiplyByQuantizedMultiplier(acc, outputMultiplier[i] as number, outputShift[i] as number);
      output[base + i] = y > 127 ? 127 : Math.max(y, -128);
    }
  }
}
