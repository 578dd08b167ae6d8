/**
 * Kernel selection: maps every op of an int8 model to one SparseEngine kernel
 * call with typed parameters (the dispatcher; CMSIS-NN's
 * `arm_convolve_wrapper_s8` plays the same role). Rendering never decides
 * anything: it only prints the calls chosen here.
 *
 * - conv2d: depthwise when `groups` equals the input channels and the weight
 *   has one input channel per group; 1x1 when the kernel is 1x1 and nothing
 *   is padded; KxK otherwise. Grouped convs other than depthwise have no
 *   kernel and fail with `UnsupportedOpError`.
 * - conv2d / linear with a block-RLE weight: dense or sparse as the cost
 *   model (`chooseWeightedKernel`) estimates cheaper (its estimate depends on
 *   the layer's requantization path, which the multipliers and clamp
 *   decide); a dense kernel gets the decoded weight. Depthwise weights are
 *   always dense.
 * - add / mul: the element-wise kernel for equal shapes, the broadcasting
 *   one (per-input strides, 0 along broadcast dimensions) otherwise.
 * - every other op maps to its one kernel; parameters come from the IR's
 *   int8 fields and the tensors' zero points (offset = -zero point).
 */
import { readBlockRle, readTensorData } from "../model-ir/blob.js";
import { computeWindow, product } from "../model-ir/shapes.js";
import { storedRowCount } from "../model-ir/sparse-encoding.js";
import type {
  ActivationOp,
  AddOp,
  AvgPool2dOp,
  ConcatOp,
  Conv2dOp,
  FoldOp,
  GlobalAvgPoolOp,
  LayerNormOp,
  LinearOp,
  MatMulOp,
  Model,
  MulOp,
  OpIR,
  RequantParams,
  SoftmaxOp,
  TensorIR,
  TransposeOp,
  UnfoldOp,
} from "../model-ir/types.js";
import {
  type CostModelTable,
  chooseWeightedKernel,
  type KernelChoice,
  WEIGHTED_VARIANTS,
  type WeightedLayer,
} from "../sparse-engine/cost-model.js";
import { channelRequantStats } from "../sparse-engine/kernel-work.js";
import { type PackedSparseWeight, packSparseWeight } from "../sparse-engine/pack-weights.js";
import {
  batchMatmulScratchBytes,
  conv1x1ScratchBytes,
  convKxKScratchBytes,
  depthwiseScratchBytes,
  linearScratchBytes,
  softmaxScratchBytes,
} from "../sparse-engine/scratch-sizes.js";

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

interface Lookup {
  model: Model;
  tensors: Map<string, TensorIR>;
  costModel: CostModelTable | undefined;
  policy: WeightPolicy;
}

/**
 * How block-RLE weights are run: as the cost model estimates cheaper, or
 * always sparse / always dense (tests and benchmarks that need one path).
 */
export type WeightPolicy = "cost-model" | "sparse" | "dense";

function tensorOf(l: Lookup, name: string): TensorIR {
  const t = l.tensors.get(name);
  if (t === undefined) throw new Error(`codegen: tensor ${name} is not declared`);
  return t;
}

function zeroPoint(t: TensorIR): number {
  return t.quant?.zeroPoint[0] ?? 0;
}

function constInt8(l: Lookup, name: string): Int8Array {
  const v = readTensorData(l.model, tensorOf(l, name));
  if (!(v instanceof Int8Array)) throw new Error(`codegen: constant ${name} is not int8`);
  return v;
}

function constInt32(l: Lookup, name: string): Int32Array {
  const v = readTensorData(l.model, tensorOf(l, name));
  if (!(v instanceof Int32Array)) throw new Error(`codegen: constant ${name} is not int32`);
  return v;
}

function isActivation(l: Lookup, name: string): boolean {
  return tensorOf(l, name).data === undefined;
}

function requireInt8<P>(op: OpIR & { int8?: P }): P {
  if (op.int8 === undefined)
    throw new Error(`codegen: ${op.type} "${op.name}" has no int8 parameters`);
  return op.int8;
}

function dims4(shape: readonly number[], what: string, op: OpIR): [number, number, number, number] {
  const [n, h, w, c] = shape;
  if (
    shape.length !== 4 ||
    n === undefined ||
    h === undefined ||
    w === undefined ||
    c === undefined
  )
    throw new UnsupportedOpError(op, `${what} must be rank 4 (NHWC), got [${shape.join(", ")}]`);
  return [n, h, w, c];
}

