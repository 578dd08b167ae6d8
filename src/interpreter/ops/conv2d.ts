/**
 * conv2d (dense, depthwise and grouped), NHWC input, OHWI weight.
 * int8 follows TFLM `reference_integer_ops::ConvPerChannel` /
 * `DepthwiseConvPerChannel`: acc = sum w * (x - zp_in) over in-bounds taps
 * (padding contributes nothing, i.e. pads with the input zero point),
 * acc += bias, requantize per output channel, add zp_out, clamp to the fused
 * activation range.
 */
import { multiplyByQuantizedMultiplier } from "../../int8/fixed-point.js";
import { computeWindow } from "../../model-ir/shapes.js";
import type { Conv2dOp } from "../../model-ir/types.js";
import {
  type FloatValue,
  type Int8Value,
  inputAt,
  int8Params,
  type KernelContext,
  shapeAt,
  zeroPointOf,
} from "../context.js";
import { weightSpans } from "./weight-spans.js";

interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  o: number;
  kh: number;
  kw: number;
  cig: number;
  oh: number;
  ow: number;
  padTop: number;
  padLeft: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  outPerGroup: number;
}

function geometry(ctx: KernelContext<unknown, Conv2dOp>): Geometry {
  const [n = 0, h = 0, w = 0, c = 0] = shapeAt(ctx, 0);
  const [o = 0, kh = 0, kw = 0, cig = 0] = shapeAt(ctx, 1);
  const { strides, dilations, padding, groups } = ctx.op.attrs;
  const hw = computeWindow(h, kh, strides[0], dilations[0], padding);
  const ww = computeWindow(w, kw, strides[1], dilations[1], padding);
  return {
    n,
    h,
    w,
    c,
    o,
    kh,
    kw,
    cig,
    oh: hw.out,
    ow: ww.out,
    padTop: hw.padBefore,
    padLeft: ww.padBefore,
    sh: strides[0],
    sw: strides[1],
    dh: dilations[0],
    dw: dilations[1],
    outPerGroup: o / groups,
  };
}

/**
 * The grouped (and depthwise) float loop nest; `store` is called with
 * (outIndex, oc, acc) once per output element. The input offset is added to
 * every in-bounds tap.
 */
function convLoop(
  g: Geometry,
  x: ArrayLike<number>,
  wt: ArrayLike<number>,
  inputOffset: number,
  store: (outIndex: number, oc: number, acc: number) => void,
): void {
  let outIndex = 0;
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const iy0 = oy * g.sh - g.padTop;
      for (let ox = 0; ox < g.ow; ox++) {
        const ix0 = ox * g.sw - g.padLeft;
        for (let oc = 0; oc < g.o; oc++, outIndex++) {
          const icBase = Math.floor(oc / g.outPerGroup) * g.cig;
          let acc = 0;
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = iy0 + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (let kx = 0; kx < g.kw; kx++) {
              const ix = ix0 + kx * g.dw;
              if (ix < 0 || ix >= g.w) continue;
              const xBase = ((b * g.h + iy) * g.w + ix) * g.c + icBase;
              const wBase = ((oc * g.kh + ky) * g.kw + kx) * g.cig;
              for (let ci = 0; ci < g.cig; ci++) {
                acc += ((x[xBase + ci] as number) + inputOffset) * (wt[wBase + ci] as number);
              }
            }
          }
          store(outIndex, oc, acc);
        }
      }
    }
  }
}

/**
 * Pixel (b, oy, ox)'s float taps in weight order (im2col); 0 outside the
 * image, where a tap contributes nothing. The int8 conv has its own gather
 * (gatherInt8Block), so that each one's element loads stay monomorphic (a
 * shared one is several times slower once both kinds have run).
 */
function gatherFloat(
  g: Geometry,
  x: Float32Array,
  b: number,
  oy: number,
  ox: number,
  col: Float32Array,
): void {
  let at = 0;
  for (let ky = 0; ky < g.kh; ky++) {
    const iy = oy * g.sh - g.padTop + ky * g.dh;
    for (let kx = 0; kx < g.kw; kx++, at += g.c) {
      const ix = ox * g.sw - g.padLeft + kx * g.dw;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
        col.fill(0, at, at + g.c);
        continue;
      }
      const xBase = ((b * g.h + iy) * g.w + ix) * g.c;
      col.set(x.subarray(xBase, xBase + g.c), at);
    }
  }
}

