/**
 * Runs a float model IR on TensorFlow.js (the training backend), many images
 * per call, for measuring float accuracy on a whole test split. The reference
 * interpreter (`src/interpreter/`) stays the oracle for single images and per
 * layer dumps; this is the same float32 model, evaluated by the backend's
 * batched kernels (wasm: XNNPACK with SIMD), so its logits agree with the
 * interpreter's within float32 rounding, not bit for bit (the interpreter
 * sums in doubles, the backend in float32 and in another order).
 *
 * Batching: every activation of an exported model has the batch outermost
 * (NHWC images, MobileViT's sequences as [batch * ph * pw, tokens, C]), so a
 * batch of B images is each tensor with its leading dimension times B. A
 * model that moves that dimension (a transpose of axis 0, a concatenation
 * along it) runs one image per call instead.
 */
import type * as TfCore from "@tensorflow/tfjs-core";
import { readTensorData } from "../model-ir/blob.js";
import { product } from "../model-ir/shapes.js";
import type {
  ActivationFunction,
  Conv2dOp,
  FusedActivation,
  Model,
  OpIR,
  TensorIR,
} from "../model-ir/types.js";
import { argmax, type EvaluationImages, floatImage } from "./evaluation-images.js";

type Tf = typeof TfCore;
type Tensor = TfCore.Tensor;

export interface TfjsFloatModel {
  /** Images per `logits` call the model accepts (1 when it cannot batch). */
  readonly maxBatch: number;
  /** Logits of `count` images stored one after another in `inputs` (the graph input's layout). */
  logits(inputs: Float32Array, count: number): Float32Array;
  /** Frees the backend tensors holding the weights. */
  dispose(): void;
}

/** The model's first dimension times `batch`: the batched shape of an activation. */
function batched(shape: readonly number[], batch: number): number[] {
  const [first = 1, ...rest] = shape;
  return [first * batch, ...rest];
}

/** Whether every op keeps the batch outermost (see the header). */
function keepsBatchOutermost(model: Model, tensors: Map<string, TensorIR>): boolean {
  return model.graph.ops.every((op) => {
    if (op.type === "transpose") return op.attrs.perm[0] === 0;
    if (op.type === "concat") {
      const rank = tensors.get(op.outputs[0] ?? "")?.shape.length ?? 0;
      return (op.attrs.axis < 0 ? op.attrs.axis + rank : op.attrs.axis) !== 0;
    }
    return true;
  });
}

/**
 * Loads a float32 model's weights onto the active tfjs backend. `maxBatch`
 * bounds the images per call (the activations of one call live at once).
 */