function channelQuant(
  p: RequantParams,
  input: TensorIR,
  output: TensorIR,
  channels: number,
): ChannelQuant {
  const widen = (xs: number[]) =>
    xs.length === channels ? Int32Array.from(xs) : new Int32Array(channels).fill(xs[0] ?? 0);
  return {
    inputOffset: -zeroPoint(input),
    outputOffset: zeroPoint(output),
    actMin: p.actMin,
    actMax: p.actMax,
    multiplier: widen(p.multiplier),
    shift: widen(p.shift),
  };
}

/** The weight as a kernel takes it, dense or sparse as the cost model (or the policy) says. */
function chooseWeight(
  l: Lookup,
  name: string,
  geometry: Omit<WeightedLayer, "sparse">,
): { weight: KernelWeight; choice: KernelChoice | undefined } {
  const t = tensorOf(l, name);
  const enc = t.data?.encoding === "block-rle" ? readBlockRle(l.model, t) : undefined;
  const layer: WeightedLayer = {
    ...geometry,
    ...(enc === undefined
      ? {}
      : {
          sparse: {
            storedBlocks: enc.runs.length,
            blockSize: enc.blockSize,
            storedRows: storedRowCount(enc),
          },
        }),
  };
  const choice = l.costModel === undefined ? undefined : chooseWeightedKernel(l.costModel, layer);
  const sparse =
    enc !== undefined &&
    (l.policy === "sparse" ||
      (l.policy === "cost-model" && choice?.kernel === WEIGHTED_VARIANTS[layer.family].sparse));
  if (sparse) return { weight: { kind: "sparse", packed: packSparseWeight(enc) }, choice };
  return { weight: { kind: "dense", values: constInt8(l, name) }, choice };
}

function weightBytes(w: KernelWeight): number {
  return w.kind === "dense" ? w.values.length : w.packed.stream.length;
}

/** What a selector decides; selectKernels adds the op's position and output. */
type LayerSelection = Omit<SelectedLayer, "index" | "op" | "output" | "outputBytes">;

function selectConv(l: Lookup, op: Conv2dOp): LayerSelection {
  const [xName = "", wName = "", bName] = op.inputs;
  const x = tensorOf(l, xName);
  const y = tensorOf(l, op.outputs[0] ?? "");
  const w = tensorOf(l, wName);
  const inputDims = dims4(x.shape, "input", op);
  const outputDims = dims4(y.shape, "output", op);
  const filterDims = dims4(w.shape, "weight", op);
  const [, , , cin] = inputDims;
  const [o, kh, kw, wi] = filterDims;
  const a = op.attrs;
  const depthwise = a.groups === cin && wi === 1 && a.groups > 1;
  if (a.groups !== 1 && !depthwise)
    throw new UnsupportedOpError(
      op,
      `grouped convolution with ${a.groups} groups (only depthwise and dense convs have kernels)`,
    );
  const hw = computeWindow(inputDims[1], kh, a.strides[0], a.dilations[0], a.padding);
  const ww = computeWindow(inputDims[2], kw, a.strides[1], a.dilations[1], a.padding);
  const pad: [number, number] = [hw.padBefore, ww.padBefore];
  const quant = channelQuant(requireInt8(op), x, y, o);
  const bias = bName === undefined ? undefined : constInt32(l, bName);
  const pixels = outputDims[0] * outputDims[1] * outputDims[2];
  const rowLength = kh * kw * wi;
  const macs = pixels * o * rowLength;
  const common = {
    inputDims,
    outputDims,
    filterDims,
    strides: a.strides,
    dilations: a.dilations,
    pad,
    quant,
    bias,
  };
  if (depthwise) {
    const weight: KernelWeight = { kind: "dense", values: constInt8(l, wName) };
    return {
      inputs: [xName],
      scratchBytes: depthwiseScratchBytes(kh, kw, o),
      call: { kind: "conv", variant: "depthwise_conv_s8", ...common, weight },
      macs,
      weightBytes: weightBytes(weight),
    };
  }
  const oneByOne = kh === 1 && kw === 1 && pad[0] === 0 && pad[1] === 0;
  const { weight, choice } = chooseWeight(l, wName, {
    family: oneByOne ? "conv1x1" : "convKxK",
    pixels,
    outChannels: o,
    rowLength,
    ...(oneByOne ? {} : { im2colTaps: kh * kw }),
    requant: channelRequantStats(quant),
  });
  const sparse = weight.kind === "sparse";
  const variant = oneByOne
    ? sparse
      ? "conv_1x1_sparse_s8"
      : "conv_1x1_s8"
    : sparse
      ? "conv_kxk_sparse_s8"
      : "conv_kxk_s8";
  return {
    inputs: [xName],
    scratchBytes: oneByOne ? conv1x1ScratchBytes(cin, o) : convKxKScratchBytes(kh, kw, cin, o),
    call: { kind: "conv", variant, ...common, weight },
    macs,
    weightBytes: weightBytes(weight),
    ...(choice === undefined ? {} : { cost: choice }),
  };
}

