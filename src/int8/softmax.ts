/**
 * int8 Softmax exactly as TFLM computes it for int8 input and int8 output
 * (`tensorflow/lite/kernels/internal/reference/softmax.h`, the quantized
 * `Softmax` template; CMSIS-NN `arm_softmax_s8` is bit-exact with it).
 * Output quantization is fixed at scale 1/256, zero point -128.
 */
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from "./fixed-point.js";
import { expOnNegativeValues, getReciprocal } from "./gemmlowp.js";
import type { SoftmaxQuantParams } from "./quantize-multiplier.js";

export const SOFTMAX_OUTPUT_SCALE = 1 / 256;
export const SOFTMAX_OUTPUT_ZERO_POINT = -128;
const ACCUMULATION_INTEGER_BITS = 12;
const SCALED_DIFF_INTEGER_BITS = 5;

/**
 * Softmax over rows of length `depth`; `input` and `output` hold
 * `outer * depth` values. `output` may not alias `input`.
 */
export function softmaxInt8(
  input: Int8Array,
  output: Int8Array,
  depth: number,
  params: SoftmaxQuantParams,
): void {
  const { inputMultiplier, inputLeftShift, diffMin } = params;
  const leftScale = 2 ** inputLeftShift;
  const outer = input.length / depth;
  // exp values of the row, reused by the output pass (TFLM computes them twice;
  // the values are identical).
  const exps = new Int32Array(depth);
  for (let i = 0; i < outer; i++) {
    const base = i * depth;
    let maxInRow = -128;
    for (let c = 0; c < depth; c++) {
      const v = input[base + c] as number;
      if (v > maxInRow) maxInRow = v;
    }
    // MultiplyByQuantizedMultiplierGreaterThanOne(diff, m, shift) ==
    // SRDHM(diff << shift, m); diff * 2^shift fits int32 by construction of diffMin.
    let sumOfExps = 0; // Q12.19
    for (let c = 0; c < depth; c++) {
      const diff = (input[base + c] as number) - maxInRow;
      if (diff >= diffMin) {
        const rescaled = saturatingRoundingDoublingHighMul(diff * leftScale, inputMultiplier);
        const e = expOnNegativeValues(rescaled, SCALED_DIFF_INTEGER_BITS);
        exps[c] = e;
        sumOfExps = (sumOfExps + roundingDivideByPOT(e, ACCUMULATION_INTEGER_BITS)) | 0;
      }
    }
    const { scale, numBitsOverUnit } = getReciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
    const outShift = numBitsOverUnit + 31 - 8;
    for (let c = 0; c < depth; c++) {
      const diff = (input[base + c] as number) - maxInRow;
      if (diff >= diffMin) {
        const e = exps[c] as number;
        const unsat = roundingDivideByPOT(saturatingRoundingDoublingHighMul(scale, e), outShift);
        const shifted = unsat - 128;
        output[base + c] = shifted > 127 ? 127 : Math.max(shifted, -128);
      } else {
        output[base + c] = -128;
      }
    }
  }
}
