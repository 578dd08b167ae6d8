/**
 * Kernel selection for the ops that reduce over a window or a row: average
 * pooling, global average pooling, softmax and LayerNorm.
 */
import { computeWindow, product } from "../../model-ir/shapes.js";
import type { AvgPool2dOp, GlobalAvgPoolOp, LayerNormOp, SoftmaxOp } from "../../model-ir/types.js";
import { softmaxScratchBytes } from "../../sparse-engine/scratch-sizes.js";
import { UnsupportedOpError } from "../kernel-calls.js";
import {
  constInt8,
  constInt32,
  dims4,
  type LayerSelection,
  type Lookup,
  requireInt8,
  tensorOf,
  zeroPoint,
} from "./lookup.js";

export function selectAvgPool(l: Lookup, op: AvgPool2dOp): LayerSelection {
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

export function selectGlobalAvgPool(l: Lookup, op: GlobalAvgPoolOp): LayerSelection {
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

export function rowsOf(shape: readonly number[]): { rows: number; depth: number } {
  const depth = shape[shape.length - 1] ?? 1;
  return { rows: product(shape) / depth, depth };
}

export function selectSoftmax(l: Lookup, op: SoftmaxOp): LayerSelection {
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

export function selectLayerNorm(l: Lookup, op: LayerNormOp): LayerSelection {
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
