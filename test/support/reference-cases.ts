/**
 * Random kernel cases with their expected outputs from the TypeScript
 * reference interpreter (src/interpreter/ops): used by the kernel tests and
 * the kernel benchmark to check the C kernels byte for byte.
 */

import { broadcastStrides } from "../../src/codegen/kernel-selection/elementwise-ops.js";
import { layerNormInt8 } from "../../src/int8/layernorm.js";
import { computeSoftmaxParams, quantizeMultiplier } from "../../src/int8/quantize-multiplier.js";
import { softmaxInt8 } from "../../src/int8/softmax.js";
import type { KernelContext } from "../../src/interpreter/context.js";
import { activationInt8 } from "../../src/interpreter/ops/activation.js";
import { conv2dInt8 } from "../../src/interpreter/ops/conv2d.js";
import { concatInt8, fold, transpose, unfold } from "../../src/interpreter/ops/data-movement.js";
import { addInt8, mulInt8 } from "../../src/interpreter/ops/elementwise.js";
import { linearInt8, matmulInt8 } from "../../src/interpreter/ops/linear.js";
import { avgPool2dInt8, globalAvgPoolInt8 } from "../../src/interpreter/ops/pooling.js";
import { broadcastShapes, computeWindow, product } from "../../src/model-ir/shapes.js";
import { encodeBlockRle } from "../../src/model-ir/sparse-encoding.js";
import type {
  ActivationOp,
  AddOp,
  AvgPool2dOp,
  BlockSize,
  ConcatOp,
  Conv2dOp,
  FoldOp,
  GlobalAvgPoolOp,
  LinearOp,
  MatMulOp,
  MulOp,
  Padding,
  TensorIR,
  TransposeOp,
  UnfoldOp,
} from "../../src/model-ir/types.js";
import { addRequantParams } from "../../src/quantize/quant-params.js";
import type {
  AddCase,
  AvgPoolCase,
  BroadcastCase,
  ConcatCase,
  ConvCase,
  GlobalAvgPoolCase,
  KernelWeight,
  LayerNormCase,
  LinearCase,
  LutCase,
  MatMulCase,
  MulCase,
  OutputQuant,
  PatchCase,
  ReshapeCase,
  SoftmaxCase,
  TransposeCase,
} from "./kernel-cases.js";

/** mulberry32, deterministic. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
export const randInt = (rng: Rng, lo: number, hi: number): number =>
  lo + Math.floor(rng() * (hi - lo + 1));
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;

function randomInt8(rng: Rng, n: number, lo = -128, hi = 127): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = randInt(rng, lo, hi);
  return a;
}

/** How weights and quantization are drawn. */
export interface PruneOptions {
  /**
   * true: one realistic quantization (right shift 9, no fused activation,
   * so the whole int8 range) instead of random shifts and clamps, so that
   * instruction counts of different cases compare like with like.
   * @default false
   */
  typicalQuant?: boolean;
  /**
   * false: each block is zero with probability `sparsity` (tests);
   * true: exactly round(sparsity * blocks) of all the weight's blocks, chosen
   * at random, are zero (benchmarks).
   * @default false
   */
  exactSparsity?: boolean;
  /**
   * The fraction of channels, drawn at random, that shift left (a
   * multiplier of 0.5 or more, as few surviving weights of a pruned channel
   * give), the others shifting right with their zero point foldable, and the
   * whole int8 range: the fused stores of both kinds. Left shifts are mostly
   * 0 to 3 with a few up to 31, multipliers include 0 and both ends of
   * [2^30, 2^31), and biases reach the int32 limits, so that the left shift
   * of an accumulator wraps as the reference's does. Overrides typicalQuant.
   */
  leftShifts?: number;
  /**
   * Rows, chosen at random, whose blocks are all pruned on top of
   * `sparsity` (output channels the sparse kernels never visit).
   * @default 0
   */
  emptyRows?: number;
}

/**
 * Random [rows, rowLength] symmetric int8 weight ([-127, 127], no stored
 * block all zero by accident) with blocks of `blockSize` weights pruned.
 */
