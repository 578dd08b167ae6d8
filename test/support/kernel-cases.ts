/**
 * Kernel cases for the C kernel runner (templates/c/harness/tf_kernel_runner.c):
 * typed descriptions of one kernel call (inputs, weights, quantization) and
 * their binary encoding. Used by the kernel tests and the kernel benchmark;
 * the op codes and parameter orders mirror the runner's.
 */
import type { BlockRleEncoding } from "../../src/model-ir/sparse-encoding.js";
import type { AddOp, MulOp } from "../../src/model-ir/types.js";
import { packSparseWeight } from "../../src/sparse-engine/pack-weights.js";

export const RUNNER_OPS = {
  conv1x1: 1,
  conv1x1Sparse: 2,
  convKxK: 3,
  convKxKSparse: 4,
  linear: 5,
  linearSparse: 6,
  depthwise: 7,
  matmul: 8,
  add: 9,
  lut: 10,
  avgPool: 11,
  globalAvgPool: 12,
  softmax: 13,
  layerNorm: 14,
  transpose: 15,
  reshape: 16,
  mul: 17,
  addBroadcast: 18,
  mulBroadcast: 19,
  concat: 20,
  unfold: 21,
  fold: 22,
} as const;

/** Requantization shared by conv and linear cases. */
export interface OutputQuant {
  /** Minus the input zero point. */
  inputOffset: number;
  outputOffset: number;
  actMin: number;
  actMax: number;
  /** Per output channel. */
  multiplier: Int32Array;
  shift: Int32Array;
  bias?: Int32Array;
}

/** Dense OHWI int8 weight, or its block-RLE encoding (rows O). */
export type KernelWeight = { dense: Int8Array } | { sparse: BlockRleEncoding };

export interface ConvCase extends OutputQuant {
  kind: "conv";
  /** "1x1" and "kxk" take dense or sparse weights; "depthwise" dense only. */
  variant: "1x1" | "kxk" | "depthwise";
  /** Input N, H, W, C. */
  input: Int8Array;
  inputShape: [number, number, number, number];
  /** Output channels, kernel height and width. */
  outChannels: number;
  kernel: [number, number];
  outShape: [number, number];
  strides: [number, number];
  /** Padding before (top, left); the rest follows from the output size. */
  padBefore: [number, number];
  dilations: [number, number];
  weight: KernelWeight;
}

export interface LinearCase extends OutputQuant {
  kind: "linear";
  rows: number;
  inFeatures: number;
  outFeatures: number;
  input: Int8Array;
  weight: KernelWeight;
}

export interface MatMulCase {
  kind: "matmul";
  batch: number;
  m: number;
  k: number;
  n: number;
  a: Int8Array;
  b: Int8Array;
  aOffset: number;
  bOffset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
  transposeB: boolean;
}

/** Same-shape int8 add with the model IR's add.int8 parameters. */
export interface AddCase {
  kind: "add";
  a: Int8Array;
  b: Int8Array;
  aOffset: number;
  bOffset: number;
  outputOffset: number;
  leftShift: number;
  input1Multiplier: number;
  input1Shift: number;
  input2Multiplier: number;
  input2Shift: number;
  outputMultiplier: number;
  outputShift: number;
  actMin: number;
  actMax: number;
}

/** Same-shape int8 mul with the model IR's mul.int8 parameters. */
export interface MulCase {
  kind: "mul";
  a: Int8Array;
  b: Int8Array;
  aOffset: number;
  bOffset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
  actMin: number;
  actMax: number;
}

/**
 * add or mul with NumPy broadcasting, as codegen calls it (BroadcastCall):
 * the output shape (rank 1..6) and each input's strides, 0 along the
 * dimensions it broadcasts.
 */
export interface BroadcastCase {
  kind: "broadcast";
  a: Int8Array;
  b: Int8Array;
  outputShape: number[];
  strides1: number[];
  strides2: number[];
  aOffset: number;
  bOffset: number;
  outputOffset: number;
  params:
    | { op: "add"; add: NonNullable<AddOp["int8"]> }
    | { op: "mul"; mul: NonNullable<MulOp["int8"]> };
}

