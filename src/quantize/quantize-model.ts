/**
 * Float (sparse) model + calibration inputs -> int8 model.
 *
 *   calibrate ranges ─► activation quant per tensor (rules below)
 *        ─► constants by role (weight / bias / gamma / beta / other)
 *        ─► int8 parameters per op (multipliers, shifts, tables)
 *        ─► new blob (pruned weights block-rle encoded) ─► validated model
 *
 * Activation rules: graph inputs and most op outputs use their calibrated
 * range; softmax outputs are fixed at (1/256, -128) as TFLM requires;
 * avg_pool2d, reshape, transpose, unfold and fold keep their input's
 * quantization (they move or average values without changing the range).
 */
import { roundHalfAwayFromZero } from "../int8/fixed-point.js";
import { LAYERNORM_FRACTION_BITS, LAYERNORM_MAX_EPS_Q } from "../int8/layernorm.js";
import { activationTransform, populateLut } from "../int8/lut.js";
import { computeSoftmaxParams, quantizeMultiplier } from "../int8/quantize-multiplier.js";
import { SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT } from "../int8/softmax.js";
import { prepareModel } from "../interpreter/prepare.js";
import { computeBlobDigest, createBlobWriter } from "../model-ir/blob.js";
import { product } from "../model-ir/shapes.js";
import { encodeBlockRle } from "../model-ir/sparse-encoding.js";
import type { Model, OpIR, QuantParams, TensorData, TensorIR } from "../model-ir/types.js";
import { assertValidModel } from "../model-ir/validate.js";
import { type CalibrationOptions, calibrateRanges } from "./calibration.js";
import {
  activationRange,
  addRequantParams,
  chooseActivationQuant,
  quantizeBias,
  quantizeValues,
  quantizeWeightsPerChannel,
} from "./quant-params.js";

export interface QuantizeOptions {
  /** How activation ranges are measured. */
  calibration?: CalibrationOptions;
  /** Name of the int8 model. @default `${float name}-int8` */
  name?: string;
}

/** Role of a constant, from the op that reads it. */
type ConstantRole = "weight" | "bias" | "gamma" | "beta" | "other";

function constantRole(op: OpIR, index: number): ConstantRole {
  if (op.type === "conv2d" || op.type === "linear")
    return index === 1 ? "weight" : index === 2 ? "bias" : "other";
  if (op.type === "layer_norm") return index === 1 ? "gamma" : index === 2 ? "beta" : "other";
  return "other";
}

const PASS_THROUGH = new Set<OpIR["type"]>([
  "avg_pool2d",
  "reshape",
  "transpose",
  "unfold",
  "fold",
]);
/** Largest |beta| kept by the LayerNorm quantization (overflow analysis in layernorm.ts). */
const LAYERNORM_MAX_BETA = 2 ** 30;

