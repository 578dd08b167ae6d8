/**
 * The work of every kernel call codegen emits, as the counts the cost model
 * (src/sparse-engine/cost-model.ts) is linear in. Each count follows a loop
 * or a branch of the kernel's C in templates/c/kernels; which path runs is
 * decided here exactly as the C decides it (requantization path, depthwise
 * vector and asm paths, interior and border pixels, reshapes in place).
 *
 * The same function feeds the estimate and the calibration (which fits the
 * coefficients to these counts), so the two always agree on what a count
 * means.
 */

import type {
  AvgPoolCall,
  BroadcastCall,
  ConcatCall,
  ConvCall,
  KernelCall,
  KernelWeight,
  MatMulCall,
  SelectedLayer,
} from "../codegen/kernel-calls.js";
import type { MemoryPlan } from "../codegen/plan-memory.js";
import type { ModelPlan } from "../codegen/plan-model.js";
import { product } from "../model-ir/shapes.js";
import type { KernelVariant } from "../sparse-engine/kernel-variants.js";
import {
  channelRequantStats,
  type KernelWork,
  type MatrixLayer,
  matrixWork,
  type RequantStats,
  requantPass,
  requantStats,
} from "../sparse-engine/kernel-work.js";

/** One layer's kernel and its work. */
export interface LayerWork {
  kernel: KernelVariant;
  work: KernelWork;
}

/** The storage of a sparse weight as the walk sees it; undefined for a dense one. */
function sparseStorage(weight: KernelWeight): MatrixLayer["sparse"] {
  if (weight.kind === "dense") return undefined;
  const { blockSize, runBytes, storedRows, stream } = weight.packed;
  // The stream is 4 header bytes per stored row and (run + values) per block.
  return {
    blockSize,
    storedRows,
    storedBlocks: (stream.length - 4 * storedRows) / (runBytes + blockSize),
  };
}

/**
 * For each output position along one axis, how many kernel taps fall inside
 * the input; and how many positions have all of them inside (interior).
 */
export function axisTaps(
  outSize: number,
  inSize: number,
  kernel: number,
  stride: number,
  padBefore: number,
  dilation: number,
): { inBounds: number; interior: number } {
  let inBounds = 0;
  let interior = 0;
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - padBefore;
    let count = 0;
    for (let k = 0; k < kernel; k++) {
      const at = start + k * dilation;
      if (at >= 0 && at < inSize) count++;
    }
    inBounds += count;
    if (start >= 0 && start + (kernel - 1) * dilation < inSize) interior++;
  }
  return { inBounds, interior };
}

/**
 * tf_depthwise_conv_s8: per-call set-up (multipliers, the weight stream per
 * group of four channels and tap), then per output pixel the groups of four
 * channels (the 3x3 asm blocks when fused, else the C steps: a tap table,
 * tap pairs, an odd tap, stores or a requantization pass) and a scalar loop
 * over the channels the groups do not cover.
 */
function depthwiseWork(call: ConvCall): KernelWork {
  const [n, h, w, c] = call.inputDims;
  const [, oh, ow, o] = call.outputDims;
  const [, kh, kw] = call.filterDims;
  const taps = kh * kw;
  const pixels = n * oh * ow;
  const multiplier = o / c;
  const offset = call.quant.inputOffset;
  const vectorEnd = multiplier === 1 && offset >= -127 && offset <= 128 ? o & ~3 : 0;
  const groups = vectorEnd >> 2;
  const rows = axisTaps(oh, h, kh, call.strides[0], call.pad[0], call.dilations[0]);
  const cols = axisTaps(ow, w, kw, call.strides[1], call.pad[1], call.dilations[1]);
  const interior = n * rows.interior * cols.interior;
  const border = pixels - interior;
  const q = channelRequantStats(call.quant);
  const work: KernelWork = {
    calls: 1,
    channels: o,
    streamTaps: groups * taps,
    scalarWeights: taps * (o - vectorEnd),
    pixels,
  };
  if (groups > 0) {
    if (taps === 9 && q.fused) {
      work.asmInteriorGroups = interior * groups;
      work.asmBorderGroups = border * groups;
      work.asmBorderPixels = border;
      Object.assign(work, mixedStores(call, q, pixels, vectorEnd));
    } else {
      work.interiorTaps = interior * taps;
      work.borderTaps = border * taps;
      work.pixelGroups = pixels * groups;
      work.tapPairs = pixels * groups * (taps >> 1);
      work.oddTaps = pixels * groups * (taps & 1);
      if (!q.fused) {
        work.requantPixels = pixels;
        work.requantOutputs = pixels * vectorEnd;
        work.leftShiftOutputs = pixels * leftShifts(call, vectorEnd);
      } else {
        Object.assign(work, mixedStores(call, q, pixels, vectorEnd));
      }
    }
  }
  if (vectorEnd < o) {
    work.scalarOutputs = pixels * (o - vectorEnd);
    // Taps in bounds, over all pixels: separable, rows times columns.
    work.scalarTaps = n * rows.inBounds * cols.inBounds * (o - vectorEnd);
  }
  return work;
}

