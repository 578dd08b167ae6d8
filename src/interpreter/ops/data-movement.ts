/**
 * reshape, transpose, unfold, fold and concat. These move values without
 * arithmetic, so one implementation serves float32 and int8 (int8 output
 * quantization equals the input's), except int8 concat, which requantizes an
 * input whose quantization differs from the output's:
 * y = clamp(zp_out + requant(x - zp_in, M, shift)).
 *
 * MobileViT unfold, [B, H, W, C] -> [B*ph*pw, (H/ph)*(W/pw), C]:
 *   out[b*ph*pw + i*pw + j][py*(W/pw) + px][c] = in[b][py*ph + i][px*pw + j][c]
 * i.e. one sequence per position (i, j) inside a patch, listing that pixel of
 * every patch; attention then runs across patches. fold is the inverse.
 */
import { multiplyByQuantizedMultiplier } from "../../int8/fixed-point.js";
import { product } from "../../model-ir/shapes.js";
import type { ConcatOp, FoldOp, TransposeOp, UnfoldOp } from "../../model-ir/types.js";
import { inputAt, type KernelContext, shapeAt, zeroPointOf } from "../context.js";

type Values = Float32Array | Int8Array | Int32Array;

function like<T extends Values>(x: T, n: number): T {
  return new (x.constructor as new (n: number) => T)(n);
}

export function reshape<T extends Values>(ctx: KernelContext<T>): T {
  return inputAt(ctx, 0).slice() as T;
}

export function transpose<T extends Values>(ctx: KernelContext<T, TransposeOp>): T {
  const x = inputAt(ctx, 0);
  const shape = shapeAt(ctx, 0);
  const perm = ctx.op.attrs.perm;
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = (inStrides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  const outShape = perm.map((p) => shape[p] ?? 1);
  const strideOfOut = perm.map((p) => inStrides[p] ?? 0);
  const out = like(x, x.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let k = 0; k < x.length; k++) {
    out[k] = x[src] as number;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = (idx[d] ?? 0) + 1;
      src += strideOfOut[d] ?? 0;
      if ((idx[d] ?? 0) < (outShape[d] ?? 1)) break;
      src -= (idx[d] ?? 0) * (strideOfOut[d] ?? 0);
      idx[d] = 0;
    }
  }
  return out;
}

/** Calls `move(patchedIndex, imageIndex)` for every element of unfold's mapping. */
function patchMapping(
  b: number,
  h: number,
  w: number,
  c: number,
  ph: number,
  pw: number,
  move: (patched: number, image: number) => void,
): void {
  const nx = w / pw;
  const np = (h / ph) * nx;
  for (let bb = 0; bb < b; bb++) {
    for (let i = 0; i < ph; i++) {
      for (let j = 0; j < pw; j++) {
        const seq = bb * ph * pw + i * pw + j;
        for (let p = 0; p < np; p++) {
          const y = Math.floor(p / nx) * ph + i;
          const x = (p % nx) * pw + j;
          const dst = (seq * np + p) * c;
          const src = ((bb * h + y) * w + x) * c;
          for (let ch = 0; ch < c; ch++) move(dst + ch, src + ch);
        }
      }
    }
  }
}

export function unfold<T extends Values>(ctx: KernelContext<T, UnfoldOp>): T {
  const x = inputAt(ctx, 0);
  const [b = 0, h = 0, w = 0, c = 0] = shapeAt(ctx, 0);
  const [ph, pw] = ctx.op.attrs.patchSize;
  const out = like(x, x.length);
  patchMapping(b, h, w, c, ph, pw, (patched, image) => {
    out[patched] = x[image] as number;
  });
  return out;
}

export function fold<T extends Values>(ctx: KernelContext<T, FoldOp>): T {
  const x = inputAt(ctx, 0);
  const [bp = 0, , c = 0] = shapeAt(ctx, 0);
  const [ph, pw] = ctx.op.attrs.patchSize;
  const out = like(x, x.length);
  patchMapping(
    bp / (ph * pw),
    ctx.op.attrs.height,
    ctx.op.attrs.width,
    c,
    ph,
    pw,
    (patched, image) => {
      out[image] = x[patched] as number;
    },
  );
  return out;
}

/**
 * Concatenation along `axis`; `convert(i, v)` maps input i's values to the
 * output's representation.
 */
function concatWith<T extends Values>(
  ctx: KernelContext<T, ConcatOp>,
  convert: (i: number, v: number) => number,
): T {
  const first = inputAt(ctx, 0);
  const outShape = ctx.output.shape;
  const rank = outShape.length;
  const axis = ctx.op.attrs.axis < 0 ? ctx.op.attrs.axis + rank : ctx.op.attrs.axis;
  const outer = product(outShape.slice(0, axis));
  const inner = product(outShape.slice(axis + 1));
  const outAxis = outShape[axis] ?? 1;
  const out = like(first, product(outShape));
  let axisOffset = 0;
  ctx.values.forEach((v, i) => {
    const len = shapeAt(ctx, i)[axis] ?? 1;
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < len; a++) {
        const src = (o * len + a) * inner;
        const dst = (o * outAxis + axisOffset + a) * inner;
        for (let k = 0; k < inner; k++) out[dst + k] = convert(i, v[src + k] as number);
      }
    }
    axisOffset += len;
  });
  return out;
}

export function concatFloat(ctx: KernelContext<Float32Array, ConcatOp>): Float32Array {
  return concatWith(ctx, (_i, v) => v);
}

export function concatInt8(
  ctx: KernelContext<Int8Array | Int32Array, ConcatOp>,
): Int8Array | Int32Array {
  const entries = ctx.op.int8?.inputs ?? [];
  const zpOut = zeroPointOf(ctx.output);
  const zpIn = ctx.inputs.map(zeroPointOf);
  return concatWith(ctx, (i, v) => {
    const e = entries[i];
    if (e === null || e === undefined) return v;
    const y = zpOut + multiplyByQuantizedMultiplier(v - (zpIn[i] ?? 0), e.multiplier, e.shift);
    return y < -128 ? -128 : Math.min(y, 127);
  });
}