export function quantizeModel(
  floatModel: Model,
  calibrationInputs: readonly Float32Array[],
  options: QuantizeOptions = {},
): Model {
  const graph = floatModel.graph;
  if (graph.precision !== "float32")
    throw new Error(`quantizeModel needs a float32 model, got ${graph.precision}`);
  const ranges = calibrateRanges(floatModel, calibrationInputs, options.calibration);
  const prepared = prepareModel(floatModel);
  const tensorByName = prepared.tensors;
  const floatData = (name: string): Float32Array => {
    const v = prepared.constants.get(name);
    if (!(v instanceof Float32Array)) throw new Error(`constant ${name} missing`);
    return v;
  };

  // 1. Activation quantization, in op order so pass-through ops see their input's.
  const actQuant = new Map<string, QuantParams>();
  const calibrated = (name: string): QuantParams => {
    const r = ranges.get(name);
    if (r === undefined) throw new Error(`no calibration range for ${name}`);
    return chooseActivationQuant(r.min, r.max);
  };
  for (const name of graph.inputs) actQuant.set(name, calibrated(name));
  const roles = new Map<string, { op: OpIR; role: ConstantRole }>();
  for (const op of graph.ops) {
    op.inputs.forEach((name, i) => {
      if (tensorByName.get(name)?.data === undefined) return;
      const role = constantRole(op, i);
      const prev = roles.get(name);
      if (prev !== undefined && (prev.role !== "other" || role !== "other")) {
        throw new Error(
          `constant ${name} is used by ${prev.op.name} and ${op.name}; weights cannot be shared`,
        );
      }
      roles.set(name, { op, role });
    });
    const out = op.outputs[0] ?? "";
    if (op.type === "softmax") {
      actQuant.set(out, { scale: [SOFTMAX_OUTPUT_SCALE], zeroPoint: [SOFTMAX_OUTPUT_ZERO_POINT] });
    } else if (PASS_THROUGH.has(op.type)) {
      const q = actQuant.get(op.inputs[0] ?? "");
      if (q === undefined) throw new Error(`${op.name}: input quantization unknown`);
      actQuant.set(out, q);
    } else {
      actQuant.set(out, calibrated(out));
    }
  }
  // Constants with no special role (e.g. an added embedding) are quantized like activations.
  for (const [name, { role }] of roles) {
    if (role !== "other") continue;
    const v = floatData(name);
    let min = 0;
    let max = 0;
    for (const x of v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    actQuant.set(name, chooseActivationQuant(min, max));
  }
  const scaleOf = (name: string): number => {
    const q = actQuant.get(name);
    if (q === undefined) throw new Error(`no quantization for ${name}`);
    return q.scale[0] as number;
  };
  const zpOf = (name: string): number => actQuant.get(name)?.zeroPoint[0] ?? 0;

  // 2. Constants and op parameters.
  const writer = createBlobWriter();
  const dense = (v: Int8Array | Int32Array): TensorData => ({
    encoding: "dense",
    ...writer.append(v),
  });
  const newTensors = new Map<string, TensorIR>();
  const extraTensors: TensorIR[] = [];
  const ops: OpIR[] = [];
  const weightScales = new Map<string, number[]>();

  const emitWeight = (t: TensorIR): number[] => {
    const channels = t.shape[0] ?? 1;
    const { data, scales } = quantizeWeightsPerChannel(floatData(t.name), channels);
    const blockSize = t.sparsity?.blockSize;
    const encoded: TensorData =
      blockSize === undefined
        ? dense(data)
        : writer.appendBlockRle(
            encodeBlockRle(data, channels, product(t.shape.slice(1)), blockSize),
          );
    newTensors.set(t.name, {
      name: t.name,
      shape: t.shape,
      dtype: "int8",
      quant: { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 },
      data: encoded,
    });
    weightScales.set(t.name, scales);
    return scales;
  };

  for (const op of graph.ops) {
    const out = op.outputs[0] ?? "";
    const sOut = scaleOf(out);
    const zOut = zpOf(out);
    const x = op.inputs[0] ?? "";
    switch (op.type) {
      case "conv2d":
      case "linear": {
        const wName = op.inputs[1] ?? "";
        const w = tensorByName.get(wName);
        if (w === undefined) throw new Error(`${op.name}: weight missing`);
        const scales = emitWeight(w);
        const sIn = scaleOf(x);
        const bName = op.inputs[2];
        if (bName !== undefined) {
          const b = tensorByName.get(bName);
          if (b === undefined) throw new Error(`${op.name}: bias missing`);
          newTensors.set(bName, {
            name: bName,
            shape: b.shape,
            dtype: "int32",
            quant: { scale: scales.map((s) => sIn * s), zeroPoint: scales.map(() => 0), axis: 0 },
            data: dense(quantizeBias(floatData(bName), sIn, scales)),
          });
        }
        const qm = scales.map((s) => quantizeMultiplier((sIn * s) / sOut));
        ops.push({
          ...op,
          int8: {
            multiplier: qm.map((q) => q.multiplier),
            shift: qm.map((q) => q.shift),
            ...activationRange(op.attrs.activation, sOut, zOut),
          },
        });
        break;
      }
      case "matmul": {
        const q = quantizeMultiplier(
          (scaleOf(x) * scaleOf(op.inputs[1] ?? "") * op.attrs.alpha) / sOut,
        );
        ops.push({ ...op, int8: { multiplier: q.multiplier, shift: q.shift } });
        break;
      }
      case "add": {
        ops.push({
          ...op,
          int8: {
            ...addRequantParams(scaleOf(x), scaleOf(op.inputs[1] ?? ""), sOut),
            ...activationRange(op.attrs.activation, sOut, zOut),
          },
        });
        break;
      }
      case "mul": {
        const q = quantizeMultiplier((scaleOf(x) * scaleOf(op.inputs[1] ?? "")) / sOut);
        ops.push({
          ...op,
          int8: {
            multiplier: q.multiplier,
            shift: q.shift,
            ...activationRange(op.attrs.activation, sOut, zOut),
          },
        });
        break;
      }
      case "global_avg_pool": {
        const [, h = 1, w = 1] = tensorByName.get(x)?.shape ?? [];
        const q = quantizeMultiplier(scaleOf(x) / (sOut * h * w));
        ops.push({ ...op, int8: { multiplier: q.multiplier, shift: q.shift } });
        break;
      }
      case "layer_norm": {
        const gName = op.inputs[1] ?? "";
        const bName = op.inputs[2] ?? "";
        const gamma = floatData(gName);
        const beta = floatData(bName);
        const c = gamma.length;
        const sIn = scaleOf(x);
        const fracScale = 2 ** LAYERNORM_FRACTION_BITS;
        const gq = new Int8Array(c);
        const bq = new Int32Array(c);
        const gScales: number[] = [];
        const multiplier: number[] = [];
        const shift: number[] = [];
        for (let i = 0; i < c; i++) {
          const g = gamma[i] as number;
          const b = beta[i] as number;
          // Per-channel gamma scale; widened when beta would exceed 2^30 in its scale.
          let s = Math.max(Math.abs(g) / 127, (Math.abs(b) * fracScale) / LAYERNORM_MAX_BETA);
          s = s === 0 ? 1 : Math.fround(s);
          gScales.push(s);
          gq[i] = Math.max(-127, Math.min(127, roundHalfAwayFromZero(g / s)));
          bq[i] = Math.max(
            -LAYERNORM_MAX_BETA,
            Math.min(LAYERNORM_MAX_BETA, roundHalfAwayFromZero((b * fracScale) / s)),
          );
          const q = quantizeMultiplier(s / fracScale / sOut);
          multiplier.push(q.multiplier);
          shift.push(q.shift);
        }
        newTensors.set(gName, {
          name: gName,
          shape: [c],
          dtype: "int8",
          quant: { scale: gScales, zeroPoint: gScales.map(() => 0), axis: 0 },
          data: dense(gq),
        });
        newTensors.set(bName, {
          name: bName,
          shape: [c],
          dtype: "int32",
          quant: {
            scale: gScales.map((s) => s / fracScale),
            zeroPoint: gScales.map(() => 0),
            axis: 0,
          },
          data: dense(bq),
        });
        const epsQ = Math.min(
          LAYERNORM_MAX_EPS_Q,
          Math.max(1, roundHalfAwayFromZero((op.attrs.epsilon * c * c) / (sIn * sIn))),
        );
        ops.push({ ...op, int8: { epsQ, multiplier, shift } });
        break;
      }
      case "softmax":
        ops.push({ ...op, int8: computeSoftmaxParams(scaleOf(x), op.attrs.beta) });
        break;
      case "activation": {
        const tableName = `${op.name}.table`;
        const table = populateLut(
          scaleOf(x),
          zpOf(x),
          sOut,
          zOut,
          activationTransform(op.attrs.function),
        );
        extraTensors.push({ name: tableName, shape: [256], dtype: "int8", data: dense(table) });
        ops.push({ ...op, inputs: [x, tableName] });
        break;
      }
      case "concat": {
        const entries = op.inputs.map((name) => {
          if (scaleOf(name) === sOut && zpOf(name) === zOut) return null;
          const q = quantizeMultiplier(scaleOf(name) / sOut);
          return { multiplier: q.multiplier, shift: q.shift };
        });
        ops.push({ ...op, int8: { inputs: entries } });
        break;
      }
      case "avg_pool2d":
      case "reshape":
      case "transpose":
      case "unfold":
      case "fold":
        ops.push({ ...op });
        break;
      default:
        throw new Error(`quantizeModel: unhandled op ${(op as OpIR).type}`);
    }
  }

  // 3. Tensors: activations and role-less constants get per-tensor int8.
  const tensors: TensorIR[] = graph.tensors.map((t) => {
    const done = newTensors.get(t.name);
    if (done !== undefined) return done;
    const q = actQuant.get(t.name);
    if (q === undefined) throw new Error(`tensor ${t.name} is not used by any op`);
    const base: TensorIR = { name: t.name, shape: t.shape, dtype: "int8", quant: q };
    if (t.data === undefined) return base;
    return {
      ...base,
      data: dense(quantizeValues(floatData(t.name), q.scale[0] ?? 1, q.zeroPoint[0] ?? 0)),
    };
  });
  tensors.push(...extraTensors);
  const blob = writer.finish();
  return assertValidModel({
    graph: {
      ...graph,
      name: options.name ?? `${graph.name}-int8`,
      precision: "int8",
      tensors,
      ops,
      blob: { byteLength: blob.byteLength, sha256: computeBlobDigest(blob) },
    },
    blob,
  });
}

/** Quantizes a float input for `runInt8` with the model's input parameters. */
export function quantizeInput(model: Model, input: Float32Array, index = 0): Int8Array {
  const name = model.graph.inputs[index] ?? "";
  const t = model.graph.tensors.find((x) => x.name === name);
  const q = t?.quant;
  if (q === undefined) throw new Error(`input ${name} has no quantization`);
  return quantizeValues(input, q.scale[0] ?? 1, q.zeroPoint[0] ?? 0);
}
