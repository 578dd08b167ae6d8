/**
 * TinyFormer model IR: the contract between the ML side (training, pruning,
 * quantization) and SparseEngine (C code generation). A model is a JSON graph
 * (`ModelGraph`, validated by schemas/model-ir.schema.json) plus one binary
 * blob holding every constant tensor. docs/model-ir.md specifies the exact
 * semantics of each op in float32 and in int8.
 *
 * The same IR carries both precisions:
 * - a *float* model (`precision: "float32"`): float32 activations and
 *   weights, no quantization parameters; pruned weights are exact zeros and
 *   the weight tensor names the block size the search chose (`sparsity`);
 * - an *int8* model (`precision: "int8"`): int8 activations with per-tensor
 *   asymmetric quantization, int8 per-channel symmetric weights (sparse ones
 *   block-run-length encoded), int32 biases, and every op's integer
 *   parameters (multipliers, shifts, tables) precomputed so that no consumer
 *   has to redo float math.
 */
import type { ActivationFunction } from "../int8/lut.js";

export type { ActivationFunction };

/** Identifies the JSON document; bumped on incompatible change. */
export const MODEL_IR_FORMAT = "tinyformer-model-ir";
export const MODEL_IR_VERSION = 1;

export type DType = "float32" | "int8" | "int32";
export type Precision = "float32" | "int8";
/** Weights per sparse block along the reduction axis. */
export type BlockSize = 1 | 4 | 8 | 16;
export const BLOCK_SIZES: readonly BlockSize[] = [1, 4, 8, 16];

/** Affine quantization: real = scale * (q - zeroPoint). */
export interface QuantParams {
  /** One scale per tensor, or one per channel along `axis`. */
  scale: number[];
  /** Same length as `scale`; 0 for symmetric weights. */
  zeroPoint: number[];
  /** Channel axis of per-channel parameters (0 for weights). */
  axis?: number;
}

/** A byte range in the model blob. */
export interface BlobRange {
  /** Byte offset, aligned to 16 so typed-array views need no copy. */
  offset: number;
  byteLength: number;
}

/** A constant stored as a plain little-endian row-major array. */
export interface DenseData extends BlobRange {
  encoding: "dense";
}

/**
 * A pruned int8 weight stored blockwise (see sparse-encoding.ts). Rows are
 * output channels; a row of `rowLength` weights is `rowLength / blockSize`
 * blocks; only non-zero blocks are stored.
 */
export interface BlockRleData {
  encoding: "block-rle";
  blockSize: BlockSize;
  /** Width of one run-length entry; the narrowest that fits the largest gap. */
  runType: "uint8" | "uint16";
  /** Total stored blocks over all rows. */
  nonZeroBlocks: number;
  /** int8 weights of the stored blocks, `nonZeroBlocks * blockSize` bytes. */
  values: BlobRange;
  /** One entry per stored block: zero blocks skipped before it in its row. */
  runs: BlobRange;
  /** uint16 per row: how many stored blocks the row has. */
  rowBlockCounts: BlobRange;
}

export type TensorData = DenseData | BlockRleData;

export interface TensorIR {
  /** Unique within the graph; ops refer to tensors by name. */
  name: string;
  /** Row-major shape; activations are NHWC or [batch, tokens, channels]. */
  shape: number[];
  dtype: DType;
  /** Present on every int8 / int32 tensor of an int8 model. */
  quant?: QuantParams;
  /** Present on constants (weights, biases, tables), absent on activations. */
  data?: TensorData;
  /**
   * Float models only: the block size the pruning used for this weight. The
   * quantizer encodes the weight as `block-rle` with this block size.
   */
  sparsity?: { blockSize: BlockSize };
}

/** Activation clamp fused into conv2d / linear / add / mul. */
export type FusedActivation = "none" | "relu" | "relu6";
export type Padding = "same" | "valid";

/** Requantization of an int32 accumulator: per-channel or single-entry arrays. */
export interface RequantParams {
  multiplier: number[];
  shift: number[];
  /** Output clamp after adding the output zero point (fused activation). */
  actMin: number;
  actMax: number;
}

interface OpBase {
  /** Unique, human-readable; the C generator uses it in comments. */
  name: string;
  inputs: string[];
  outputs: string[];
}

export interface Conv2dOp extends OpBase {
  type: "conv2d";
  /** inputs: [x NHWC, weight OHWI (O, KH, KW, I/groups), bias [O] (optional)]. */
  attrs: {
    strides: [number, number];
    dilations: [number, number];
    padding: Padding;
    /** 1 = dense conv; I = depthwise (with O = I * multiplier); else grouped. */
    groups: number;
    activation: FusedActivation;
  };
  int8?: RequantParams;
}

export interface LinearOp extends OpBase {
  type: "linear";
  /** inputs: [x [..., I], weight [O, I], bias [O] (optional)]. */
  attrs: { activation: FusedActivation };
  int8?: RequantParams;
}