/** Concatenation as codegen calls it (ConcatCall): outer rows of the parts side by side. */
export interface ConcatCase {
  kind: "concat";
  outer: number;
  parts: Array<{
    /** int8 [outer, width]. */
    input: Int8Array;
    width: number;
    requant: { inputOffset: number; multiplier: number; shift: number } | null;
  }>;
  outputOffset: number;
}

/** MobileViT unfold or fold ([B, H, W, C] <-> [B*ph*pw, (H/ph)*(W/pw), C]). */
export interface PatchCase {
  kind: "patches";
  variant: "unfold" | "fold";
  input: Int8Array;
  /** B, H, W, C of the image side. */
  imageDims: [number, number, number, number];
  patch: [number, number];
}

export interface LutCase {
  kind: "lut";
  input: Int8Array;
  /** 256 entries in (uint8_t)x order. */
  table: Int8Array;
}

export interface AvgPoolCase {
  kind: "avgPool";
  input: Int8Array;
  inputShape: [number, number, number, number];
  outShape: [number, number];
  pool: [number, number];
  strides: [number, number];
  padBefore: [number, number];
}

export interface GlobalAvgPoolCase {
  kind: "globalAvgPool";
  input: Int8Array;
  inputShape: [number, number, number, number];
  inputOffset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
}

export interface SoftmaxCase {
  kind: "softmax";
  input: Int8Array;
  depth: number;
  inputMultiplier: number;
  inputLeftShift: number;
  diffMin: number;
}

export interface LayerNormCase {
  kind: "layerNorm";
  input: Int8Array;
  channels: number;
  epsQ: number;
  gamma: Int8Array;
  beta: Int32Array;
  multiplier: Int32Array;
  shift: Int32Array;
  outputOffset: number;
}

export interface TransposeCase {
  kind: "transpose";
  input: Int8Array;
  shape: number[];
  perm: number[];
}

export interface ReshapeCase {
  kind: "reshape";
  input: Int8Array;
}

export type KernelCase =
  | ConvCase
  | LinearCase
  | MatMulCase
  | AddCase
  | MulCase
  | BroadcastCase
  | ConcatCase
  | PatchCase
  | LutCase
  | AvgPoolCase
  | GlobalAvgPoolCase
  | SoftmaxCase
  | LayerNormCase
  | TransposeCase
  | ReshapeCase;

/** A case as the runner reads it: op code, int32 parameters, byte buffers. */
export interface EncodedCase {
  op: number;
  params: number[];
  buffers: Uint8Array[];
}

const bytes = (a: ArrayBufferView): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const empty = new Uint8Array(0);

/** add.int8 in the runner's parameter order (tf_add_s8 and tf_add_broadcast_s8 alike). */
function addWords(p: NonNullable<AddOp["int8"]>): number[] {
  return [
    p.leftShift,
    p.input1Multiplier,
    p.input1Shift,
    p.input2Multiplier,
    p.input2Shift,
    p.outputMultiplier,
    p.outputShift,
    p.actMin,
    p.actMax,
  ];
}

/** mul.int8 in the runner's parameter order (tf_mul_s8 and tf_mul_broadcast_s8 alike). */
function mulWords(p: NonNullable<MulOp["int8"]>): number[] {
  return [p.multiplier, p.shift, p.actMin, p.actMax];
}

/** Output bytes a case produces. */
export function outputSize(c: KernelCase): number {
  switch (c.kind) {
    case "conv":
      return c.inputShape[0] * c.outShape[0] * c.outShape[1] * c.outChannels;
    case "linear":
      return c.rows * c.outFeatures;
    case "matmul":
      return c.batch * c.m * c.n;
    case "avgPool":
      return c.inputShape[0] * c.outShape[0] * c.outShape[1] * c.inputShape[3];
    case "globalAvgPool":
      return c.inputShape[0] * c.inputShape[3];
    case "add":
    case "mul":
      return c.a.length;
    case "broadcast":
      return c.outputShape.reduce((a, b) => a * b, 1);
    case "concat":
      return c.outer * c.parts.reduce((s, p) => s + p.width, 0);
    case "lut":
    case "patches":
    case "softmax":
    case "layerNorm":
    case "transpose":
    case "reshape":
      return c.input.length;
  }
}