/** Channels below `end` that shift left. */
function leftShifts(call: ConvCall, end: number): number {
  let left = 0;
  for (let i = 0; i < end; i++) if ((call.quant.shift[i] as number) >= 0) left++;
  return left;
}

/**
 * A fused depthwise layer with left shifts among its vector channels stores
 * every output with a test of its channel's kind (TF_DW_STORE_MIXED and the
 * asm blocks' twin): the right- and left-shift outputs, beyond the plain
 * right-shift store.
 */
function mixedStores(
  call: ConvCall,
  q: RequantStats,
  pixels: number,
  vectorEnd: number,
): KernelWork {
  const left = leftShifts(call, vectorEnd);
  if (q.allRight || left === 0) return {};
  return { mixedRightOutputs: pixels * (vectorEnd - left), mixedLeftOutputs: pixels * left };
}

function convWork(call: ConvCall): KernelWork {
  if (call.variant === "depthwise_conv_s8") return depthwiseWork(call);
  const [, kh, kw, wi] = call.filterDims;
  const layer: MatrixLayer = {
    pixels: call.outputDims[0] * call.outputDims[1] * call.outputDims[2],
    outChannels: call.outputDims[3],
    rowLength: kh * kw * wi,
    ...(call.variant.startsWith("conv_kxk") ? { im2colTaps: kh * kw } : {}),
    requant: channelRequantStats(call.quant),
    sparse: sparseStorage(call.weight),
  };
  return matrixWork(layer, call.weight.kind === "sparse");
}

/**
 * tf_batch_matmul_s8: per batch, b transposed into scratch (unless given
 * transposed), then per group of four rows of a their sums (the b offset
 * term), the packing, the dense row walk over b's rows and the output pass.
 */
function matmulWork(call: MatMulCall): KernelWork {
  const { batch, m, k, n } = call;
  const groups = batch * Math.ceil(m / 4);
  const rowVisits = groups * n;
  const quads = k >> 2;
  const q = requantStats([call.shift], -128, 127, [call.multiplier], call.outputOffset);
  return {
    calls: 1,
    batches: batch,
    transposedElements: call.transposeB ? 0 : batch * n * k,
    groups,
    rowSums: groups * 4 * k,
    packedQuads: groups * quads,
    packedTail: groups * (k & 3),
    rowVisits,
    macQuads: rowVisits * quads,
    macQuadRemainder: rowVisits * (quads & 3),
    macTail: rowVisits * (k & 3),
    tailBytes: batch * (m % 4) * n,
    ...requantPass(rowVisits, q.allRight ? 0 : rowVisits, q),
  };
}

/**
 * Extra iterations of an odometer walk over `shape` (the inner loop of
 * tf_transpose_s8 and the broadcast kernels): one per wrap of every
 * dimension but the outermost.
 */
export function odometerCarries(shape: readonly number[]): number {
  const total = product(shape);
  let carries = 0;
  let inner = 1;
  for (let d = shape.length - 1; d >= 1; d--) {
    inner *= shape[d] as number;
    carries += inner === 0 ? 0 : total / inner;
  }
  return carries;
}

/** add / mul: tf_requant_apply per input and output; a left shift takes tf_requantize. */
function elementwiseWork(
  size: number,
  shifts: readonly number[],
  extra: KernelWork = {},
): KernelWork {
  const left = shifts.filter((s) => s >= 0).length;
  return { calls: 1, elements: size, leftShiftElements: size * left, ...extra };
}

function broadcastWork(call: BroadcastCall): KernelWork {
  const size = product(call.outputShape);
  const shifts =
    call.params.op === "add"
      ? [call.params.add.input1Shift, call.params.add.input2Shift, call.params.add.outputShift]
      : [call.params.mul.shift];
  return elementwiseWork(size, shifts, {
    rank: call.outputShape.length,
    carries: odometerCarries(call.outputShape),
  });
}

