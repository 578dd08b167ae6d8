/**
 * What an op kernel sees: its op, its input values and tensor descriptions,
 * and the output tensor's description. Kernels are pure: they return a new
 * output array and never write to their inputs.
 */
import type { OpIR, TensorIR } from "../model-ir/types.js";

export type FloatValue = Float32Array;
export type Int8Value = Int8Array | Int32Array;

export interface KernelContext<V, O extends OpIR = OpIR> {
  op: O;
  /** Input values, in op.inputs order (constants decoded to dense arrays). */
  values: V[];
  /** Input tensor descriptions, in op.inputs order. */
  inputs: TensorIR[];
  output: TensorIR;
}

/** Fetches input i, failing loudly on a malformed graph. */
export function inputAt<V>(ctx: KernelContext<V>, i: number): V {
  const v = ctx.values[i];
  if (v === undefined) throw new Error(`${ctx.op.name}: missing input ${i}`);
  return v;
}

/** Shape of input i. */
export function shapeAt<V>(ctx: KernelContext<V>, i: number): number[] {
  const t = ctx.inputs[i];
  if (t === undefined) throw new Error(`${ctx.op.name}: missing input ${i}`);
  return t.shape;
}

/** Per-tensor zero point of an int8 tensor (0 when absent). */
export function zeroPointOf(t: TensorIR | undefined): number {
  return t?.quant?.zeroPoint[0] ?? 0;
}

/** The op's int8 parameters, which validation guarantees in int8 models. */
export function int8Params<P>(op: { name: string; int8?: P }): P {
  if (op.int8 === undefined) throw new Error(`${op.name}: int8 parameters missing`);
  return op.int8;
}

/** Clamp an int32 result into an int8 range [lo, hi]. */
export function clampTo(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}

export function unreachable(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