export function randomPrunedWeight(
  rng: Rng,
  rows: number,
  rowLength: number,
  blockSize: number,
  sparsity: number,
  options: PruneOptions = {},
): Int8Array {
  const w = new Int8Array(rows * rowLength);
  for (let i = 0; i < w.length; i++) w[i] = randInt(rng, 1, 127) * (rng() < 0.5 ? -1 : 1);
  // Blocks are numbered over the whole weight: block i covers weights
  // [i * blockSize, (i + 1) * blockSize), never crossing a row.
  const blocks = (rows * rowLength) / blockSize;
  let pruned: number[];
  if (options.exactSparsity) {
    const order = Array.from({ length: blocks }, (_, i) => i);
    for (let i = blocks - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    pruned = order.slice(0, Math.round(sparsity * blocks));
  } else {
    pruned = [];
    for (let b = 0; b < blocks; b++) if (rng() < sparsity) pruned.push(b);
  }
  for (const b of pruned) w.fill(0, b * blockSize, (b + 1) * blockSize);
  const emptyRows = options.emptyRows ?? 0;
  if (emptyRows > 0) {
    const rowOrder = Array.from({ length: rows }, (_, i) => i);
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [rowOrder[i], rowOrder[j]] = [rowOrder[j] as number, rowOrder[i] as number];
    }
    for (const r of rowOrder.slice(0, emptyRows)) w.fill(0, r * rowLength, (r + 1) * rowLength);
  }
  return w;
}

function randomQuant(
  rng: Rng,
  channels: number,
  withBias: boolean,
  typical = false,
  leftShifts?: number,
): OutputQuant {
  if (leftShifts !== undefined) return leftShiftQuant(rng, channels, withBias, leftShifts);
  const multiplier = new Int32Array(channels);
  const shift = new Int32Array(channels);
  for (let i = 0; i < channels; i++) {
    multiplier[i] = randInt(rng, 2 ** 30, 2 ** 31 - 1);
    // Mostly right shifts as real layers have; a few left shifts and extremes.
    shift[i] = rng() < 0.05 ? randInt(rng, 0, 2) : rng() < 0.03 ? -31 : randInt(rng, -14, -5);
  }
  if (typical) shift.fill(-9);
  const actMin = typical || rng() < 0.5 ? -128 : randInt(rng, -128, 20);
  const actMax = typical || rng() < 0.5 ? 127 : randInt(rng, actMin, 127);
  const bias = withBias
    ? Int32Array.from({ length: channels }, () => randInt(rng, -(2 ** 16), 2 ** 16))
    : undefined;
  return {
    inputOffset: -randInt(rng, -128, 127),
    outputOffset: randInt(rng, -128, 127),
    actMin,
    actMax,
    multiplier,
    shift,
    ...(bias === undefined ? {} : { bias }),
  };
}

/** PruneOptions.leftShifts: channels shifting left and right, whole range, extreme values. */
function leftShiftQuant(
  rng: Rng,
  channels: number,
  withBias: boolean,
  leftFraction: number,
): OutputQuant {
  const multiplier = new Int32Array(channels);
  const shift = new Int32Array(channels);
  for (let i = 0; i < channels; i++) {
    const roll = rng();
    multiplier[i] =
      roll < 0.15
        ? 2 ** 30
        : roll < 0.3
          ? 2 ** 31 - 1
          : roll < 0.4
            ? 0
            : randInt(rng, 2 ** 30, 2 ** 31 - 1);
    shift[i] =
      rng() < leftFraction
        ? pick(rng, [0, 0, 1, 1, 2, 3, randInt(rng, 4, 30), 31])
        : // Right shifts whose zero point folds (e <= 21), 1 and 21 included.
          pick(rng, [-1, -9, -21, randInt(rng, -21, -2)]);
  }
  // Accumulators from small to the int32 limits.
  const bias = withBias
    ? Int32Array.from({ length: channels }, () => {
        const roll = rng();
        if (roll < 0.1) return -(2 ** 31);
        if (roll < 0.2) return 2 ** 31 - 1;
        const limit = pick(rng, [2 ** 8, 2 ** 16, 2 ** 24, 2 ** 31 - 1]);
        return randInt(rng, -limit, limit);
      })
    : undefined;
  return {
    inputOffset: -randInt(rng, -128, 127),
    outputOffset: randInt(rng, -128, 127),
    actMin: -128,
    actMax: 127,
    multiplier,
    shift,
    ...(bias === undefined ? {} : { bias }),
  };
}

