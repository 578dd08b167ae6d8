/**
 * Choosing quantization parameters (TFLite conventions): asymmetric int8
 * activations whose range always contains 0, symmetric per-channel int8
 * weights in [-127, 127], int32 biases at scale s_in * s_w. Scales are
 * rounded to float32 because TFLite stores them as float and every derived
 * multiplier is computed in double from those float values.
 */
import { clamp, INT32_MAX, INT32_MIN, roundHalfAwayFromZero } from "../int8/fixed-point.js";
import { quantizeMultiplier } from "../int8/quantize-multiplier.js";
import type { AddOp, FusedActivation, QuantParams } from "../model-ir/types.js";

/** Per-tensor asymmetric int8 parameters covering [min, max] and 0. */
export function chooseActivationQuant(min: number, max: number): QuantParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi - lo === 0 || !Number.isFinite(hi - lo)) return { scale: [1], zeroPoint: [0] };
  const scale = Math.fround((hi - lo) / 255);
  // `+ 0` turns a -0 from rounding into 0, which JSON and Object.is treat alike.
  const zeroPoint = clamp(roundHalfAwayFromZero(-128 - lo / scale), -128, 127) + 0;
  return { scale: [scale], zeroPoint: [zeroPoint] };
}

/** Quantizes float values with per-tensor (scale, zp) into int8, saturating. */
export function quantizeValues(
  values: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = clamp(zeroPoint + roundHalfAwayFromZero((values[i] as number) / scale), -128, 127);
  }
  return out;
}

/** real = scale * (q - zeroPoint), per tensor. */
export function dequantizeValues(
  values: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = scale * ((values[i] as number) - zeroPoint);
  return out;
}

/**
 * Symmetric per-channel weights along axis 0: s_c = max|w_c| / 127 and
 * q = round(w / s_c) in [-127, 127]. A zero weight stays exactly 0, so
 * pruned blocks stay pruned. An all-zero channel gets scale 1.
 */
export function quantizeWeightsPerChannel(
  values: Float32Array,
  channels: number,
): { data: Int8Array; scales: number[] } {
  const per = values.length / channels;
  const data = new Int8Array(values.length);
  const scales: number[] = [];
  for (let c = 0; c < channels; c++) {
    let maxAbs = 0;
    for (let i = 0; i < per; i++)
      maxAbs = Math.max(maxAbs, Math.abs(values[c * per + i] as number));
    const scale = maxAbs === 0 ? 1 : Math.fround(maxAbs / 127);
    scales.push(scale);
    for (let i = 0; i < per; i++) {
      data[c * per + i] = clamp(
        roundHalfAwayFromZero((values[c * per + i] as number) / scale),
        -127,
        127,
      );
    }
  }
  return { data, scales };
}

/** int32 bias at scale inputScale * weightScale[c]. */
export function quantizeBias(
  values: Float32Array,
  inputScale: number,
  weightScales: number[],
): Int32Array {
  const out = new Int32Array(values.length);
  for (let c = 0; c < values.length; c++) {
    const s = inputScale * (weightScales[c] ?? 1);
    out[c] = clamp(roundHalfAwayFromZero((values[c] as number) / s), INT32_MIN, INT32_MAX);
  }
  return out;
}

/**
 * An int8 add's rescaling (TFLite PrepareGeneralSubOp / add.cc): both inputs
 * shifted left by 20 and brought to twice the larger input scale, then the
 * sum to the output scale. The quantizer and the kernel tests both use it.
 */
export function addRequantParams(
  inputScale1: number,
  inputScale2: number,
  outputScale: number,
): Omit<NonNullable<AddOp["int8"]>, "actMin" | "actMax"> {
  const leftShift = 20;
  const twiceMax = 2 * Math.max(inputScale1, inputScale2);
  const q1 = quantizeMultiplier(inputScale1 / twiceMax);
  const q2 = quantizeMultiplier(inputScale2 / twiceMax);
  const qo = quantizeMultiplier(twiceMax / (2 ** leftShift * outputScale));
  return {
    leftShift,
    input1Multiplier: q1.multiplier,
    input1Shift: q1.shift,
    input2Multiplier: q2.multiplier,
    input2Shift: q2.shift,
    outputMultiplier: qo.multiplier,
    outputShift: qo.shift,
  };
}

/** TFLite `CalculateActivationRangeQuantized` for int8. */
export function activationRange(
  activation: FusedActivation,
  scale: number,
  zeroPoint: number,
): { actMin: number; actMax: number } {
  const quantize = (f: number) => zeroPoint + roundHalfAwayFromZero(Math.fround(f / scale));
  switch (activation) {
    case "none":
      return { actMin: -128, actMax: 127 };
    case "relu":
      return { actMin: Math.max(-128, quantize(0)), actMax: 127 };
    case "relu6":
      return { actMin: Math.max(-128, quantize(0)), actMax: Math.min(127, quantize(6)) };
    default:
      throw new Error(`unknown activation ${String(activation)}`);
  }
}