export function conv2dFloat(ctx: KernelContext<FloatValue, Conv2dOp>): Float32Array {
  const g = geometry(ctx);
  const bias = ctx.values[2];
  const out = new Float32Array(g.n * g.oh * g.ow * g.o);
  const act = ctx.op.attrs.activation;
  const store = (i: number, oc: number, acc: number) => {
    let v = acc + (bias === undefined ? 0 : (bias[oc] as number));
    if (act !== "none") v = v < 0 ? 0 : act === "relu6" && v > 6 ? 6 : v;
    out[i] = v;
  };
  const x = inputAt(ctx, 0) as Float32Array;
  const wt = inputAt(ctx, 1) as Float32Array;
  if (g.outPerGroup !== g.o) {
    convLoop(g, x, wt, 0, store);
    return out;
  }
  // One group: im2col and dot products over the non-zero weights, as conv2dInt8
  // (skipping zero weights leaves a sum of finite values unchanged).
  const k = g.kh * g.kw * g.c;
  const col = new Float32Array(k);
  const { rowStart, spans } = weightSpans(wt, g.o, k);
  let outIndex = 0;
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        gatherFloat(g, x, b, oy, ox, col);
        for (let oc = 0; oc < g.o; oc++, outIndex++) {
          const wBase = oc * k;
          let acc = 0;
          for (let s = rowStart[oc] as number; s < (rowStart[oc + 1] as number); s++) {
            const end = spans[2 * s + 1] as number;
            for (let i = spans[2 * s] as number; i < end; i++)
              acc += (col[i] as number) * (wt[wBase + i] as number);
          }
          store(outIndex, oc, acc);
        }
      }
    }
  }
  return out;
}

/** Output pixels computed together by the one-group int8 conv: each weight is loaded once for all of them. */
const PIXEL_BLOCK = 8;

/**
 * Pixels firstPixel .. firstPixel + PIXEL_BLOCK - 1 (row-major over the
 * output) of image b: their taps in weight order (im2col), plus the input
 * offset, interleaved by pixel (tap i of pixel p at col[i * PIXEL_BLOCK + p]),
 * so the dot products read one contiguous run per weight. Taps outside the
 * image, and pixels past the last one, are 0 and contribute nothing.
 */
function gatherInt8Block(
  g: Geometry,
  x: Int8Array,
  inputOffset: number,
  b: number,
  firstPixel: number,
  col: Int32Array,
): void {
  const pixels = g.oh * g.ow;
  for (let p = 0; p < PIXEL_BLOCK; p++) {
    const pixel = firstPixel + p;
    if (pixel >= pixels) {
      for (let i = p; i < col.length; i += PIXEL_BLOCK) col[i] = 0;
      continue;
    }
    const oy = Math.floor(pixel / g.ow);
    const ox = pixel - oy * g.ow;
    let at = p;
    for (let ky = 0; ky < g.kh; ky++) {
      const iy = oy * g.sh - g.padTop + ky * g.dh;
      for (let kx = 0; kx < g.kw; kx++) {
        const ix = ox * g.sw - g.padLeft + kx * g.dw;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
          for (let ci = 0; ci < g.c; ci++, at += PIXEL_BLOCK) col[at] = 0;
          continue;
        }
        const xBase = ((b * g.h + iy) * g.w + ix) * g.c;
        for (let ci = 0; ci < g.c; ci++, at += PIXEL_BLOCK)
          col[at] = (x[xBase + ci] as number) + inputOffset;
      }
    }
  }
}

/**
 * The one-group int8 conv: PIXEL_BLOCK output pixels at a time, one dot
 * product per output channel over the stretches of non-zero weights, each
 * weight loaded once and multiplied into PIXEL_BLOCK accumulators: fewer
 * weight loads and span walks per multiply-add (with int8 add's tables, a
 * pruned ResNet-8's inference takes two thirds of the CPU time of one pixel
 * at a time; 8 pixels are a few per cent faster than 4). Integer sums do not
 * depend on their order, so the result is the same as TFLM's loop nest.
 */