export interface MatMulOp extends OpBase {
  type: "matmul";
  /** inputs: [a [..., M, K], b [..., K, N] or [..., N, K] when transposeB]. */
  attrs: {
    transposeB: boolean;
    /** Real scale applied to the product (attention's 1/sqrt(d)). */
    alpha: number;
  };
  int8?: { multiplier: number; shift: number };
}

export interface AddOp extends OpBase {
  type: "add";
  attrs: { activation: FusedActivation };
  /** TFLite int8 ADD parameters (left shift 20). */
  int8?: {
    leftShift: number;
    input1Multiplier: number;
    input1Shift: number;
    input2Multiplier: number;
    input2Shift: number;
    outputMultiplier: number;
    outputShift: number;
    actMin: number;
    actMax: number;
  };
}

export interface MulOp extends OpBase {
  type: "mul";
  attrs: { activation: FusedActivation };
  int8?: { multiplier: number; shift: number; actMin: number; actMax: number };
}

export interface AvgPool2dOp extends OpBase {
  type: "avg_pool2d";
  /** Output quantization equals input quantization in int8. */
  attrs: { poolSize: [number, number]; strides: [number, number]; padding: Padding };
}

export interface GlobalAvgPoolOp extends OpBase {
  type: "global_avg_pool";
  /** [N, H, W, C] -> [N, C]. */
  attrs: Record<string, never>;
  /** Multiplier of s_in / (s_out * H * W). */
  int8?: { multiplier: number; shift: number };
}

export interface LayerNormOp extends OpBase {
  type: "layer_norm";
  /** inputs: [x [..., C], gamma [C], beta [C]]; normalises the last axis. */
  attrs: { epsilon: number };
  /** See src/int8/layernorm.ts; gamma is int8, beta int32 tensors. */
  int8?: { epsQ: number; multiplier: number[]; shift: number[] };
}

export interface SoftmaxOp extends OpBase {
  type: "softmax";
  /** Over the last axis; output quantization is fixed at (1/256, -128). */
  attrs: { beta: number };
  int8?: { inputMultiplier: number; inputLeftShift: number; diffMin: number };
}

export interface ActivationOp extends OpBase {
  type: "activation";
  /** int8 inputs: [x, table int8[256] in (uint8_t)x order]. */
  attrs: { function: ActivationFunction };
}

export interface ReshapeOp extends OpBase {
  type: "reshape";
  attrs: { shape: number[] };
}

export interface TransposeOp extends OpBase {
  type: "transpose";
  attrs: { perm: number[] };
}

export interface UnfoldOp extends OpBase {
  type: "unfold";
  /** MobileViT unfold: [B, H, W, C] -> [B * ph * pw, (H/ph) * (W/pw), C]. */
  attrs: { patchSize: [number, number] };
}

export interface FoldOp extends OpBase {
  type: "fold";
  /** Inverse of unfold: [B * ph * pw, (H/ph) * (W/pw), C] -> [B, H, W, C]. */
  attrs: { patchSize: [number, number]; height: number; width: number };
}

export interface ConcatOp extends OpBase {
  type: "concat";
  attrs: { axis: number };
  /** Per input: null = same quantization as the output (copy), else requantize. */
  int8?: { inputs: Array<{ multiplier: number; shift: number } | null> };
}

export type OpIR =
  | Conv2dOp
  | LinearOp
  | MatMulOp
  | AddOp
  | MulOp
  | AvgPool2dOp
  | GlobalAvgPoolOp
  | LayerNormOp
  | SoftmaxOp
  | ActivationOp
  | ReshapeOp
  | TransposeOp
  | UnfoldOp
  | FoldOp
  | ConcatOp;

export type OpType = OpIR["type"];

export const OP_TYPES: readonly OpType[] = [
  "conv2d",
  "linear",
  "matmul",
  "add",
  "mul",
  "avg_pool2d",
  "global_avg_pool",
  "layer_norm",
  "softmax",
  "activation",
  "reshape",
  "transpose",
  "unfold",
  "fold",
  "concat",
];

/** The JSON document. */
export interface ModelGraph {
  format: typeof MODEL_IR_FORMAT;
  version: typeof MODEL_IR_VERSION;
  name: string;
  precision: Precision;
  /** Graph inputs (activations without data), in call order. */
  inputs: string[];
  outputs: string[];
  tensors: TensorIR[];
  /** Topologically ordered: every op's inputs are graph inputs, constants or earlier outputs. */
  ops: OpIR[];
  /** Size and SHA-256 (hex) of the blob, checked on load. */
  blob: { byteLength: number; sha256: string };
}

/** A graph with its weight blob, as held in memory. */
export interface Model {
  graph: ModelGraph;
  blob: Uint8Array;
}
