/**
 * Element-wise activation. float: the float32 transform of src/int8/lut.ts
 * (the same function the int8 table samples); int8: the 256-entry table given
 * as second input, read as table[(uint8_t)x] (TFLM `LUTLookup`).
 */
import { activationTransform } from "../../int8/lut.js";
import type { ActivationOp } from "../../model-ir/types.js";
import { type FloatValue, type Int8Value, inputAt, type KernelContext } from "../context.js";

export function activationFloat(ctx: KernelContext<FloatValue, ActivationOp>): Float32Array {
  const f = activationTransform(ctx.op.attrs.function);
  const x = inputAt(ctx, 0);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i] as number);
  return out;
}

export function activationInt8(ctx: KernelContext<Int8Value, ActivationOp>): Int8Array {
  const x = inputAt(ctx, 0);
  const table = inputAt(ctx, 1);
  const out = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = table[(x[i] as number) & 0xff] as number;
  return out;
}