function weightBuffers(w: KernelWeight): { buffers: Uint8Array[]; extra: number[] } {
  if ("dense" in w) return { buffers: [bytes(w.dense)], extra: [] };
  const packed = packSparseWeight(w.sparse);
  return {
    buffers: [packed.stream],
    extra: [packed.blockSize, packed.runBytes, packed.storedRows],
  };
}

function quantBuffers(q: OutputQuant): Uint8Array[] {
  return [q.bias === undefined ? empty : bytes(q.bias), bytes(q.multiplier), bytes(q.shift)];
}

export function encodeCase(c: KernelCase): EncodedCase {
  const out = outputSize(c);
  switch (c.kind) {
    case "conv": {
      const sparse = "sparse" in c.weight;
      if (sparse && c.variant === "depthwise") throw new Error("depthwise kernels are dense only");
      const op =
        c.variant === "depthwise"
          ? RUNNER_OPS.depthwise
          : c.variant === "1x1"
            ? sparse
              ? RUNNER_OPS.conv1x1Sparse
              : RUNNER_OPS.conv1x1
            : sparse
              ? RUNNER_OPS.convKxKSparse
              : RUNNER_OPS.convKxK;
      const w = weightBuffers(c.weight);
      const [n, h, wd, ch] = c.inputShape;
      return {
        op,
        params: [
          n,
          h,
          wd,
          ch,
          c.outChannels,
          c.kernel[0],
          c.kernel[1],
          c.outShape[0],
          c.outShape[1],
          c.strides[0],
          c.strides[1],
          c.padBefore[0],
          c.padBefore[1],
          c.dilations[0],
          c.dilations[1],
          c.inputOffset,
          c.outputOffset,
          c.actMin,
          c.actMax,
          ...(sparse ? w.extra : [0, 0, 0]),
          out,
        ],
        buffers: [bytes(c.input), ...quantBuffers(c), ...w.buffers],
      };
    }
    case "linear": {
      const sparse = "sparse" in c.weight;
      const w = weightBuffers(c.weight);
      return {
        op: sparse ? RUNNER_OPS.linearSparse : RUNNER_OPS.linear,
        params: [
          c.rows,
          c.inFeatures,
          c.outFeatures,
          c.inputOffset,
          c.outputOffset,
          c.actMin,
          c.actMax,
          ...(sparse ? w.extra : [0, 0, 0]),
          out,
        ],
        buffers: [bytes(c.input), ...quantBuffers(c), ...w.buffers],
      };
    }
    case "matmul":
      return {
        op: RUNNER_OPS.matmul,
        params: [
          c.batch,
          c.m,
          c.k,
          c.n,
          c.aOffset,
          c.bOffset,
          c.outputOffset,
          c.multiplier,
          c.shift,
          c.transposeB ? 1 : 0,
          out,
        ],
        buffers: [bytes(c.a), bytes(c.b)],
      };
    case "add":
      return {
        op: RUNNER_OPS.add,
        params: [c.a.length, c.aOffset, c.bOffset, c.outputOffset, ...addWords(c), out],
        buffers: [bytes(c.a), bytes(c.b)],
      };
    case "mul":
      return {
        op: RUNNER_OPS.mul,
        params: [c.a.length, c.aOffset, c.bOffset, c.outputOffset, ...mulWords(c), out],
        buffers: [bytes(c.a), bytes(c.b)],
      };
    case "broadcast": {
      const pad = (xs: number[]) => [...xs, ...new Array<number>(6 - xs.length).fill(0)];
      const walk = [
        c.outputShape.length,
        ...pad(c.outputShape),
        ...pad(c.strides1),
        ...pad(c.strides2),
        c.aOffset,
        c.bOffset,
        c.outputOffset,
      ];
      const p = c.params;
      return {
        op: p.op === "add" ? RUNNER_OPS.addBroadcast : RUNNER_OPS.mulBroadcast,
        params: [...walk, ...(p.op === "add" ? addWords(p.add) : mulWords(p.mul)), out],
        buffers: [bytes(c.a), bytes(c.b)],
      };
    }
    case "concat":
      return {
        op: RUNNER_OPS.concat,
        params: [
          c.outer,
          c.parts.length,
          c.outputOffset,
          ...c.parts.flatMap((p) =>
            p.requant === null
              ? [p.width, 0, 0, 0, 0]
              : [p.width, 1, p.requant.inputOffset, p.requant.multiplier, p.requant.shift],
          ),
          out,
        ],
        buffers: c.parts.map((p) => bytes(p.input)),
      };
    case "patches":
      return {
        op: c.variant === "unfold" ? RUNNER_OPS.unfold : RUNNER_OPS.fold,
        params: [...c.imageDims, ...c.patch, out],
        buffers: [bytes(c.input)],
      };
    case "lut":
      return {
        op: RUNNER_OPS.lut,
        params: [c.input.length, out],
        buffers: [bytes(c.input), bytes(c.table)],
      };
    case "avgPool":
      return {
        op: RUNNER_OPS.avgPool,
        params: [...c.inputShape, ...c.outShape, ...c.pool, ...c.strides, ...c.padBefore, out],
        buffers: [bytes(c.input)],
      };
    case "globalAvgPool":
      return {
        op: RUNNER_OPS.globalAvgPool,
        params: [...c.inputShape, c.inputOffset, c.outputOffset, c.multiplier, c.shift, out],
        buffers: [bytes(c.input)],
      };
    case "softmax":
      return {
        op: RUNNER_OPS.softmax,
        params: [
          c.input.length / c.depth,
          c.depth,
          c.inputMultiplier,
          c.inputLeftShift,
          c.diffMin,
          out,
        ],
        buffers: [bytes(c.input)],
      };
    case "layerNorm":
      return {
        op: RUNNER_OPS.layerNorm,
        params: [
          c.input.length / c.channels,
          c.channels,
          (c.epsQ % 2 ** 32) | 0,
          Math.floor(c.epsQ / 2 ** 32),
          c.outputOffset,
          out,
        ],
        buffers: [
          bytes(c.input),
          bytes(c.gamma),
          bytes(c.beta),
          bytes(c.multiplier),
          bytes(c.shift),
        ],
      };
    case "transpose": {
      const pad = (xs: number[]) => [...xs, ...new Array<number>(6 - xs.length).fill(0)];
      return {
        op: RUNNER_OPS.transpose,
        params: [c.shape.length, ...pad(c.shape), ...pad(c.perm), out],
        buffers: [bytes(c.input)],
      };
    }
    case "reshape":
      return { op: RUNNER_OPS.reshape, params: [c.input.length, out], buffers: [bytes(c.input)] };
  }
}

