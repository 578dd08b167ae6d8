/**
 * Assembles small int8 (or float) models by hand for per-op golden tests:
 * activations get explicit (scale, zero point), constants explicit values, and
 * ops explicit integer parameters, so each expected output can be worked out
 * on paper.
 */
import { computeBlobDigest, createBlobWriter } from "../../src/model-ir/blob.js";
import type { Model, OpIR, TensorIR } from "../../src/model-ir/types.js";
import { assertValidModel } from "../../src/model-ir/validate.js";

export interface ActivationSpec {
  name: string;
  shape: number[];
  scale?: number;
  zp?: number;
}

export interface ConstantSpec {
  name: string;
  shape: number[];
  dtype: "int8" | "int32" | "float32";
  values: number[];
  /** Per-channel scales for weights; defaults to scale 1 per tensor. */
  scales?: number[];
  /** Tables carry no quantization. */
  noQuant?: boolean;
}

export function handModel(spec: {
  precision?: "int8" | "float32";
  inputs: ActivationSpec[];
  activations: ActivationSpec[];
  constants?: ConstantSpec[];
  ops: OpIR[];
  outputs: string[];
}): Model {
  const precision = spec.precision ?? "int8";
  const writer = createBlobWriter();
  const act = (a: ActivationSpec): TensorIR =>
    precision === "int8"
      ? {
          name: a.name,
          shape: a.shape,
          dtype: "int8",
          quant: { scale: [a.scale ?? 1], zeroPoint: [a.zp ?? 0] },
        }
      : { name: a.name, shape: a.shape, dtype: "float32" };
  const constants = (spec.constants ?? []).map((c): TensorIR => {
    const array =
      c.dtype === "int8"
        ? Int8Array.from(c.values)
        : c.dtype === "int32"
          ? Int32Array.from(c.values)
          : Float32Array.from(c.values);
    const t: TensorIR = {
      name: c.name,
      shape: c.shape,
      dtype: c.dtype,
      data: { encoding: "dense", ...writer.append(array) },
    };
    if (c.noQuant !== true && c.dtype !== "float32") {
      const scales = c.scales ?? [1];
      t.quant = {
        scale: scales,
        zeroPoint: scales.map(() => 0),
        ...(scales.length > 1 ? { axis: 0 } : {}),
      };
    }
    return t;
  });
  const blob = writer.finish();
  return assertValidModel({
    graph: {
      format: "tinyformer-model-ir",
      version: 1,
      name: "hand",
      precision,
      inputs: spec.inputs.map((i) => i.name),
      outputs: spec.outputs,
      tensors: [...spec.inputs.map(act), ...spec.activations.map(act), ...constants],
      ops: spec.ops,
      blob: { byteLength: blob.byteLength, sha256: computeBlobDigest(blob) },
    },
    blob,
  });
}
