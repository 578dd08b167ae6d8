/**
 * add and mul with NumPy broadcasting. int8 add follows TFLite
 * `reference_integer_ops::AddElementwise` (inputs shifted left by 20, each
 * rescaled to twice the larger input scale, summed, rescaled to the output);
 * int8 mul follows `reference_integer_ops::MulElementwise`.
 */
import { multiplyByQuantizedMultiplier } from "../../int8/fixed-point.js";
import { broadcastShapes, product } from "../../model-ir/shapes.js";
import type { AddOp, MulOp } from "../../model-ir/types.js";
import {
  type FloatValue,
  type Int8Value,
  inputAt,
  int8Params,
  type KernelContext,
  shapeAt,
  zeroPointOf,
} from "../context.js";

/**
 * For every output index, the flat index into each operand. Equal shapes
 * (the common case) return null: operands are read at the output index.
 */
export function broadcastIndices(
  a: readonly number[],
  b: readonly number[],
): { out: number[]; ia: Int32Array; ib: Int32Array } | null {
  const out = broadcastShapes(a, b);
  if (a.join() === b.join()) return null;
  const rank = out.length;
  const strides = (s: readonly number[]): number[] => {
    const padded = [...Array(rank - s.length).fill(1), ...s] as number[];
    const st = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      st[i] = (padded[i] ?? 1) === 1 ? 0 : acc;
      acc *= padded[i] ?? 1;
    }
    return st;
  };
  const sa = strides(a);
  const sb = strides(b);
  const total = product(out);
  const ia = new Int32Array(total);
  const ib = new Int32Array(total);
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < total; k++) {
    let pa = 0;
    let pb = 0;
    for (let d = 0; d < rank; d++) {
      pa += (idx[d] ?? 0) * (sa[d] ?? 0);
      pb += (idx[d] ?? 0) * (sb[d] ?? 0);
    }
    ia[k] = pa;
    ib[k] = pb;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = (idx[d] ?? 0) + 1;
      if ((idx[d] ?? 0) < (out[d] ?? 1)) break;
      idx[d] = 0;
    }
  }
  return { out, ia, ib };
}

function elementwise<T extends Float32Array | Int8Array>(
  ctx: KernelContext<ArrayLike<number>>,
  make: (n: number) => T,
  f: (a: number, b: number) => number,
): T {
  const a = inputAt(ctx, 0);
  const b = inputAt(ctx, 1);
  const map = broadcastIndices(shapeAt(ctx, 0), shapeAt(ctx, 1));
  const n = map === null ? a.length : product(map.out);
  const out = make(n);
  for (let k = 0; k < n; k++) {
    const ka = map === null ? k : (map.ia[k] as number);
    const kb = map === null ? k : (map.ib[k] as number);
    out[k] = f(a[ka] as number, b[kb] as number);
  }
  return out;
}

function fusedFloat(v: number, act: AddOp["attrs"]["activation"]): number {
  if (act === "none") return v;
  return v < 0 ? 0 : act === "relu6" && v > 6 ? 6 : v;
}

export function addFloat(ctx: KernelContext<FloatValue, AddOp>): Float32Array {
  const act = ctx.op.attrs.activation;
  return elementwise(
    ctx,
    (n) => new Float32Array(n),
    (a, b) => fusedFloat(a + b, act),
  );
}

export function mulFloat(ctx: KernelContext<FloatValue, MulOp>): Float32Array {
  const act = ctx.op.attrs.activation;
  return elementwise(
    ctx,
    (n) => new Float32Array(n),
    (a, b) => fusedFloat(a * b, act),
  );
}

export function addInt8(ctx: KernelContext<Int8Value, AddOp>): Int8Array {
  const p = int8Params(ctx.op);
  const off1 = -zeroPointOf(ctx.inputs[0]);
  const off2 = -zeroPointOf(ctx.inputs[1]);
  const zpOut = zeroPointOf(ctx.output);
  const scale = 2 ** p.leftShift;
  // Each input's rescaled term depends only on its int8 value: tabulate
  // both (256 entries each, the same function of the same value) instead of
  // two of the three requantizations per element.
  const rescaled = (offset: number, multiplier: number, shift: number) =>
    Int32Array.from({ length: 256 }, (_, v) =>
      multiplyByQuantizedMultiplier((v - 128 + offset) * scale, multiplier, shift),
    );
  const term1 = rescaled(off1, p.input1Multiplier, p.input1Shift);
  const term2 = rescaled(off2, p.input2Multiplier, p.input2Shift);
  return elementwise(
    ctx,
    (n) => new Int8Array(n),
    (a, b) => {
      const sum = ((term1[a + 128] as number) + (term2[b + 128] as number)) | 0;
      const y = zpOut + multiplyByQuantizedMultiplier(sum, p.outputMultiplier, p.outputShift);
      return y < p.actMin ? p.actMin : Math.min(y, p.actMax);
    },
  );
}

export function mulInt8(ctx: KernelContext<Int8Value, MulOp>): Int8Array {
  const p = int8Params(ctx.op);
  const off1 = -zeroPointOf(ctx.inputs[0]);
  const off2 = -zeroPointOf(ctx.inputs[1]);
  const zpOut = zeroPointOf(ctx.output);
  return elementwise(
    ctx,
    (n) => new Int8Array(n),
    (a, b) => {
      const y =
        zpOut + multiplyByQuantizedMultiplier((a + off1) * (b + off2), p.multiplier, p.shift);
      return y < p.actMin ? p.actMin : Math.min(y, p.actMax);
    },
  );
}