/** The runner's input file for a list of cases. */
export function encodeCaseFile(cases: readonly EncodedCase[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const words = (ws: number[]) => bytes(Int32Array.from(ws));
  for (const c of cases) {
    chunks.push(words([c.op, c.params.length, ...c.params, c.buffers.length]));
    for (const b of c.buffers) {
      chunks.push(words([b.byteLength]));
      const padded = new Uint8Array((b.byteLength + 3) & ~3);
      padded.set(b);
      chunks.push(padded);
    }
  }
  const total = chunks.reduce((s, c) => s + c.byteLength, 0);
  const file = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    file.set(c, at);
    at += c.byteLength;
  }
  return file;
}

export interface CaseResult {
  /** The kernel's tf_status (0 = OK). */
  status: number;
  output: Int8Array;
}

/** Parses the runner's result file. */
export function decodeResultFile(file: Uint8Array): CaseResult[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const results: CaseResult[] = [];
  let at = 0;
  while (at + 8 <= file.byteLength) {
    const status = view.getInt32(at, true);
    const n = view.getInt32(at + 4, true);
    at += 8;
    const start = file.byteOffset + at;
    results.push({ status, output: new Int8Array(file.buffer.slice(start, start + n)) });
    at += (n + 3) & ~3;
  }
  return results;
}