/** tf_avg_pool_s8: per output pixel and channel, the in-bounds taps row by row. */
function avgPoolWork(call: AvgPoolCall): KernelWork {
  const [n, h, w, c] = call.inputDims;
  const [, oh, ow] = call.outputDims;
  const rows = axisTaps(oh, h, call.pool[0], call.strides[0], call.pad[0], 1);
  const cols = axisTaps(ow, w, call.pool[1], call.strides[1], call.pad[1], 1);
  return {
    calls: 1,
    pixels: n * oh * ow,
    outputs: n * oh * ow * c,
    tapRows: n * rows.inBounds * ow * c,
    taps: n * rows.inBounds * cols.inBounds * c,
  };
}

/** tf_concat_s8: per part, a copy per outer row, or a requantization per element. */
function concatWork(call: ConcatCall): KernelWork {
  const work: KernelWork = {
    calls: 1,
    parts: call.parts.length,
    copies: 0,
    copiedBytes: 0,
    requantElements: 0,
    leftShiftElements: 0,
  };
  for (const part of call.parts) {
    const elements = call.outer * part.width;
    if (part.requant === null) {
      work.copies = (work.copies ?? 0) + call.outer;
      work.copiedBytes = (work.copiedBytes ?? 0) + elements;
    } else {
      work.requantElements = (work.requantElements ?? 0) + elements;
      if (part.requant.shift >= 0)
        work.leftShiftElements = (work.leftShiftElements ?? 0) + elements;
    }
  }
  return work;
}

function callWork(call: KernelCall, layer: SelectedLayer, memory: MemoryPlan): KernelWork {
  switch (call.kind) {
    case "conv":
      return convWork(call);
    case "linear":
      return matrixWork(
        {
          pixels: call.rows,
          outChannels: call.outFeatures,
          rowLength: call.inFeatures,
          requant: channelRequantStats(call.quant),
          sparse: sparseStorage(call.weight),
        },
        call.weight.kind === "sparse",
      );
    case "matmul":
      return matmulWork(call);
    case "add":
      return elementwiseWork(call.size, [
        call.params.input1Shift,
        call.params.input2Shift,
        call.params.outputShift,
      ]);
    case "mul":
      return elementwiseWork(call.size, [call.params.shift]);
    case "broadcast":
      return broadcastWork(call);
    case "lut":
      return { calls: 1, elements: call.size };
    case "avgPool":
      return avgPoolWork(call);
    case "globalAvgPool": {
      const [n, h, w, c] = call.inputDims;
      return { calls: 1, channels: n * c, elements: n * h * w * c };
    }
    case "softmax":
      // Each call fills a table of up to 256 exponentials (all 256 for any
      // input scale a model has: diff_min is below -255), so `calls` carries it.
      return { calls: 1, rows: call.rows, elements: call.rows * call.depth };
    case "layerNorm":
      return { calls: 1, rows: call.rows, elements: call.rows * call.channels };
    case "transpose":
      return {
        calls: 1,
        rank: call.shape.length,
        elements: product(call.shape),
        carries: odometerCarries(call.perm.map((p) => call.shape[p] as number)),
      };
    case "reshape": {
      // The kernel copies only when the planner gave the output its own bytes.
      const from = memory.tensorOffsets.get(layer.inputs[0] ?? "");
      const to = memory.tensorOffsets.get(layer.output);
      return { calls: 1, copiedBytes: from === to ? 0 : call.size };
    }
    case "patches": {
      const [n, h, w, c] = call.imageDims;
      const copies = n * h * w;
      return { calls: 1, copies, copiedBytes: copies * c };
    }
    case "concat":
      return concatWork(call);
    default: {
      const never: never = call;
      throw new Error(`resources: no work model for ${JSON.stringify(never)}`);
    }
  }
}

/** The kernel a layer calls and the work of that call. */
export function layerWork(layer: SelectedLayer, memory: MemoryPlan): LayerWork {
  return { kernel: layer.call.variant, work: callWork(layer.call, layer, memory) };
}

/**
 * tf_model_run's own work around the calls: copying the input into the
 * arena and the output out of it, and checking each call's status.
 */
export function programWork(plan: ModelPlan): KernelWork {
  return {
    calls: 1,
    layers: plan.layers.length,
    inputBytes: product(plan.input.shape),
    outputBytes: product(plan.output.shape),
  };
}
