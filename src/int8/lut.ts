/**
 * 256-entry int8 lookup tables for element-wise nonlinearities, populated as
 * TFLM does (`LUTPopulate` in `kernels/internal/common.h`; the older
 * `PopulateLookupTable` in `micro/kernels/activations`): for every int8 value
 * v, dequantize in float32, apply the transform, multiply by the float32
 * inverse output scale, round half away from zero, add the zero point, clamp.
 * Entries are stored at TFLM's `LUTIndex`: index = (uint8_t)v, so the C kernel
 * reads `table[(uint8_t)x]`.
 */
import { erf } from "./erf.js";
import { roundHalfAwayFromZero } from "./fixed-point.js";

const f32 = Math.fround;
/** static_cast<float>(M_SQRT1_2) */
const SQRT1_2_F32 = Math.fround(Math.SQRT1_2);
/** static_cast<float>(M_2_SQRTPI * M_SQRT1_2) = sqrt(2 / pi) */
const SQRT_2_OVER_PI_F32 = Math.fround((2 / Math.sqrt(Math.PI)) * Math.SQRT1_2);
/** 0.044715f */
const GELU_CUBIC_F32 = Math.fround(0.044715);

/** Element-wise functions the IR knows; each has a float32 transform below. */
export type ActivationFunction =
  | "relu"
  | "relu6"
  | "sigmoid"
  | "tanh"
  | "silu"
  | "hard_swish"
  | "hard_sigmoid"
  | "gelu"
  | "gelu_tanh";

export const ACTIVATION_FUNCTIONS: readonly ActivationFunction[] = [
  "relu",
  "relu6",
  "sigmoid",
  "tanh",
  "silu",
  "hard_swish",
  "hard_sigmoid",
  "gelu",
  "gelu_tanh",
];

/**
 * float32 transforms, each written as float32 C evaluates it step by step
 * (every intermediate rounded with Math.fround). GELU copies TFLM
 * `micro/kernels/gelu.cc` (`GeluTransform`: `0.5f * in * (1.f +
 * std::erf(in * static_cast<float>(M_SQRT1_2)))`, all float; and
 * `GeluTransformApproximate`). libm's float `erff` / `expf` / `tanhf` are
 * modelled as the double function rounded to float32, which is within an ulp
 * of them and cannot move a table entry except on an exact rounding tie.
 */
export function activationTransform(fn: ActivationFunction): (x: number) => number {
  switch (fn) {
    case "relu":
      return (x) => Math.max(x, 0);
    case "relu6":
      return (x) => (x > 0 ? Math.min(x, 6) : 0);
    case "sigmoid":
      // 1.f / (1.f + std::exp(-x)) with expf.
      return (x) => f32(1 / f32(1 + f32(Math.exp(-x))));
    case "tanh":
      return (x) => f32(Math.tanh(x));
    case "silu":
      // x * (1 / (1 + exp(-x))), every step in float32.
      return (x) => f32(x * f32(1 / f32(1 + f32(Math.exp(-x)))));
    case "hard_swish":
      // x * relu6(x + 3) / 6, in float32.
      return (x) => {
        const t = f32(x + 3);
        const r6 = t > 0 ? Math.min(t, 6) : 0;
        return f32(f32(x * r6) / 6);
      };
    case "hard_sigmoid":
      return (x) => {
        const t = f32(x + 3);
        const r6 = t > 0 ? Math.min(t, 6) : 0;
        return f32(r6 / 6);
      };
    case "gelu":
      return (x) => f32(f32(0.5 * x) * f32(1 + f32(erf(f32(x * SQRT1_2_F32)))));
    case "gelu_tanh":
      return (x) => {
        const cube = f32(f32(f32(GELU_CUBIC_F32 * x) * x) * x);
        const t = f32(Math.tanh(f32(SQRT_2_OVER_PI_F32 * f32(x + cube))));
        return f32(f32(0.5 * x) * f32(1 + t));
      };
    default:
      return unreachable(fn);
  }
}

function unreachable(x: never): never {
  throw new Error(`unexpected activation function ${String(x)}`);
}

/** TFLM `LUTPopulate<int8_t>`; returns the table in (uint8_t)v order. */
export function populateLut(
  inputScale: number,
  inputZeroPoint: number,
  outputScale: number,
  outputZeroPoint: number,
  transform: (x: number) => number,
): Int8Array {
  const lut = new Int8Array(256);
  const sIn = f32(inputScale);
  const inverseScale = f32(1 / f32(outputScale));
  for (let val = -128; val <= 127; val++) {
    const dequantized = f32(sIn * f32(val - inputZeroPoint));
    const transformed = f32(transform(dequantized));
    const rescaled = f32(roundHalfAwayFromZero(f32(transformed * inverseScale)));
    let quantized = Math.trunc(f32(rescaled + outputZeroPoint));
    if (!Number.isFinite(quantized)) quantized = quantized > 0 ? 127 : -128;
    lut[val & 0xff] = quantized > 127 ? 127 : Math.max(quantized, -128);
  }
  return lut;
}

/** Reads a table built by `populateLut`: C `table[(uint8_t)x]`. */
export function lookupLut(lut: Int8Array, x: number): number {
  return lut[x & 0xff] as number;
}