function tensor(name: string, shape: number[], zeroPoint = 0): TensorIR {
  return { name, shape, dtype: "int8", quant: { scale: [1], zeroPoint: [zeroPoint] } };
}

function weightOf(
  dense: Int8Array,
  rows: number,
  rowLength: number,
  blockSize: BlockSize | 0,
): KernelWeight {
  return blockSize === 0
    ? { dense }
    : { sparse: encodeBlockRle(dense, rows, rowLength, blockSize) };
}

export interface ConvSpec {
  variant: "1x1" | "kxk" | "depthwise";
  batch: number;
  h: number;
  w: number;
  c: number;
  o: number;
  k: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
  /** 0: dense weights. */
  blockSize: BlockSize | 0;
  sparsity: number;
  bias: boolean;
}

/** A conv case and the interpreter's output for it. */
export function convCase(
  rng: Rng,
  s: ConvSpec,
  prune: PruneOptions = {},
): { kernelCase: ConvCase; expected: Int8Array } {
  const depthwise = s.variant === "depthwise";
  const cig = depthwise ? 1 : s.c;
  const rowLength = s.k[0] * s.k[1] * cig;
  const dense = randomPrunedWeight(
    rng,
    s.o,
    rowLength,
    s.blockSize || 1,
    s.blockSize ? s.sparsity : 0,
    prune,
  );
  const q = randomQuant(rng, s.o, s.bias, prune.typicalQuant, prune.leftShifts);
  const input = randomInt8(rng, s.batch * s.h * s.w * s.c);
  const hw = computeWindow(s.h, s.k[0], s.strides[0], s.dilations[0], s.padding);
  const ww = computeWindow(s.w, s.k[1], s.strides[1], s.dilations[1], s.padding);
  const op: Conv2dOp = {
    type: "conv2d",
    name: "conv",
    inputs: ["x", "w", "b"],
    outputs: ["y"],
    attrs: {
      strides: s.strides,
      dilations: s.dilations,
      padding: s.padding,
      groups: depthwise ? s.c : 1,
      activation: "none",
    },
    int8: {
      multiplier: [...q.multiplier],
      shift: [...q.shift],
      actMin: q.actMin,
      actMax: q.actMax,
    },
  };
  const ctx: KernelContext<Int8Array | Int32Array, Conv2dOp> = {
    op,
    values: q.bias === undefined ? [input, dense] : [input, dense, q.bias],
    inputs: [
      tensor("x", [s.batch, s.h, s.w, s.c], -q.inputOffset),
      tensor("w", [s.o, s.k[0], s.k[1], cig]),
    ],
    output: tensor("y", [s.batch, hw.out, ww.out, s.o], q.outputOffset),
  };
  const expected = conv2dInt8(ctx);
  return {
    kernelCase: {
      kind: "conv",
      variant: s.variant,
      input,
      inputShape: [s.batch, s.h, s.w, s.c],
      outChannels: s.o,
      kernel: s.k,
      outShape: [hw.out, ww.out],
      strides: s.strides,
      padBefore: [hw.padBefore, ww.padBefore],
      dilations: s.dilations,
      weight: weightOf(dense, s.o, rowLength, s.blockSize),
      ...q,
    },
    expected,
  };
}

export interface LinearSpec {
  rows: number;
  inFeatures: number;
  outFeatures: number;
  blockSize: BlockSize | 0;
  sparsity: number;
  bias: boolean;
}

