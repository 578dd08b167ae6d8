/**
 * Output shapes of every op, from input shapes and attributes. Used by the
 * validator (declared shapes must match), the graph builder, and the
 * interpreter's spatial loops (padding).
 */
import type { OpIR, Padding } from "./types.js";

/** One spatial axis of a windowed op: output size and padding before. */
export interface AxisWindow {
  out: number;
  padBefore: number;
}

/**
 * TensorFlow / tfjs padding rules: 'valid' = no padding,
 * out = ceil((in - (k-1)*d) / s); 'same' = out = ceil(in / s) with
 * total padding max((out-1)*s + (k-1)*d + 1 - in, 0), the smaller half before.
 */
export function computeWindow(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
): AxisWindow {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === "valid") {
    return { out: Math.ceil((size - effective + 1) / stride), padBefore: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

export function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** Shape broadcasting (NumPy rules) for add / mul. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`cannot broadcast [${a.join(",")}] with [${b.join(",")}]`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

function need(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

/** Infers output shapes; throws an Error naming the problem when inputs do not fit. */
export function inferOutputShapes(op: OpIR, inputs: readonly (readonly number[])[]): number[][] {
  const [x = [], w = [], third] = inputs;
  switch (op.type) {
    case "conv2d": {
      need(x.length === 4 && w.length === 4, "conv2d needs NHWC input and OHWI weight");
      const [n = 0, h = 0, wd = 0, c = 0] = x;
      const [o = 0, kh = 0, kw = 0, ci = 0] = w;
      const { strides, dilations, padding, groups } = op.attrs;
      need(
        c % groups === 0 && o % groups === 0,
        `conv2d: channels not divisible by groups ${groups}`,
      );
      need(ci === c / groups, `conv2d: weight input channels ${ci} != ${c}/${groups}`);
      if (third !== undefined) need(product(third) === o, "conv2d: bias length != output channels");
      const hw = computeWindow(h, kh, strides[0], dilations[0], padding);
      const ww = computeWindow(wd, kw, strides[1], dilations[1], padding);
      need(hw.out > 0 && ww.out > 0, "conv2d: empty output");
      return [[n, hw.out, ww.out, o]];
    }
    case "linear": {
      const [o = 0, i = 0] = w;
      need(w.length === 2 && x[x.length - 1] === i, "linear: input last axis != weight columns");
      if (third !== undefined) need(product(third) === o, "linear: bias length != output features");
      return [[...x.slice(0, -1), o]];
    }
    case "matmul": {
      need(x.length >= 2 && x.length === w.length, "matmul: operands need equal rank >= 2");
      const m = x[x.length - 2] ?? 0;
      const k = x[x.length - 1] ?? 0;
      const kb = op.attrs.transposeB ? w[w.length - 1] : w[w.length - 2];
      const nb = op.attrs.transposeB ? w[w.length - 2] : w[w.length - 1];
      need(kb === k, `matmul: inner dimensions ${k} and ${kb} differ`);
      need(x.slice(0, -2).join() === w.slice(0, -2).join(), "matmul: batch dimensions differ");
      return [[...x.slice(0, -2), m, nb ?? 0]];
    }
    case "add":
    case "mul":
      return [broadcastShapes(x, w)];
    case "avg_pool2d": {
      need(x.length === 4, "avg_pool2d needs NHWC input");
      const [n = 0, h = 0, wd = 0, c = 0] = x;
      const { poolSize, strides, padding } = op.attrs;
      const hw = computeWindow(h, poolSize[0], strides[0], 1, padding);
      const ww = computeWindow(wd, poolSize[1], strides[1], 1, padding);
      return [[n, hw.out, ww.out, c]];
    }
    case "global_avg_pool":
      need(x.length === 4, "global_avg_pool needs NHWC input");
      return [[x[0] ?? 0, x[3] ?? 0]];
    case "layer_norm": {
      const c = x[x.length - 1] ?? 0;
      need(
        product(w) === c && third !== undefined && product(third) === c,
        "layer_norm: gamma/beta length != last axis",
      );
      return [[...x]];
    }
    case "softmax":
    case "activation":
      return [[...x]];
    case "reshape": {
      need(
        product(op.attrs.shape) === product(x),
        `reshape: ${product(x)} elements into [${op.attrs.shape.join(",")}]`,
      );
      return [[...op.attrs.shape]];
    }
    case "transpose": {
      const perm = op.attrs.perm;
      need(
        perm.length === x.length && [...perm].sort().every((p, i) => p === i),
        "transpose: bad perm",
      );
      return [perm.map((p) => x[p] ?? 0)];
    }
    case "unfold": {
      need(x.length === 4, "unfold needs NHWC input");
      const [b = 0, h = 0, wd = 0, c = 0] = x;
      const [ph, pw] = op.attrs.patchSize;
      need(h % ph === 0 && wd % pw === 0, "unfold: spatial size not divisible by patch size");
      return [[b * ph * pw, (h / ph) * (wd / pw), c]];
    }
    case "fold": {
      need(x.length === 3, "fold needs [B*P, N, C] input");
      const [bp = 0, np = 0, c = 0] = x;
      const [ph, pw] = op.attrs.patchSize;
      const { height, width } = op.attrs;
      need(height % ph === 0 && width % pw === 0, "fold: size not divisible by patch size");
      need(
        np === (height / ph) * (width / pw) && bp % (ph * pw) === 0,
        "fold: patch count mismatch",
      );
      return [[bp / (ph * pw), height, width, c]];
    }
    case "concat": {
      const rank = x.length;
      const axis = op.attrs.axis < 0 ? op.attrs.axis + rank : op.attrs.axis;
      need(axis >= 0 && axis < rank, "concat: bad axis");
      const out = [...x];
      out[axis] = 0;
      for (const s of inputs) {
        need(s.length === rank, "concat: rank mismatch");
        for (let i = 0; i < rank; i++)
          if (i !== axis) need(s[i] === x[i], "concat: shape mismatch");
        out[axis] = (out[axis] ?? 0) + (s[axis] ?? 0);
      }
      return [out];
    }
    default:
      return unreachable(op);
  }
}

function unreachable(op: never): never {
  throw new Error(`unknown op ${JSON.stringify(op)}`);
}
