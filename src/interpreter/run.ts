/**
 * The reference interpreter: executes the ops of a model in order.
 * `runFloat` runs a float32 model (the oracle for the trained network),
 * `runInt8` an int8 model with exact integer semantics (the oracle the
 * generated C must match byte for byte). Both can return every tensor.
 */
import type { Model, OpIR } from "../model-ir/types.js";
import { type KernelContext, unreachable } from "./context.js";
import { activationFloat, activationInt8 } from "./ops/activation.js";
import { conv2dFloat, conv2dInt8 } from "./ops/conv2d.js";
import { concatFloat, concatInt8, fold, reshape, transpose, unfold } from "./ops/data-movement.js";
import { addFloat, addInt8, mulFloat, mulInt8 } from "./ops/elementwise.js";
import { linearFloat, linearInt8, matmulFloat, matmulInt8 } from "./ops/linear.js";
import {
  layerNormFloat,
  layerNormInt8Kernel,
  softmaxFloat,
  softmaxInt8Kernel,
} from "./ops/normalization.js";
import {
  avgPool2dFloat,
  avgPool2dInt8,
  globalAvgPoolFloat,
  globalAvgPoolInt8,
} from "./ops/pooling.js";
import { type PreparedModel, prepareModel, tensorOf } from "./prepare.js";

export interface RunOptions {
  /** Keep every activation tensor (by name) in the result. @default false */
  dump?: boolean;
}

export interface RunResult<V> {
  /** Graph outputs, in graph.outputs order. */
  outputs: V[];
  /** Every activation (inputs included) when `dump` was set. */
  tensors?: Map<string, V>;
}

type Value = Float32Array | Int8Array | Int32Array;

function execute<V extends Value>(
  model: Model,
  precision: "float32" | "int8",
  inputs: V[],
  kernel: (ctx: KernelContext<V>) => V,
  options: RunOptions,
): RunResult<V> {
  const { graph } = model;
  if (graph.precision !== precision)
    throw new Error(`model ${graph.name} is ${graph.precision}, not ${precision}`);
  const prepared: PreparedModel = prepareModel(model);
  if (inputs.length !== graph.inputs.length) {
    throw new Error(
      `model ${graph.name} takes ${graph.inputs.length} inputs, got ${inputs.length}`,
    );
  }
  const live = new Map<string, V>();
  graph.inputs.forEach((name, i) => {
    const t = tensorOf(prepared, name);
    const v = inputs[i] as V;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (v.length !== n) throw new Error(`input ${name} needs ${n} values, got ${v.length}`);
    live.set(name, v);
  });
  for (const op of graph.ops) {
    const values = op.inputs.map((name) => {
      const v = live.get(name) ?? (prepared.constants.get(name) as V | undefined);
      if (v === undefined) throw new Error(`${op.name}: ${name} has no value`);
      return v;
    });
    const output = tensorOf(prepared, op.outputs[0] ?? "");
    const ctx = { op, values, inputs: op.inputs.map((n) => tensorOf(prepared, n)), output };
    live.set(output.name, kernel(ctx));
  }
  const outputs = graph.outputs.map((name) => {
    const v = live.get(name);
    if (v === undefined) throw new Error(`output ${name} was not computed`);
    return v;
  });
  return options.dump === true ? { outputs, tensors: live } : { outputs };
}

function floatKernel(ctx: KernelContext<Float32Array>): Float32Array {
  const op: OpIR = ctx.op;
  switch (op.type) {
    case "conv2d":
      return conv2dFloat({ ...ctx, op });
    case "linear":
      return linearFloat({ ...ctx, op });
    case "matmul":
      return matmulFloat({ ...ctx, op });
    case "add":
      return addFloat({ ...ctx, op });
    case "mul":
      return mulFloat({ ...ctx, op });
    case "avg_pool2d":
      return avgPool2dFloat({ ...ctx, op });
    case "global_avg_pool":
      return globalAvgPoolFloat({ ...ctx, op });
    case "layer_norm":
      return layerNormFloat({ ...ctx, op });
    case "softmax":
      return softmaxFloat({ ...ctx, op });
    case "activation":
      return activationFloat({ ...ctx, op });
    case "reshape":
      return reshape(ctx);
    case "transpose":
      return transpose({ ...ctx, op });
    case "unfold":
      return unfold({ ...ctx, op });
    case "fold":
      return fold({ ...ctx, op });
    case "concat":
      return concatFloat({ ...ctx, op });
    default:
      return unreachable(op);
  }
}

function int8Kernel(ctx: KernelContext<Int8Array | Int32Array>): Int8Array | Int32Array {
  const op: OpIR = ctx.op;
  switch (op.type) {
    case "conv2d":
      return conv2dInt8({ ...ctx, op });
    case "linear":
      return linearInt8({ ...ctx, op });
    case "matmul":
      return matmulInt8({ ...ctx, op });
    case "add":
      return addInt8({ ...ctx, op });
    case "mul":
      return mulInt8({ ...ctx, op });
    case "avg_pool2d":
      return avgPool2dInt8({ ...ctx, op });
    case "global_avg_pool":
      return globalAvgPoolInt8({ ...ctx, op });
    case "layer_norm":
      return layerNormInt8Kernel({ ...ctx, op });
    case "softmax":
      return softmaxInt8Kernel({ ...ctx, op });
    case "activation":
      return activationInt8({ ...ctx, op });
    case "reshape":
      return reshape(ctx);
    case "transpose":
      return transpose({ ...ctx, op });
    case "unfold":
      return unfold({ ...ctx, op });
    case "fold":
      return fold({ ...ctx, op });
    case "concat":
      return concatInt8({ ...ctx, op });
    default:
      return unreachable(op);
  }
}

/** Runs a float32 model on one float input (or one per graph input). */
export function runFloat(
  model: Model,
  input: Float32Array | Float32Array[],
  options: RunOptions = {},
): RunResult<Float32Array> {
  return execute(model, "float32", Array.isArray(input) ? input : [input], floatKernel, options);
}

/** Runs an int8 model on one int8 input (or one per graph input). */
export function runInt8(
  model: Model,
  input: Int8Array | Int8Array[],
  options: RunOptions = {},
): RunResult<Int8Array> {
  const result = execute<Int8Array | Int32Array>(
    model,
    "int8",
    Array.isArray(input) ? input : [input],
    int8Kernel,
    options,
  );
  return result as RunResult<Int8Array>;
}
