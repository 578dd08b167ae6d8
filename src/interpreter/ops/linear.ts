/**
 * linear (x [..., I] times weight [O, I]^T plus bias) and matmul (batched
 * product of two activations). int8 linear follows TFLM
 * `reference_integer_ops::FullyConnectedPerChannel`; int8 matmul follows
 * TFLite `reference_ops::BatchMatMul` for int8 (both operands asymmetric,
 * one output multiplier).
 */
import { multiplyByQuantizedMultiplier } from "../../int8/fixed-point.js";
import { product } from "../../model-ir/shapes.js";
import type { LinearOp, MatMulOp } from "../../model-ir/types.js";
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

/** The float loop over the non-zero weights (skipping zeros leaves a finite sum unchanged). */
function linearLoop(
  x: Float32Array,
  w: Float32Array,
  rows: number,
  inFeatures: number,
  outFeatures: number,
  store: (index: number, o: number, acc: number) => void,
): void {
  const { rowStart, spans } = weightSpans(w, outFeatures, inFeatures);
  for (let r = 0; r < rows; r++) {
    const xBase = r * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const wBase = o * inFeatures;
      let acc = 0;
      for (let s = rowStart[o] as number; s < (rowStart[o + 1] as number); s++) {
        const end = spans[2 * s + 1] as number;
        for (let i = spans[2 * s] as number; i < end; i++)
          acc += (x[xBase + i] as number) * (w[wBase + i] as number);
      }
      store(r * outFeatures + o, o, acc);
    }
  }
}

export function linearFloat(ctx: KernelContext<FloatValue, LinearOp>): Float32Array {
  const [o = 0, i = 0] = shapeAt(ctx, 1);
  const rows = product(shapeAt(ctx, 0)) / i;
  const bias = ctx.values[2];
  const act = ctx.op.attrs.activation;
  const out = new Float32Array(rows * o);
  const x = inputAt(ctx, 0) as Float32Array;
  linearLoop(x, inputAt(ctx, 1) as Float32Array, rows, i, o, (k, oc, acc) => {
    let v = acc + (bias === undefined ? 0 : (bias[oc] as number));
    if (act !== "none") v = v < 0 ? 0 : act === "relu6" && v > 6 ? 6 : v;
    out[k] = v;
  });
  return out;
}

/** int8 loop, separate from `linearLoop` so element loads stay monomorphic. */
export function linearInt8(ctx: KernelContext<Int8Value, LinearOp>): Int8Array {
  const [o = 0, i = 0] = shapeAt(ctx, 1);
  const rows = product(shapeAt(ctx, 0)) / i;
  const x = inputAt(ctx, 0) as Int8Array;
  const w = inputAt(ctx, 1) as Int8Array;
  const bias = ctx.values[2] as Int32Array | undefined;
  const { multiplier, shift, actMin, actMax } = int8Params(ctx.op);
  const zpOut = zeroPointOf(ctx.output);
  const inputOffset = -zeroPointOf(ctx.inputs[0]);
  const out = new Int8Array(rows * o);
  // Pruned weights are skipped: only the stretches of non-zero weights. The
  // adds wrap to int32 as they go (|0), the same sum modulo 2^32 as the final
  // |0 keeps, so V8 keeps the loop in integer registers.
  const { rowStart, spans } = weightSpans(w, o, i);
  for (let r = 0; r < rows; r++) {
    const xBase = r * i;
    for (let oc = 0; oc < o; oc++) {
      const wBase = oc * i;
      let acc = 0;
      for (let s = rowStart[oc] as number; s < (rowStart[oc + 1] as number); s++) {
        const end = spans[2 * s + 1] as number;
        for (let k = spans[2 * s] as number; k < end; k++)
          acc = (acc + ((x[xBase + k] as number) + inputOffset) * (w[wBase + k] as number)) | 0;
      }
      const total = (acc + (bias === undefined ? 0 : (bias[oc] as number))) | 0;
      const y =
        zpOut + multiplyByQuantizedMultiplier(total, multiplier[oc] as number, shift[oc] as number);
      out[r * o + oc] = y < actMin ? actMin : Math.min(y, actMax);
    }
  }
  return out;
}

interface MatMulGeometry {
  batch: number;
  m: number;
  k: number;
  n: number;
  /** Element strides of b along k and n within one batch. */
  bStrideK: number;
  bStrideN: number;
}

function matmulGeometry(ctx: KernelContext<unknown, MatMulOp>): MatMulGeometry {
  const a = shapeAt(ctx, 0);
  const b = shapeAt(ctx, 1);
  const m = a[a.length - 2] ?? 0;
  const k = a[a.length - 1] ?? 0;
  const t = ctx.op.attrs.transposeB;
  const n = (t ? b[b.length - 2] : b[b.length - 1]) ?? 0;
  return { batch: product(a.slice(0, -2)), m, k, n, bStrideK: t ? 1 : n, bStrideN: t ? k : 1 };
}

function matmulLoop(
  g: MatMulGeometry,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aOffset: number,
  bOffset: number,
  store: (index: number, acc: number) => void,
): void {
  let index = 0;
  for (let p = 0; p < g.batch; p++) {
    const aBatch = p * g.m * g.k;
    const bBatch = p * g.k * g.n;
    for (let i = 0; i < g.m; i++) {
      const aRow = aBatch + i * g.k;
      for (let j = 0; j < g.n; j++, index++) {
        let acc = 0;
        let bi = bBatch + j * g.bStrideN;
        for (let kk = 0; kk < g.k; kk++, bi += g.bStrideK) {
          acc += ((a[aRow + kk] as number) + aOffset) * ((b[bi] as number) + bOffset);
        }
        store(index, acc);
      }
    }
  }
}

export function matmulFloat(ctx: KernelContext<FloatValue, MatMulOp>): Float32Array {
  const g = matmulGeometry(ctx);
  const alpha = ctx.op.attrs.alpha;
  const out = new Float32Array(g.batch * g.m * g.n);
  matmulLoop(g, inputAt(ctx, 0), inputAt(ctx, 1), 0, 0, (i, acc) => {
    out[i] = acc * alpha;
  });
  return out;
}

export function matmulInt8(ctx: KernelContext<Int8Value, MatMulOp>): Int8Array {
  const g = matmulGeometry(ctx);
  const { multiplier, shift } = int8Params(ctx.op);
  const zpOut = zeroPointOf(ctx.output);
  const out = new Int8Array(g.batch * g.m * g.n);
  const aOffset = -zeroPointOf(ctx.inputs[0]);
  const bOffset = -zeroPointOf(ctx.inputs[1]);
  matmulLoop(g, inputAt(ctx, 0), inputAt(ctx, 1), aOffset, bOffset, (i, acc) => {
    const y = zpOut + multiplyByQuantizedMultiplier(acc | 0, multiplier, shift);
    out[i] = y < -128 ? -128 : Math.min(y, 127);
  });
  return out;
}