export function linearCase(
  rng: Rng,
  s: LinearSpec,
  prune: PruneOptions = {},
): { kernelCase: LinearCase; expected: Int8Array } {
  const dense = randomPrunedWeight(
    rng,
    s.outFeatures,
    s.inFeatures,
    s.blockSize || 1,
    s.blockSize ? s.sparsity : 0,
    prune,
  );
  const q = randomQuant(rng, s.outFeatures, s.bias, prune.typicalQuant, prune.leftShifts);
  const input = randomInt8(rng, s.rows * s.inFeatures);
  const op: LinearOp = {
    type: "linear",
    name: "fc",
    inputs: ["x", "w", "b"],
    outputs: ["y"],
    attrs: { activation: "none" },
    int8: {
      multiplier: [...q.multiplier],
      shift: [...q.shift],
      actMin: q.actMin,
      actMax: q.actMax,
    },
  };
  const ctx: KernelContext<Int8Array | Int32Array, LinearOp> = {
    op,
    values: q.bias === undefined ? [input, dense] : [input, dense, q.bias],
    inputs: [
      tensor("x", [s.rows, s.inFeatures], -q.inputOffset),
      tensor("w", [s.outFeatures, s.inFeatures]),
    ],
    output: tensor("y", [s.rows, s.outFeatures], q.outputOffset),
  };
  return {
    kernelCase: {
      kind: "linear",
      rows: s.rows,
      inFeatures: s.inFeatures,
      outFeatures: s.outFeatures,
      input,
      weight: weightOf(dense, s.outFeatures, s.inFeatures, s.blockSize),
      ...q,
    },
    expected: linearInt8(ctx),
  };
}

export interface MatMulSpec {
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeB: boolean;
  /** The output shift; random right shifts of 8 to 16 when not given. */
  shift?: number;
}

export function matmulCase(
  rng: Rng,
  s: MatMulSpec,
): { kernelCase: MatMulCase; expected: Int8Array } {
  const a = randomInt8(rng, s.batch * s.m * s.k);
  const b = randomInt8(rng, s.batch * s.k * s.n);
  const aZp = randInt(rng, -128, 127);
  const bZp = randInt(rng, -128, 127);
  const outZp = randInt(rng, -128, 127);
  const multiplier = randInt(rng, 2 ** 30, 2 ** 31 - 1);
  const shift = s.shift ?? randInt(rng, -16, -8);
  const op: MatMulOp = {
    type: "matmul",
    name: "mm",
    inputs: ["a", "b"],
    outputs: ["y"],
    attrs: { transposeB: s.transposeB, alpha: 1 },
    int8: { multiplier, shift },
  };
  const bShape = s.transposeB ? [s.batch, s.n, s.k] : [s.batch, s.k, s.n];
  const ctx: KernelContext<Int8Array | Int32Array, MatMulOp> = {
    op,
    values: [a, b],
    inputs: [tensor("a", [s.batch, s.m, s.k], aZp), tensor("b", bShape, bZp)],
    output: tensor("y", [s.batch, s.m, s.n], outZp),
  };
  return {
    kernelCase: {
      kind: "matmul",
      batch: s.batch,
      m: s.m,
      k: s.k,
      n: s.n,
      transposeB: s.transposeB,
      a,
      b,
      aOffset: -aZp,
      bOffset: -bZp,
      outputOffset: outZp,
      multiplier,
      shift,
    },
    expected: matmulInt8(ctx),
  };
}

type Made<C> = { kernelCase: C; expected: Int8Array };

/** A same-shape add with random scales, as the quantizer would set it up. */
export function addCase(rng: Rng, size: number): Made<AddCase> {
  const a = randomInt8(rng, size);
  const b = randomInt8(rng, size);
  const [s1, s2, so] = [0.01 + rng() * 0.1, 0.01 + rng() * 0.1, 0.02 + rng() * 0.2];
  const zp = [randInt(rng, -128, 127), randInt(rng, -128, 127), randInt(rng, -128, 127)] as const;
  const actMin = rng() < 0.5 ? -128 : zp[2];
  const int8 = { ...addRequantParams(s1, s2, so), actMin, actMax: 127 };
  const op: AddOp = {
    type: "add",
    name: "add",
    inputs: ["a", "b"],
    outputs: ["y"],
    attrs: { activation: "none" },
    int8,
  };
  const expected = addInt8({
    op,
    values: [a, b],
    inputs: [tensor("a", [size], zp[0]), tensor("b", [size], zp[1])],
    output: tensor("y", [size], zp[2]),
  });
  return {
    kernelCase: {
      kind: "add",
      a,
      b,
      aOffset: -zp[0],
      bOffset: -zp[1],
      outputOffset: zp[2],
      ...int8,
    },
    expected,
  };
}

