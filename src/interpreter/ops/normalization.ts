/**
 * layer_norm and softmax over the last axis. The int8 versions delegate to
 * src/int8 (integer LayerNorm as specified in docs/model-ir.md, TFLM int8
 * Softmax); the float versions are what tfjs computes: population variance
 * (tf.moments), y = gamma * (x - mean) / sqrt(var + epsilon) + beta, and
 * softmax(beta * x) with the row max subtracted.
 */
import { layerNormInt8 } from "../../int8/layernorm.js";
import { softmaxInt8 } from "../../int8/softmax.js";
import type { LayerNormOp, SoftmaxOp } from "../../model-ir/types.js";
import {
  type FloatValue,
  type Int8Value,
  inputAt,
  int8Params,
  type KernelContext,
  shapeAt,
  zeroPointOf,
} from "../context.js";

function lastAxis(ctx: KernelContext<unknown>): number {
  const s = shapeAt(ctx, 0);
  return s[s.length - 1] ?? 1;
}

export function layerNormFloat(ctx: KernelContext<FloatValue, LayerNormOp>): Float32Array {
  const x = inputAt(ctx, 0);
  const gamma = inputAt(ctx, 1);
  const beta = inputAt(ctx, 2);
  const c = lastAxis(ctx);
  const eps = ctx.op.attrs.epsilon;
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += c) {
    let mean = 0;
    for (let i = 0; i < c; i++) mean += x[base + i] as number;
    mean /= c;
    let variance = 0;
    for (let i = 0; i < c; i++) {
      const d = (x[base + i] as number) - mean;
      variance += d * d;
    }
    variance /= c;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < c; i++) {
      out[base + i] =
        (gamma[i] as number) * ((x[base + i] as number) - mean) * inv + (beta[i] as number);
    }
  }
  return out;
}

export function layerNormInt8Kernel(ctx: KernelContext<Int8Value, LayerNormOp>): Int8Array {
  const p = int8Params(ctx.op);
  const x = inputAt(ctx, 0) as Int8Array;
  const out = new Int8Array(x.length);
  layerNormInt8(x, out, {
    epsQ: p.epsQ,
    gamma: inputAt(ctx, 1) as Int8Array,
    beta: inputAt(ctx, 2) as Int32Array,
    outputMultiplier: Int32Array.from(p.multiplier),
    outputShift: Int32Array.from(p.shift),
    outputZeroPoint: zeroPointOf(ctx.output),
  });
  return out;
}

export function softmaxFloat(ctx: KernelContext<FloatValue, SoftmaxOp>): Float32Array {
  const x = inputAt(ctx, 0);
  const c = lastAxis(ctx);
  const beta = ctx.op.attrs.beta;
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += c) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < c; i++) max = Math.max(max, x[base + i] as number);
    let sum = 0;
    for (let i = 0; i < c; i++) {
      const e = Math.exp(beta * ((x[base + i] as number) - max));
      out[base + i] = e;
      sum += e;
    }
    for (let i = 0; i < c; i++) out[base + i] = (out[base + i] as number) / sum;
  }
  return out;
}

/** Rows longer than this could need a right shift above 31 in TFLM's softmax. */
export const SOFTMAX_MAX_DEPTH = 256;

export function softmaxInt8Kernel(ctx: KernelContext<Int8Value, SoftmaxOp>): Int8Array {
  const x = inputAt(ctx, 0) as Int8Array;
  const c = lastAxis(ctx);
  if (c > SOFTMAX_MAX_DEPTH)
    throw new Error(`${ctx.op.name}: softmax over ${c} > ${SOFTMAX_MAX_DEPTH}`);
  const out = new Int8Array(x.length);
  softmaxInt8(x, out, c, int8Params(ctx.op));
  return out;
}