function selectLinear(l: Lookup, op: LinearOp): LayerSelection {
  const [xName = "", wName = "", bName] = op.inputs;
  const x = tensorOf(l, xName);
  const y = tensorOf(l, op.outputs[0] ?? "");
  const [outFeatures = 0, inFeatures = 0] = tensorOf(l, wName).shape;
  const rows = product(x.shape) / inFeatures;
  const quant = channelQuant(requireInt8(op), x, y, outFeatures);
  const { weight, choice } = chooseWeight(l, wName, {
    family: "linear",
    pixels: rows,
    outChannels: outFeatures,
    rowLength: inFeatures,
    requant: channelRequantStats(quant),
  });
  return {
    inputs: [xName],
    scratchBytes: linearScratchBytes(inFeatures, outFeatures),
    call: {
      kind: "linear",
      variant: weight.kind === "sparse" ? "linear_sparse_s8" : "linear_s8",
      rows,
      inFeatures,
      outFeatures,
      quant,
      weight,
      bias: bName === undefined ? undefined : constInt32(l, bName),
    },
    macs: rows * inFeatures * outFeatures,
    weightBytes: weightBytes(weight),
    ...(choice === undefined ? {} : { cost: choice }),
  };
}

function selectMatMul(l: Lookup, op: MatMulOp): LayerSelection {
  const [aName = "", bName = ""] = op.inputs;
  const a = tensorOf(l, aName);
  const b = tensorOf(l, bName);
  const m = a.shape[a.shape.length - 2] ?? 0;
  const k = a.shape[a.shape.length - 1] ?? 0;
  const t = op.attrs.transposeB;
  const n = (t ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]) ?? 0;
  const batch = product(a.shape.slice(0, -2));
  if (product(b.shape) !== batch * k * n)
    throw new UnsupportedOpError(op, "the batch dimensions of a and b differ (broadcast matmul)");
  if (!isActivation(l, aName) || !isActivation(l, bName))
    throw new UnsupportedOpError(op, "a constant operand (use linear for weights)");
  const p = requireInt8(op);
  return {
    inputs: [aName, bName],
    scratchBytes: batchMatmulScratchBytes(k, n, t),
    call: {
      kind: "matmul",
      variant: "batch_matmul_s8",
      batch,
      m,
      k,
      n,
      transposeB: t,
      aOffset: -zeroPoint(a),
      bOffset: -zeroPoint(b),
      outputOffset: zeroPoint(tensorOf(l, op.outputs[0] ?? "")),
      multiplier: p.multiplier,
      shift: p.shift,
    },
    macs: batch * m * n * k,
    weightBytes: 0,
  };
}

/**
 * Row-major strides of `shape` aligned to the right of `outShape`, 0 along
 * the dimensions it broadcasts (size 1 or missing).
 */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const strides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const n = padded[d] ?? 1;
    strides[d] = n === 1 ? 0 : acc;
    acc *= n;
  }
  return strides;
}

/** The input an element-wise op may overwrite: the first one of the output's size. */
function inPlaceInput(l: Lookup, inputs: readonly string[], outBytes: number): string | undefined {
  return inputs.find(
    (name) => isActivation(l, name) && product(tensorOf(l, name).shape) === outBytes,
  );
}