export function lutCase(rng: Rng, size: number): Made<LutCase> {
  const input = randomInt8(rng, size);
  const table = randomInt8(rng, 256);
  const op: ActivationOp = {
    type: "activation",
    name: "act",
    inputs: ["x", "t"],
    outputs: ["y"],
    attrs: { function: "gelu" },
  };
  const expected = activationInt8({
    op,
    values: [input, table],
    inputs: [tensor("x", [size]), tensor("t", [256])],
    output: tensor("y", [size]),
  });
  return { kernelCase: { kind: "lut", input, table }, expected };
}

export function avgPoolCase(
  rng: Rng,
  s: {
    batch: number;
    h: number;
    w: number;
    c: number;
    pool: [number, number];
    strides: [number, number];
    padding: Padding;
  },
): Made<AvgPoolCase> {
  const input = randomInt8(rng, s.batch * s.h * s.w * s.c);
  const hw = computeWindow(s.h, s.pool[0], s.strides[0], 1, s.padding);
  const ww = computeWindow(s.w, s.pool[1], s.strides[1], 1, s.padding);
  const op: AvgPool2dOp = {
    type: "avg_pool2d",
    name: "pool",
    inputs: ["x"],
    outputs: ["y"],
    attrs: { poolSize: s.pool, strides: s.strides, padding: s.padding },
  };
  const expected = avgPool2dInt8({
    op,
    values: [input],
    inputs: [tensor("x", [s.batch, s.h, s.w, s.c])],
    output: tensor("y", [s.batch, hw.out, ww.out, s.c]),
  });
  return {
    kernelCase: {
      kind: "avgPool",
      input,
      inputShape: [s.batch, s.h, s.w, s.c],
      outShape: [hw.out, ww.out],
      pool: s.pool,
      strides: s.strides,
      padBefore: [hw.padBefore, ww.padBefore],
    },
    expected,
  };
}

export function globalAvgPoolCase(
  rng: Rng,
  s: { batch: number; h: number; w: number; c: number },
): Made<GlobalAvgPoolCase> {
  const input = randomInt8(rng, s.batch * s.h * s.w * s.c);
  const zpIn = randInt(rng, -128, 127);
  const zpOut = randInt(rng, -128, 127);
  const q = quantizeMultiplier((0.5 + rng()) / (s.h * s.w));
  const op: GlobalAvgPoolOp = {
    type: "global_avg_pool",
    name: "gap",
    inputs: ["x"],
    outputs: ["y"],
    attrs: {},
    int8: { multiplier: q.multiplier, shift: q.shift },
  };
  const expected = globalAvgPoolInt8({
    op,
    values: [input],
    inputs: [tensor("x", [s.batch, s.h, s.w, s.c], zpIn)],
    output: tensor("y", [s.batch, s.c], zpOut),
  });
  return {
    kernelCase: {
      kind: "globalAvgPool",
      input,
      inputShape: [s.batch, s.h, s.w, s.c],
      inputOffset: -zpIn,
      outputOffset: zpOut,
      multiplier: q.multiplier,
      shift: q.shift,
    },
    expected,
  };
}

/** Softmax rows with a random input scale (src/int8/softmax.ts is the reference). */
export function softmaxCase(rng: Rng, rows: number, depth: number): Made<SoftmaxCase> {
  const input = randomInt8(rng, rows * depth);
  const params = computeSoftmaxParams(0.005 + rng() * 0.3, pick(rng, [1, 1, 0.5, 2]));
  const expected = new Int8Array(input.length);
  softmaxInt8(input, expected, depth, params);
  return { kernelCase: { kind: "softmax", input, depth, ...params }, expected };
}