export function loadFloatModelOnTfjs(tf: Tf, model: Model, maxBatch = 100): TfjsFloatModel {
  const { graph } = model;
  if (graph.precision !== "float32") throw new Error(`model ${graph.name} is not a float32 model`);
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1)
    throw new Error(`model ${graph.name}: batched evaluation needs one input and one output`);
  const tensors = new Map(graph.tensors.map((t) => [t.name, t]));
  const tensorOf = (name: string): TensorIR => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`model ${graph.name}: unknown tensor ${name}`);
    return t;
  };
  const constants = new Map<string, Tensor>();
  for (const t of graph.tensors) {
    if (t.data !== undefined)
      constants.set(t.name, tf.tensor(readTensorData(model, t) as Float32Array, t.shape));
  }
  // Conv filters in tfjs's layouts, made once: OHWI -> HWIO, depthwise [C*m, kh, kw, 1] -> [kh, kw, C, m].
  const filters = new Map<string, Tensor[]>();
  for (const op of graph.ops) {
    if (op.type !== "conv2d") continue;
    const weight = constants.get(op.inputs[1] ?? "");
    if (weight === undefined)
      throw new Error(`${op.name}: batched evaluation needs constant conv weights`);
    filters.set(op.name, convFilters(tf, op, weight, tensorOf(op.inputs[0] ?? "").shape));
  }
  const input = tensorOf(graph.inputs[0] ?? "");
  const output = tensorOf(graph.outputs[0] ?? "");
  const batchLimit = keepsBatchOutermost(model, tensors) ? Math.max(1, maxBatch) : 1;
  const perImage = product(input.shape);

  const operand = (values: Map<string, Tensor>, op: OpIR, i: number): Tensor => {
    const name = op.inputs[i] ?? "";
    const v = values.get(name) ?? constants.get(name);
    if (v === undefined) throw new Error(`${op.name}: ${name} has no value`);
    return v;
  };

  /** One op's result; the caller reshapes it to the op's batched output shape. */
  const runOp = (op: OpIR, values: Map<string, Tensor>, batch: number): Tensor => {
    const x = operand(values, op, 0);
    switch (op.type) {
      case "conv2d": {
        const y = conv(tf, op, x, filters.get(op.name) ?? []);
        const bias = op.inputs[2] === undefined ? undefined : operand(values, op, 2);
        return fused(tf, bias === undefined ? y : tf.add(y, bias), op.attrs.activation);
      }
      case "linear": {
        const inFeatures = tensorOf(op.inputs[1] ?? "").shape[1] ?? 1;
        let y = tf.matMul(tf.reshape(x, [-1, inFeatures]), operand(values, op, 1), false, true);
        if (op.inputs[2] !== undefined) y = tf.add(y, operand(values, op, 2));
        return fused(tf, y, op.attrs.activation);
      }
      case "matmul": {
        const y = tf.matMul(x, operand(values, op, 1), false, op.attrs.transposeB);
        return op.attrs.alpha === 1 ? y : tf.mul(y, op.attrs.alpha);
      }
      case "add":
        return fused(tf, tf.add(x, operand(values, op, 1)), op.attrs.activation);
      case "mul":
        return fused(tf, tf.mul(x, operand(values, op, 1)), op.attrs.activation);
      case "avg_pool2d":
        return tf.avgPool(
          x as TfCore.Tensor4D,
          op.attrs.poolSize,
          op.attrs.strides,
          op.attrs.padding,
        );
      case "global_avg_pool":
        return tf.mean(x, [1, 2]);
      case "layer_norm": {
        const { mean, variance } = tf.moments(x, -1, true);
        const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, op.attrs.epsilon)));
        return tf.add(tf.mul(normed, operand(values, op, 1)), operand(values, op, 2));
      }
      case "softmax":
        return tf.softmax(op.attrs.beta === 1 ? x : tf.mul(x, op.attrs.beta));
      case "activation":
        return activation(tf, x, op.attrs.function);
      case "reshape":
        return x;
      case "transpose":
        return tf.transpose(x, op.attrs.perm);
      case "unfold": {
        // [B, H, W, C] -> [B, H/ph, ph, W/pw, pw, C] -> [B, ph, pw, H/ph, W/pw, C].
        const [, h = 0, w = 0, c = 0] = tensorOf(op.inputs[0] ?? "").shape;
        const [ph, pw] = op.attrs.patchSize;
        const split = tf.reshape(x, [batch, h / ph, ph, w / pw, pw, c]);
        return tf.transpose(split, [0, 2, 4, 1, 3, 5]);
      }
      case "fold": {
        const { height: h, width: w, patchSize } = op.attrs;
        const [ph, pw] = patchSize;
        const c = tensorOf(op.inputs[0] ?? "").shape[2] ?? 0;
        const split = tf.reshape(x, [batch, ph, pw, h / ph, w / pw, c]);
        return tf.transpose(split, [0, 3, 1, 4, 2, 5]);
      }
      case "concat":
        return tf.concat(
          op.inputs.map((_, i) => operand(values, op, i)),
          op.attrs.axis,
        );
      default:
        return unreachable(op);
    }
  };

  return {
    maxBatch: batchLimit,
    logits(inputs, count) {
      if (count < 1 || count > batchLimit)
        throw new Error(`model ${graph.name}: ${count} images per call (1 to ${batchLimit})`);
      if (inputs.length !== count * perImage)
        throw new Error(
          `model ${graph.name}: ${count} images need ${count * perImage} values, got ${inputs.length}`,
        );
      return tf.tidy(() => {
        const values = new Map<string, Tensor>();
        values.set(input.name, tf.tensor(inputs, batched(input.shape, count)));
        for (const op of graph.ops) {
          const shape = batched(tensorOf(op.outputs[0] ?? "").shape, count);
          values.set(op.outputs[0] ?? "", tf.reshape(runOp(op, values, count), shape));
        }
        const out = values.get(output.name);
        if (out === undefined) throw new Error(`output ${output.name} was not computed`);
        return out.dataSync() as Float32Array;
      });
    },
    dispose() {
      for (const t of constants.values()) t.dispose();
      for (const list of filters.values()) for (const t of list) t.dispose();
    },
  };
}