function selectBinary(l: Lookup, op: AddOp | MulOp): LayerSelection {
  const [aName = "", bName = ""] = op.inputs;
  const a = tensorOf(l, aName);
  const b = tensorOf(l, bName);
  if (!isActivation(l, aName) || !isActivation(l, bName))
    throw new UnsupportedOpError(op, "a constant operand");
  const outputShape = tensorOf(l, op.outputs[0] ?? "").shape;
  const size = product(outputShape);
  const common = {
    input1Offset: -zeroPoint(a),
    input2Offset: -zeroPoint(b),
    outputOffset: zeroPoint(tensorOf(l, op.outputs[0] ?? "")),
  };
  let call: KernelCall;
  if (a.shape.join() === b.shape.join()) {
    call =
      op.type === "add"
        ? { kind: "add", variant: "add_s8", size, ...common, params: requireInt8(op) }
        : { kind: "mul", variant: "mul_s8", size, ...common, params: requireInt8(op) };
  } else {
    if (outputShape.length > 6)
      throw new UnsupportedOpError(op, `broadcasting over rank ${outputShape.length} (at most 6)`);
    call = {
      kind: "broadcast",
      variant: op.type === "add" ? "add_broadcast_s8" : "mul_broadcast_s8",
      outputShape: [...outputShape],
      strides1: broadcastStrides(a.shape, outputShape),
      strides2: broadcastStrides(b.shape, outputShape),
      ...common,
      params:
        op.type === "add"
          ? { op: "add", add: requireInt8(op) }
          : { op: "mul", mul: requireInt8(op) },
    };
  }
  const inPlaceOf = inPlaceInput(l, [aName, bName], size);
  return {
    inputs: [aName, bName],
    scratchBytes: 0,
    call,
    macs: 0,
    weightBytes: 0,
    ...(inPlaceOf === undefined ? {} : { inPlaceOf }),
  };
}

function selectActivation(l: Lookup, op: ActivationOp): LayerSelection {
  const [xName = "", tableName = ""] = op.inputs;
  const size = product(tensorOf(l, xName).shape);
  const table = constInt8(l, tableName);
  if (table.length !== 256)
    throw new UnsupportedOpError(op, `a table of ${table.length} entries (256 needed)`);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: { kind: "lut", variant: "lut_s8", size, table },
    macs: 0,
    weightBytes: 256,
    inPlaceOf: xName,
  };
}

function selectAvgPool(l: Lookup, op: AvgPool2dOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const inputDims = dims4(tensorOf(l, xName).shape, "input", op);
  const outputDims = dims4(tensorOf(l, op.outputs[0] ?? "").shape, "output", op);
  const a = op.attrs;
  const hw = computeWindow(inputDims[1], a.poolSize[0], a.strides[0], 1, a.padding);
  const ww = computeWindow(inputDims[2], a.poolSize[1], a.strides[1], 1, a.padding);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "avgPool",
      variant: "avg_pool_s8",
      pool: a.poolSize,
      strides: a.strides,
      pad: [hw.padBefore, ww.padBefore],
      inputDims,
      outputDims,
    },
    macs: 0,
    weightBytes: 0,
  };
}

function selectGlobalAvgPool(l: Lookup, op: GlobalAvgPoolOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const x = tensorOf(l, xName);
  const p = requireInt8(op);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "globalAvgPool",
      variant: "global_avg_pool_s8",
      inputDims: dims4(x.shape, "input", op),
      inputOffset: -zeroPoint(x),
      outputOffset: zeroPoint(tensorOf(l, op.outputs[0] ?? "")),
      multiplier: p.multiplier,
      shift: p.shift,
    },
    macs: 0,
    weightBytes: 0,
  };
}

function rowsOf(shape: readonly number[]): { rows: number; depth: number } {
  const depth = shape[shape.length - 1] ?? 1;
  return { rows: product(shape) / depth, depth };
}

function selectSoftmax(l: Lookup, op: SoftmaxOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const { rows, depth } = rowsOf(tensorOf(l, xName).shape);
  if (depth > 256) throw new UnsupportedOpError(op, `rows of ${depth} values (at most 256)`);
  const params = requireInt8(op);
  return {
    inputs: [xName],
    scratchBytes: softmaxScratchBytes(params.diffMin),
    call: { kind: "softmax", variant: "softmax_s8", rows, depth, params },
    macs: 0,
    weightBytes: 0,
  };
}

function selectLayerNorm(l: Lookup, op: LayerNormOp): LayerSelection {
  const [xName = "", gName = "", bName = ""] = op.inputs;
  const { rows, depth } = rowsOf(tensorOf(l, xName).shape);
  const p = requireInt8(op);
  const gamma = constInt8(l, gName);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "layerNorm",
      variant: "layernorm_s8",
      rows,
      channels: depth,
      epsQ: p.epsQ,
      gamma,
      beta: constInt32(l, bName),
      multiplier: Int32Array.from(p.multiplier),
      shift: Int32Array.from(p.shift),
      outputOffset: zeroPoint(tensorOf(l, op.outputs[0] ?? "")),
    },
    macs: 0,
    weightBytes: gamma.length,
  };
}

