/**
 * Kernel selection for the ops with weights (conv2d: 1x1, KxK or depthwise;
 * linear; the attention matmuls): geometry, requantization per channel, the
 * weight dense or sparse, and the scratch the kernel needs.
 */
import { computeWindow, product } from "../../model-ir/shapes.js";
import type { Conv2dOp, LinearOp, MatMulOp } from "../../model-ir/types.js";
import { channelRequantStats } from "../../sparse-engine/kernel-work.js";
import {
  batchMatmulScratchBytes,
  conv1x1ScratchBytes,
  convKxKScratchBytes,
  depthwiseScratchBytes,
  linearScratchBytes,
} from "../../sparse-engine/scratch-sizes.js";
import { type KernelWeight, UnsupportedOpError } from "../kernel-calls.js";
import {
  channelQuant,
  chooseWeight,
  constInt8,
  constInt32,
  dims4,
  isActivation,
  type LayerSelection,
  type Lookup,
  requireInt8,
  tensorOf,
  weightBytes,
  zeroPoint,
} from "./lookup.js";

export function selectConv(l: Lookup, op: Conv2dOp): LayerSelection {
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

export function selectLinear(l: Lookup, op: LinearOp): LayerSelection {
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

export function selectMatMul(l: Lookup, op: MatMulOp): LayerSelection {
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
