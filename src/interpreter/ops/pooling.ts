/**
 * avg_pool2d and global_avg_pool. int8 avg_pool2d follows TFLM
 * `reference_integer_ops::AveragePool`: the sum of raw int8 values over the
 * in-bounds window, divided by the in-bounds count rounding half away from
 * zero with C truncating division; input and output share quantization.
 * int8 global_avg_pool is ours: acc = sum (x - zp_in) over H*W, then
 * zp_out + requant(acc, M, shift) with M = s_in / (s_out * H * W), clamped.
 */
import { cDiv, multiplyByQuantizedMultiplier } from "../../int8/fixed-point.js";
import { computeWindow } from "../../model-ir/shapes.js";
import type { AvgPool2dOp, GlobalAvgPoolOp } from "../../model-ir/types.js";
import {
  type FloatValue,
  type Int8Value,
  inputAt,
  int8Params,
  type KernelContext,
  shapeAt,
  zeroPointOf,
} from "../context.js";

function poolLoop(
  ctx: KernelContext<ArrayLike<number>, AvgPool2dOp>,
  store: (index: number, sum: number, count: number) => void,
): number {
  const [n = 0, h = 0, w = 0, c = 0] = shapeAt(ctx, 0);
  const { poolSize, strides, padding } = ctx.op.attrs;
  const hw = computeWindow(h, poolSize[0], strides[0], 1, padding);
  const ww = computeWindow(w, poolSize[1], strides[1], 1, padding);
  const x = inputAt(ctx, 0);
  let index = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < hw.out; oy++) {
      for (let ox = 0; ox < ww.out; ox++) {
        for (let ch = 0; ch < c; ch++, index++) {
          let sum = 0;
          let count = 0;
          for (let ky = 0; ky < poolSize[0]; ky++) {
            const iy = oy * strides[0] - hw.padBefore + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < poolSize[1]; kx++) {
              const ix = ox * strides[1] - ww.padBefore + kx;
              if (ix < 0 || ix >= w) continue;
              sum += x[((b * h + iy) * w + ix) * c + ch] as number;
              count += 1;
            }
          }
          store(index, sum, count);
        }
      }
    }
  }
  return index;
}

function outputSize(ctx: KernelContext<unknown>): number {
  return ctx.output.shape.reduce((a, b) => a * b, 1);
}

export function avgPool2dFloat(ctx: KernelContext<FloatValue, AvgPool2dOp>): Float32Array {
  const out = new Float32Array(outputSize(ctx));
  poolLoop(ctx, (i, sum, count) => {
    out[i] = sum / count;
  });
  return out;
}

export function avgPool2dInt8(ctx: KernelContext<Int8Value, AvgPool2dOp>): Int8Array {
  const out = new Int8Array(outputSize(ctx));
  poolLoop(ctx, (i, sum, count) => {
    const half = Math.trunc(count / 2);
    const y = sum > 0 ? cDiv(sum + half, count) : cDiv(sum - half, count);
    out[i] = y < -128 ? -128 : Math.min(y, 127);
  });
  return out;
}

function globalLoop(
  ctx: KernelContext<ArrayLike<number>>,
  offset: number,
  store: (index: number, sum: number, count: number) => void,
): void {
  const [n = 0, h = 0, w = 0, c = 0] = shapeAt(ctx, 0);
  const x = inputAt(ctx, 0);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let p = 0; p < h * w; p++) sum += (x[(b * h * w + p) * c + ch] as number) + offset;
      store(b * c + ch, sum, h * w);
    }
  }
}

export function globalAvgPoolFloat(ctx: KernelContext<FloatValue, GlobalAvgPoolOp>): Float32Array {
  const out = new Float32Array(outputSize(ctx));
  globalLoop(ctx, 0, (i, sum, count) => {
    out[i] = sum / count;
  });
  return out;
}

export function globalAvgPoolInt8(ctx: KernelContext<Int8Value, GlobalAvgPoolOp>): Int8Array {
  const { multiplier, shift } = int8Params(ctx.op);
  const zpOut = zeroPointOf(ctx.output);
  const out = new Int8Array(outputSize(ctx));
  globalLoop(ctx, -zeroPointOf(ctx.inputs[0]), (i, sum) => {
    const y = zpOut + multiplyByQuantizedMultiplier(sum | 0, multiplier, shift);
    out[i] = y < -128 ? -128 : Math.min(y, 127);
  });
  return out;
}