/** LayerNorm rows (src/int8/layernorm.ts is the reference). */
export function layerNormCase(rng: Rng, rows: number, channels: number): Made<LayerNormCase> {
  const input = randomInt8(rng, rows * channels);
  // A few constant rows exercise W = epsQ (zero variance).
  if (rows > 1) input.fill(randInt(rng, -128, 127), 0, channels);
  const gamma = randomInt8(rng, channels, -127, 127);
  const beta = Int32Array.from({ length: channels }, () => randInt(rng, -(2 ** 24), 2 ** 24));
  const multiplier = new Int32Array(channels);
  const shift = new Int32Array(channels);
  for (let i = 0; i < channels; i++) {
    const q = quantizeMultiplier((0.2 + rng()) * 2 ** -16 * 40);
    multiplier[i] = q.multiplier;
    shift[i] = q.shift;
  }
  const epsQ = pick(rng, [1, randInt(rng, 1, 10000), 2 ** 40]);
  const outputOffset = randInt(rng, -128, 127);
  const expected = new Int8Array(input.length);
  layerNormInt8(input, expected, {
    epsQ,
    gamma,
    beta,
    outputMultiplier: multiplier,
    outputShift: shift,
    outputZeroPoint: outputOffset,
  });
  return {
    kernelCase: {
      kind: "layerNorm",
      input,
      channels,
      epsQ,
      gamma,
      beta,
      multiplier,
      shift,
      outputOffset,
    },
    expected,
  };
}