/** The filter(s) of a conv in tfjs's layout: one for a dense or depthwise conv, one per group otherwise. */
function convFilters(tf: Tf, op: Conv2dOp, weight: Tensor, inputShape: number[]): Tensor[] {
  const [o = 0, kh = 0, kw = 0, cig = 0] = weight.shape;
  const channels = inputShape[3] ?? 0;
  const { groups } = op.attrs;
  return tf.tidy(() => {
    if (groups === 1) return [tf.transpose(weight, [1, 2, 3, 0])];
    if (groups === channels && cig === 1) {
      const m = o / channels;
      return [tf.transpose(tf.reshape(weight, [channels, m, kh, kw]), [2, 3, 0, 1])];
    }
    return tf.split(weight, groups, 0).map((part) => tf.transpose(part, [1, 2, 3, 0]));
  });
}

function conv(tf: Tf, op: Conv2dOp, x: Tensor, filters: Tensor[]): Tensor {
  const { strides, dilations, padding, groups } = op.attrs;
  const x4 = x as TfCore.Tensor4D;
  const channels = x.shape[3] ?? 0;
  if (groups === 1 || filters.length === 1) {
    const filter = filters[0] as TfCore.Tensor4D;
    return groups === 1
      ? tf.conv2d(x4, filter, strides, padding, "NHWC", dilations)
      : tf.depthwiseConv2d(x4, filter, strides, padding, "NHWC", dilations);
  }
  if (channels % groups !== 0)
    throw new Error(`${op.name}: ${channels} channels in ${groups} groups`);
  const parts = tf.split(x4, groups, 3) as TfCore.Tensor4D[];
  return tf.concat(
    parts.map((part, g) =>
      tf.conv2d(part, filters[g] as TfCore.Tensor4D, strides, padding, "NHWC", dilations),
    ),
    3,
  );
}

function fused(tf: Tf, x: Tensor, act: FusedActivation): Tensor {
  return act === "none" ? x : act === "relu" ? tf.relu(x) : tf.relu6(x);
}

/** The element-wise functions of `src/int8/lut.ts`'s float transforms, in tfjs ops. */
function activation(tf: Tf, x: Tensor, fn: ActivationFunction): Tensor {
  switch (fn) {
    case "relu":
      return tf.relu(x);
    case "relu6":
      return tf.relu6(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "tanh":
      return tf.tanh(x);
    case "silu":
      return tf.mul(x, tf.sigmoid(x));
    case "hard_swish":
      return tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6);
    case "hard_sigmoid":
      return tf.div(tf.relu6(tf.add(x, 3)), 6);
    case "gelu":
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case "gelu_tanh": {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    default:
      return unreachable(fn);
  }
}

function unreachable(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}

export interface FloatPredictionOptions {
  /** Images per backend call. @default 100 */
  readonly batch?: number;
  readonly signal?: AbortSignal;
  /** Called with the number of images predicted so far, after each batch. */
  readonly onProgress?: (done: number) => void;
}

/**
 * The float model's class for every image of `set`, in image order, on the
 * active tfjs backend. Yields to the event loop between batches, so the INT8
 * workers' messages (and cancellation) are handled while it runs.
 */
export async function predictFloatClasses(
  tf: Tf,
  model: Model,
  set: EvaluationImages,
  options: FloatPredictionOptions = {},
): Promise<Int32Array> {
  const runner = loadFloatModelOnTfjs(tf, model, options.batch ?? 100);
  try {
    const classes = new Int32Array(set.count);
    const perImage = set.pixels;
    for (let start = 0; start < set.count; start += runner.maxBatch) {
      options.signal?.throwIfAborted();
      const count = Math.min(runner.maxBatch, set.count - start);
      const inputs = new Float32Array(count * perImage);
      for (let i = 0; i < count; i++) inputs.set(floatImage(set, start + i), i * perImage);
      const logits = runner.logits(inputs, count);
      const classCount = logits.length / count;
      for (let i = 0; i < count; i++)
        classes[start + i] = argmax(logits.subarray(i * classCount, (i + 1) * classCount));
      options.onProgress?.(start + count);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return classes;
  } finally {
    runner.dispose();
  }
}
