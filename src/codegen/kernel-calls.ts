/**
 * The kernel calls codegen emits: one typed parameter set per SparseEngine
 * kernel family, what a selected layer carries, and the error for an op with
 * no kernel. Selection (select-kernels.ts) fills them; rendering, memory
 * planning and the resource evaluator read them.
 */
import type { AddOp, MulOp, OpIR, SoftmaxOp } from "../model-ir/types.js";
import type { KernelChoice } from "../sparse-engine/cost-model.js";
import type { PackedSparseWeight } from "../sparse-engine/pack-weights.js";
/**
 * How block-RLE weights are run: as the cost model estimates cheaper, or
 * always sparse / always dense (tests and benchmarks that need one path).
 */
export type WeightPolicy = "cost-model" | "sparse" | "dense";

/** A kernel of templates/c/kernels: the C function is `tf_<variant>`, its file `tf_<variant>.c`. */
export type { KernelVariant } from "../sparse-engine/kernel-variants.js";

/** A weight as the kernel takes it. */
export type KernelWeight =
  | { kind: "dense"; values: Int8Array }
  | { kind: "sparse"; packed: PackedSparseWeight };

/** Output requantization shared by conv and linear. */
export interface ChannelQuant {
  inputOffset: number;
  outputOffset: number;
  actMin: number;
  actMax: number;
  multiplier: Int32Array;
  shift: Int32Array;
}

export interface ConvCall {
  kind: "conv";
  variant:
    | "conv_1x1_s8"
    | "conv_1x1_sparse_s8"
    | "conv_kxk_s8"
    | "conv_kxk_sparse_s8"
    | "depthwise_conv_s8";
  /** N, H, W, C of the input; N, H_out, W_out, O of the output; O, KH, KW, I/groups. */
  inputDims: [number, number, number, number];
  outputDims: [number, number, number, number];
  filterDims: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  /** Rows above and columns left of the input read as the input zero point. */
  pad: [number, number];
  quant: ChannelQuant;
  weight: KernelWeight;
  bias: Int32Array | undefined;
}

export interface LinearCall {
  kind: "linear";
  variant: "linear_s8" | "linear_sparse_s8";
  rows: number;
  inFeatures: number;
  outFeatures: number;
  quant: ChannelQuant;
  weight: KernelWeight;
  bias: Int32Array | undefined;
}

export interface MatMulCall {
  kind: "matmul";
  variant: "batch_matmul_s8";
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeB: boolean;
  aOffset: number;
  bOffset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
}

export interface AddCall {
  kind: "add";
  variant: "add_s8";
  size: number;
  input1Offset: number;
  input2Offset: number;
  outputOffset: number;
  params: NonNullable<AddOp["int8"]>;
}

export interface MulCall {
  kind: "mul";
  variant: "mul_s8";
  size: number;
  input1Offset: number;
  input2Offset: number;
  outputOffset: number;
  params: NonNullable<MulOp["int8"]>;
}

/** add / mul with NumPy broadcasting, walked with per-input strides (0 = broadcast). */
export interface BroadcastCall {
  kind: "broadcast";
  variant: "add_broadcast_s8" | "mul_broadcast_s8";
  outputShape: number[];
  strides1: number[];
  strides2: number[];
  input1Offset: number;
  input2Offset: number;
  outputOffset: number;
  params:
    | { op: "add"; add: NonNullable<AddOp["int8"]> }
    | { op: "mul"; mul: NonNullable<MulOp["int8"]> };
}

export interface LutCall {
  kind: "lut";
  variant: "lut_s8";
  size: number;
  table: Int8Array;
}

export interface AvgPoolCall {
  kind: "avgPool";
  variant: "avg_pool_s8";
  pool: [number, number];
  strides: [number, number];
  pad: [number, number];
  inputDims: [number, number, number, number];
  outputDims: [number, number, number, number];
}

export interface GlobalAvgPoolCall {
  kind: "globalAvgPool";
  variant: "global_avg_pool_s8";
  inputDims: [number, number, number, number];
  inputOffset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
}

export interface SoftmaxCall {
  kind: "softmax";
  variant: "softmax_s8";
  rows: number;
  depth: number;
  params: NonNullable<SoftmaxOp["int8"]>;
}

export interface LayerNormCall {
  kind: "layerNorm";
  variant: "layernorm_s8";
  rows: number;
  channels: number;
  epsQ: number;
  gamma: Int8Array;
  beta: Int32Array;
  multiplier: Int32Array;
  shift: Int32Array;
  outputOffset: number;
}

export interface TransposeCall {
  kind: "transpose";
  variant: "transpose_s8";
  shape: number[];
  perm: number[];
}

export interface ReshapeCall {
  kind: "reshape";
  variant: "reshape_s8";
  size: number;
}

/** unfold and fold ([B, H, W, C] <-> [B*ph*pw, (H/ph)*(W/pw), C]). */
export interface PatchCall {
  kind: "patches";
  variant: "unfold_s8" | "fold_s8";
  /** B, H, W, C of the image side. */
  imageDims: [number, number, number, number];
  patch: [number, number];
}

export interface ConcatCall {
  kind: "concat";
  variant: "concat_s8";
  /** Product of the dimensions before the axis. */
  outer: number;
  /** Per input: its extent along the axis times the inner size, and its requantization. */
  parts: Array<{
    width: number;
    requant: { inputOffset: number; multiplier: number; shift: number } | null;
  }>;
  outputOffset: number;
}

export type KernelCall =
  | ConvCall
  | LinearCall
  | MatMulCall
  | AddCall
  | MulCall
  | BroadcastCall
  | LutCall
  | AvgPoolCall
  | GlobalAvgPoolCall
  | SoftmaxCall
  | LayerNormCall
  | TransposeCall
  | ReshapeCall
  | PatchCall
  | ConcatCall;

/** One op of the model with its kernel call. */
export interface SelectedLayer {
  /** Position in the op order (the memory planner's time). */
  index: number;
  op: OpIR;
  /** Activation tensors the call reads, in argument order (constants excluded). */
  inputs: string[];
  output: string;
  /** Bytes of the output tensor. */
  outputBytes: number;
  /** The input the kernel may overwrite with its output (element-wise ops). */
  inPlaceOf?: string;
  /** Scratch the kernel needs (its `*_get_buffer_size`), 0 for none. */
  scratchBytes: number;
  call: KernelCall;
  /** Multiply-accumulates of the dense computation. */
  macs: number;
  /** Bytes of weight data emitted for this layer (dense array or packed stream). */
  weightBytes: number;
  /** The cost model's estimates, for weighted layers (when a table was given). */
  cost?: KernelChoice;
}

/** An op SparseEngine has no kernel for; the message names the op and the layer. */
export class UnsupportedOpError extends Error {
  constructor(
    readonly op: OpIR,
    readonly reason: string,
  ) {
    super(`codegen: no SparseEngine kernel for ${op.type} "${op.name}": ${reason}`);
    this.name = "UnsupportedOpError";
  }
}