function denseConvInt8(
  g: Geometry,
  x: Int8Array,
  wt: Int8Array,
  bias: Int32Array | undefined,
  params: { multiplier: number[]; shift: number[]; actMin: number; actMax: number },
  target: { zpOut: number; inputOffset: number; out: Int8Array },
): void {
  const { multiplier, shift, actMin, actMax } = params;
  const { zpOut, inputOffset, out } = target;
  const k = g.kh * g.kw * g.c;
  const col = new Int32Array(k * PIXEL_BLOCK);
  const { rowStart, spans } = weightSpans(wt, g.o, k);
  const pixels = g.oh * g.ow;
  const acc = new Int32Array(PIXEL_BLOCK);
  for (let b = 0; b < g.n; b++) {
    for (let first = 0; first < pixels; first += PIXEL_BLOCK) {
      gatherInt8Block(g, x, inputOffset, b, first, col);
      const valid = Math.min(PIXEL_BLOCK, pixels - first);
      const outBase = (b * pixels + first) * g.o;
      for (let oc = 0; oc < g.o; oc++) {
        const wBase = oc * k;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let a4 = 0;
        let a5 = 0;
        let a6 = 0;
        let a7 = 0;
        for (let s = rowStart[oc] as number; s < (rowStart[oc + 1] as number); s++) {
          const end = spans[2 * s + 1] as number;
          // Int32 adds (|0): the same sum modulo 2^32, which is all the
          // final |0 keeps, and V8 keeps the loop in integer registers.
          for (let i = spans[2 * s] as number; i < end; i++) {
            const weight = wt[wBase + i] as number;
            const at = i * PIXEL_BLOCK;
            a0 = (a0 + weight * (col[at] as number)) | 0;
            a1 = (a1 + weight * (col[at + 1] as number)) | 0;
            a2 = (a2 + weight * (col[at + 2] as number)) | 0;
            a3 = (a3 + weight * (col[at + 3] as number)) | 0;
            a4 = (a4 + weight * (col[at + 4] as number)) | 0;
            a5 = (a5 + weight * (col[at + 5] as number)) | 0;
            a6 = (a6 + weight * (col[at + 6] as number)) | 0;
            a7 = (a7 + weight * (col[at + 7] as number)) | 0;
          }
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
        acc[4] = a4;
        acc[5] = a5;
        acc[6] = a6;
        acc[7] = a7;
        const biasValue = bias === undefined ? 0 : (bias[oc] as number);
        const m = multiplier[oc] as number;
        const sh = shift[oc] as number;
        for (let p = 0; p < valid; p++) {
          const total = ((acc[p] as number) + biasValue) | 0;
          const y = zpOut + multiplyByQuantizedMultiplier(total, m, sh);
          out[outBase + p * g.o + oc] = y < actMin ? actMin : Math.min(y, actMax);
        }
      }
    }
  }
}

/**
 * int8 loop nest, written out separately from `convLoop` so V8 sees only
 * Int8Array element loads (a shared loop over Int8Array and Float32Array is
 * polymorphic and several times slower).
 */
export function conv2dInt8(ctx: KernelContext<Int8Value, Conv2dOp>): Int8Array {
  const g = geometry(ctx);
  const x = inputAt(ctx, 0) as Int8Array;
  const wt = inputAt(ctx, 1) as Int8Array;
  const bias = ctx.values[2] as Int32Array | undefined;
  const { multiplier, shift, actMin, actMax } = int8Params(ctx.op);
  const zpOut = zeroPointOf(ctx.output);
  const inputOffset = -zeroPointOf(ctx.inputs[0]);
  const out = new Int8Array(g.n * g.oh * g.ow * g.o);
  if (g.outPerGroup === g.o) {
    denseConvInt8(
      g,
      x,
      wt,
      bias,
      { multiplier, shift, actMin, actMax },
      { zpOut, inputOffset, out },
    );
    return out;
  }
  const { h, w, c, kh, kw, cig, sh, sw, dh, dw, outPerGroup } = g;
  let outIndex = 0;
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const iy0 = oy * sh - g.padTop;
      for (let ox = 0; ox < g.ow; ox++) {
        const ix0 = ox * sw - g.padLeft;
        for (let oc = 0; oc < g.o; oc++, outIndex++) {
          const icBase = Math.floor(oc / outPerGroup) * cig;
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = iy0 + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ix0 + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const xBase = ((b * h + iy) * w + ix) * c + icBase;
              const wBase = ((oc * kh + ky) * kw + kx) * cig;
              for (let ci = 0; ci < cig; ci++) {
                acc += ((x[xBase + ci] as number) + inputOffset) * (wt[wBase + ci] as number);
              }
            }
          }
          const total = (acc + (bias === undefined ? 0 : (bias[oc] as number))) | 0;
          const y =
            zpOut +
            multiplyByQuantizedMultiplier(total, multiplier[oc] as number, shift[oc] as number);
          out[outIndex] = y < actMin ? actMin : Math.min(y, actMax);
        }
      }
    }
  }
  return out;
}
