/**
 * Builds float models in code: tests, benchmarks and the training-side
 * exporter use it so that they never hand-assemble blob offsets. Each op's
 * output tensor is named after the op and its shape is inferred.
 */
import { computeBlobDigest, createBlobWriter } from "./blob.js";
import { inferOutputShapes } from "./shapes.js";
import type { BlockSize, Model, OpIR, TensorIR } from "./types.js";
import { MODEL_IR_FORMAT, MODEL_IR_VERSION } from "./types.js";
import { assertValidModel } from "./validate.js";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An op without outputs or int8 parameters: what a float model author writes. */
export type FloatOpSpec = DistributiveOmit<OpIR, "outputs" | "int8">;

export interface ModelBuilder {
  /** Declares a graph input; returns its name. */
  input(name: string, shape: number[]): string;
  /** Adds a float32 constant; `blockSize` marks a pruned weight's block size. */
  constant(
    name: string,
    shape: number[],
    values: Float32Array,
    options?: { blockSize?: BlockSize },
  ): string;
  /** Appends an op; returns its output tensor's name (the op's name). */
  op(spec: FloatOpSpec): string;
  /** Shape of a declared tensor. */
  shapeOf(name: string): number[];
  /** Marks a tensor as a graph output. */
  output(name: string): void;
  /** Finishes and validates the float model. */
  finish(): Model;
}

export function createModelBuilder(modelName: string): ModelBuilder {
  const tensors: TensorIR[] = [];
  const byName = new Map<string, TensorIR>();
  const ops: OpIR[] = [];
  const inputs: string[] = [];
  const outputs: string[] = [];
  const writer = createBlobWriter();
  const declare = (t: TensorIR): string => {
    if (byName.has(t.name)) throw new Error(`duplicate tensor ${t.name}`);
    tensors.push(t);
    byName.set(t.name, t);
    return t.name;
  };
  const shapeOf = (name: string): number[] => {
    const t = byName.get(name);
    if (t === undefined) throw new Error(`unknown tensor ${name}`);
    return t.shape;
  };
  return {
    input(name, shape) {
      inputs.push(name);
      return declare({ name, shape: [...shape], dtype: "float32" });
    },
    constant(name, shape, values, options = {}) {
      const n = shape.reduce((a, b) => a * b, 1);
      if (values.length !== n)
        throw new Error(`constant ${name}: ${values.length} values for [${shape.join(",")}]`);
      const range = writer.append(values);
      const t: TensorIR = {
        name,
        shape: [...shape],
        dtype: "float32",
        data: { encoding: "dense", ...range },
      };
      if (options.blockSize !== undefined) t.sparsity = { blockSize: options.blockSize };
      return declare(t);
    },
    op(spec) {
      const op = { ...spec, outputs: [spec.name] } as OpIR;
      const shapeInputs = op.type === "activation" ? op.inputs.slice(0, 1) : op.inputs;
      const [shape = []] = inferOutputShapes(op, shapeInputs.map(shapeOf));
      ops.push(op);
      return declare({ name: spec.name, shape, dtype: "float32" });
    },
    shapeOf,
    output(name) {
      shapeOf(name);
      outputs.push(name);
    },
    finish() {
      const blob = writer.finish();
      return assertValidModel({
        graph: {
          format: MODEL_IR_FORMAT,
          version: MODEL_IR_VERSION,
          name: modelName,
          precision: "float32",
          inputs,
          outputs,
          tensors,
          ops,
          blob: { byteLength: blob.byteLength, sha256: computeBlobDigest(blob) },
        },
        blob,
      });
    },
  };
}