export function transposeCase(rng: Rng, shape: number[]): Made<TransposeCase> {
  const n = shape.reduce((a, b) => a * b, 1);
  const input = randomInt8(rng, n);
  const perm = shape.map((_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
  }
  const op: TransposeOp = {
    type: "transpose",
    name: "t",
    inputs: ["x"],
    outputs: ["y"],
    attrs: { perm },
  };
  const expected = transpose<Int8Array>({
    op,
    values: [input],
    inputs: [tensor("x", shape)],
    output: tensor(
      "y",
      perm.map((p) => shape[p] as number),
    ),
  });
  return { kernelCase: { kind: "transpose", input, shape, perm }, expected };
}

export function reshapeCase(rng: Rng, size: number): Made<ReshapeCase> {
  const input = randomInt8(rng, size);
  return { kernelCase: { kind: "reshape", input }, expected: input.slice() };
}

/**
 * How add and mul quantization is drawn: "typical" scales within a factor
 * of about 20 of each other (a product's output scale about the inputs'
 * product times 30..200); "extreme" scales over 2^-12..2^12 (multipliers
 * flushed to 0, large right shifts, left shifts up to 16, exact powers of
 * two), zero points at -128 and 127; both with the clamps of no fused
 * activation, ReLU and ReLU6.
 */
export type ElementwiseQuant = "typical" | "extreme";

interface ElementwiseScales {
  scales: [number, number, number];
  zeroPoints: [number, number, number];
  act: { actMin: number; actMax: number };
}

function elementwiseScales(
  rng: Rng,
  quant: ElementwiseQuant,
  kind: "add" | "mul",
): ElementwiseScales {
  // Extreme: log-uniform (a fifth exact powers of two), inputs in [2^-12, 2^4]
  // and the output in [2^-7, 2^12], so mul multipliers go from flushed to 0
  // to at most 2^15 (left shift 16) and add's from shift -43 (0) to -7.
  const scale = (lo: number, hi: number): number =>
    quant === "typical"
      ? 0.01 + rng() * 0.2
      : rng() < 0.2
        ? 2 ** randInt(rng, lo, hi)
        : 2 ** (lo + rng() * (hi - lo));
  const zp = (): number =>
    quant === "extreme" && rng() < 0.5 ? pick(rng, [-128, 127]) : randInt(rng, -128, 127);
  const scales: [number, number, number] = [scale(-12, 4), scale(-12, 4), scale(-7, 12)];
  // A typical product's output range is about that of the inputs' product.
  if (quant === "typical" && kind === "mul") scales[2] = scales[0] * scales[1] * (30 + rng() * 170);
  const zeroPoints: [number, number, number] = [zp(), zp(), zp()];
  // activationRange (src/quantize/quant-params.ts): none, relu, relu6.
  const zOut = zeroPoints[2];
  const six = zOut + Math.round(6 / scales[2]);
  const act = pick(rng, [
    { actMin: -128, actMax: 127 },
    { actMin: -128, actMax: 127 },
    { actMin: Math.max(-128, zOut), actMax: 127 },
    { actMin: Math.max(-128, zOut), actMax: Math.max(Math.max(-128, zOut), Math.min(127, six)) },
  ]);
  return { scales, zeroPoints, act };
}

/** add.int8 as the quantizer derives it (src/quantize/quant-params.ts). */
function addParams(s: ElementwiseScales): NonNullable<AddOp["int8"]> {
  const [s1, s2, so] = s.scales;
  return { ...addRequantParams(s1, s2, so), ...s.act };
}

/** mul.int8 as the quantizer derives it. */
function mulParams(s: ElementwiseScales): NonNullable<MulOp["int8"]> {
  const [s1, s2, so] = s.scales;
  const q = quantizeMultiplier((s1 * s2) / so);
  return { multiplier: q.multiplier, shift: q.shift, ...s.act };
}

/** A same-shape mul (tf_mul_s8). */
export function mulCase(rng: Rng, size: number, quant: ElementwiseQuant): Made<MulCase> {
  const a = randomInt8(rng, size);
  const b = randomInt8(rng, size);
  const s = elementwiseScales(rng, quant, "mul");
  const int8 = mulParams(s);
  const zp = s.zeroPoints;
  const op: MulOp = {
    type: "mul",
    name: "mul",
    inputs: ["a", "b"],
    outputs: ["y"],
    attrs: { activation: "none" },
    int8,
  };
  const expected = mulInt8({
    op,
    values: [a, b],
    inputs: [tensor("a", [size], zp[0]), tensor("b", [size], zp[1])],
    output: tensor("y", [size], zp[2]),
  });
  return {
    kernelCase: {
      kind: "mul",
      a,
      b,
      aOffset: -zp[0],
      bOffset: -zp[1],
      outputOffset: zp[2],
      ...int8,
    },
    expected,
  };
}

/**
 * add or mul of an `aShape` and a `bShape` tensor with NumPy broadcasting
 * (tf_add_broadcast_s8 / tf_mul_broadcast_s8), the strides as codegen
 * computes them (broadcastStrides).
 */
export function broadcastCase(
  rng: Rng,
  kind: "add" | "mul",
  aShape: number[],
  bShape: number[],
  quant: ElementwiseQuant,
): Made<BroadcastCase> {
  const outputShape = broadcastShapes(aShape, bShape);
  const a = randomInt8(rng, product(aShape));
  const b = randomInt8(rng, product(bShape));
  const s = elementwiseScales(rng, quant, kind);
  const zp = s.zeroPoints;
  const inputs = [tensor("a", aShape, zp[0]), tensor("b", bShape, zp[1])];
  const output = tensor("y", outputShape, zp[2]);
  const base = { name: kind, inputs: ["a", "b"], outputs: ["y"] };
  const attrs = { activation: "none" } as const;
  let expected: Int8Array;
  let params: BroadcastCase["params"];
  if (kind === "add") {
    const int8 = addParams(s);
    const op: AddOp = { ...base, type: "add", attrs, int8 };
    expected = addInt8({ op, values: [a, b], inputs, output });
    params = { op: "add", add: int8 };
  } else {
    const int8 = mulParams(s);
    const op: MulOp = { ...base, type: "mul", attrs, int8 };
    expected = mulInt8({ op, values: [a, b], inputs, output });
    params = { op: "mul", mul: int8 };
  }
  return {
    kernelCase: {
      kind: "broadcast",
      a,
      b,
      outputShape,
      strides1: broadcastStrides(aShape, outputShape),
      strides2: broadcastStrides(bShape, outputShape),
      aOffset: -zp[0],
      bOffset: -zp[1],
      outputOffset: zp[2],
      params,
    },
    expected,
  };
}

/**
 * Concatenation of `shapes` along `axis` (tf_concat_s8). `requantize[i]`
 * false: input i shares the output's quantization (copied); true: its own
 * scale and zero point, requantized with the quantizer's multiplier (a scale
 * ratio within 2^-10..2^10, now and then exactly 1 with another zero point).
 */
export function concatCase(
  rng: Rng,
  shapes: number[][],
  axis: number,
  requantize: boolean[],
): Made<ConcatCase> {
  const rank = shapes[0]?.length ?? 1;
  const outShape = (shapes[0] ?? []).map((d, i) =>
    i === axis ? shapes.reduce((s, sh) => s + (sh[i] ?? 0), 0) : d,
  );
  const outer = product(outShape.slice(0, axis));
  const inner = product(outShape.slice(axis + 1));
  const sOut = 2 ** (rng() * 8 - 10);
  const zOut = randInt(rng, -128, 127);
  const inputs: TensorIR[] = [];
  const values: Int8Array[] = [];
  const entries: Array<{ multiplier: number; shift: number } | null> = [];
  const parts: ConcatCase["parts"] = [];
  for (const [i, shape] of shapes.entries()) {
    const input = randomInt8(rng, product(shape));
    values.push(input);
    const width = (shape[axis] ?? 1) * inner;
    if (!requantize[i]) {
      inputs.push({ ...tensor(`x${i}`, shape, zOut), quant: { scale: [sOut], zeroPoint: [zOut] } });
      entries.push(null);
      parts.push({ input, width, requant: null });
      continue;
    }
    const ratio =
      rng() < 0.2 ? 1 : rng() < 0.2 ? 2 ** randInt(rng, -10, 10) : 2 ** (rng() * 20 - 10);
    const zIn = rng() < 0.2 ? pick(rng, [-128, 127]) : randInt(rng, -128, 127);
    const q = quantizeMultiplier(ratio);
    inputs.push({
      ...tensor(`x${i}`, shape, zIn),
      quant: { scale: [sOut * ratio], zeroPoint: [zIn] },
    });
    entries.push({ multiplier: q.multiplier, shift: q.shift });
    parts.push({ input, width, requant: { inputOffset: -zIn, ...q } });
  }
  const op: ConcatOp = {
    type: "concat",
    name: "cat",
    inputs: inputs.map((t) => t.name),
    outputs: ["y"],
    attrs: { axis: axis === rank - 1 && rng() < 0.5 ? -1 : axis },
    int8: { inputs: entries },
  };
  const expected = concatInt8({
    op,
    values,
    inputs,
    output: tensor("y", outShape, zOut),
  }) as Int8Array;
  return { kernelCase: { kind: "concat", outer, parts, outputOffset: zOut }, expected };
}

/**
 * MobileViT unfold of a [b, h, w, c] image into patches of `patch`, or the
 * fold of such patches back into the image (tf_unfold_s8 / tf_fold_s8).
 */
export function patchCase(
  rng: Rng,
  variant: "unfold" | "fold",
  imageDims: [number, number, number, number],
  patch: [number, number],
): Made<PatchCase> {
  const [b, h, w, c] = imageDims;
  const [ph, pw] = patch;
  const input = randomInt8(rng, b * h * w * c);
  const image = [b, h, w, c];
  const patched = [b * ph * pw, (h / ph) * (w / pw), c];
  const base = { name: variant, inputs: ["x"], outputs: ["y"] };
  let expected: Int8Array;
  if (variant === "unfold") {
    const op: UnfoldOp = { ...base, type: "unfold", attrs: { patchSize: patch } };
    expected = unfold<Int8Array>({
      op,
      values: [input],
      inputs: [tensor("x", image)],
      output: tensor("y", patched),
    });
  } else {
    const op: FoldOp = { ...base, type: "fold", attrs: { patchSize: patch, height: h, width: w } };
    expected = fold<Int8Array>({
      op,
      values: [input],
      inputs: [tensor("x", patched)],
      output: tensor("y", image),
    });
  }
  return { kernelCase: { kind: "patches", variant, input, imageDims, patch }, expected };
}