function selectTranspose(l: Lookup, op: TransposeOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const shape = tensorOf(l, xName).shape;
  if (shape.length < 1 || shape.length > 6)
    throw new UnsupportedOpError(op, `rank ${shape.length} (1..6)`);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "transpose",
      variant: "transpose_s8",
      shape: [...shape],
      perm: [...op.attrs.perm],
    },
    macs: 0,
    weightBytes: 0,
  };
}

function selectReshape(l: Lookup, op: OpIR): LayerSelection {
  const [xName = ""] = op.inputs;
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: { kind: "reshape", variant: "reshape_s8", size: product(tensorOf(l, xName).shape) },
    macs: 0,
    weightBytes: 0,
    inPlaceOf: xName,
  };
}

function selectPatches(l: Lookup, op: UnfoldOp | FoldOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const image = op.type === "unfold" ? tensorOf(l, xName) : tensorOf(l, op.outputs[0] ?? "");
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "patches",
      variant: op.type === "unfold" ? "unfold_s8" : "fold_s8",
      imageDims: dims4(image.shape, "image", op),
      patch: op.attrs.patchSize,
    },
    macs: 0,
    weightBytes: 0,
  };
}

function selectConcat(l: Lookup, op: ConcatOp): LayerSelection {
  const y = tensorOf(l, op.outputs[0] ?? "");
  const rank = y.shape.length;
  const axis = op.attrs.axis < 0 ? op.attrs.axis + rank : op.attrs.axis;
  const outer = product(y.shape.slice(0, axis));
  const inner = product(y.shape.slice(axis + 1));
  const entries = op.int8?.inputs ?? [];
  for (const name of op.inputs)
    if (!isActivation(l, name)) throw new UnsupportedOpError(op, `constant input ${name}`);
  return {
    inputs: [...op.inputs],
    scratchBytes: 0,
    call: {
      kind: "concat",
      variant: "concat_s8",
      outer,
      parts: op.inputs.map((name, i) => {
        const t = tensorOf(l, name);
        const e = entries[i];
        return {
          width: (t.shape[axis] ?? 1) * inner,
          requant:
            e === null || e === undefined
              ? null
              : { inputOffset: -zeroPoint(t), multiplier: e.multiplier, shift: e.shift },
        };
      }),
      outputOffset: zeroPoint(y),
    },
    macs: 0,
    weightBytes: 0,
  };
}

function selectOp(l: Lookup, op: OpIR): LayerSelection {
  switch (op.type) {
    case "conv2d":
      return selectConv(l, op);
    case "linear":
      return selectLinear(l, op);
    case "matmul":
      return selectMatMul(l, op);
    case "add":
    case "mul":
      return selectBinary(l, op);
    case "activation":
      return selectActivation(l, op);
    case "avg_pool2d":
      return selectAvgPool(l, op);
    case "global_avg_pool":
      return selectGlobalAvgPool(l, op);
    case "softmax":
      return selectSoftmax(l, op);
    case "layer_norm":
      return selectLayerNorm(l, op);
    case "transpose":
      return selectTranspose(l, op);
    case "reshape":
      return selectReshape(l, op);
    case "unfold":
    case "fold":
      return selectPatches(l, op);
    case "concat":
      return selectConcat(l, op);
    default: {
      const never: never = op;
      throw new Error(`codegen: unknown op ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Selects a kernel for every op of an int8 model, in op order. Without a
 * cost model table (calibrating a new one) the policy must be "dense" or
 * "sparse", and layers carry no cost estimates.
 */
export function selectKernels(
  model: Model,
  costModel: CostModelTable | undefined,
  policy: WeightPolicy = "cost-model",
): SelectedLayer[] {
  if (costModel === undefined && policy === "cost-model")
    throw new Error("codegen: choosing dense or sparse kernels by cost needs a cost model table");
  const l: Lookup = {
    model,
    tensors: new Map(model.graph.tensors.map((t) => [t.name, t])),
    costModel,
    policy,
  };
  return model.graph.ops.map((op, index) => {
    const output = op.outputs[0] ?? "";
    if (op.outputs.length !== 1) throw new UnsupportedOpError(op, `${op.outputs.length} outputs`);
    const selection = selectOp(l, op);
    const outTensor = tensorOf(l, output);
    if (outTensor.dtype !== "int8")
      throw new UnsupportedOpError(op, `output ${output} is ${outTensor.dtype}, not int8`);
    return { index, op, output, outputBytes: product(outTensor.shape), ...selection };
  });
}
