/**
 * Building blocks for networks trained with a custom loop over tf.variables.
 *
 * tf.layers cannot express weight sharing across sub-networks of a supernet,
 * so networks here are plain functions of a `ParameterSet`: parameters are
 * created once, by name, with seeded initialisation, and every forward pass
 * reads them. Blocks avoid tensors of rank above 4 (very slow on wasm) and
 * `matMul(transposeA)` (several times slower than the equivalent layout).
 */
import * as tf from "@tensorflow/tfjs-core";
import { createSeededRandom, type SeededRandom } from "../datasets/seeded-random.js";
import { sumRows } from "./kernels/kernel-support.js";

export type Initializer = "he-normal" | "glorot-uniform" | "zeros" | "ones";

/** Whether a forward pass trains (batch statistics, state updates) or evaluates. */
export interface ForwardContext {
  readonly training: boolean;
  /**
   * While training, how batch-norm layers of a supernet fold each batch's
   * statistics into their running ones. Absent: the layer's own exponential
   * average. `{ momentum }`: running = momentum * running + (1 - momentum) *
   * batch (momentum 0 replaces them; k / (k + 1) for batch k keeps a plain
   * mean, which recalibration uses). `false`: left as they are (the smaller
   * sub-networks of a sandwich step must not disturb the largest one's).
   */
  readonly runningStatistics?: { readonly momentum: number } | false;
  /**
   * While training, whether dropout layers drop (and draw from their seeded
   * stream). @default true. Recalibration passes false: it runs in training
   * mode for batch statistics only, and must not shift the stream.
   */
  readonly dropout?: boolean;
}

/**
 * The named parameters of one network, in creation order. Trainable ones are
 * what optimizers update; state (batch-norm running statistics) is saved in
 * checkpoints but has no gradient.
 */
export class ParameterSet {
  readonly trainable: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];
  /** Logical name (as given to `weight`/`stateVariable`) -> variable. */
  readonly byName = new Map<string, tf.Variable>();
  private readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = createSeededRandom(seed);
  }

  /** Creates a trainable parameter; fan-in/fan-out follow the conv/dense layouts. */
  weight(name: string, shape: number[], init: Initializer): tf.Variable {
    const claimed = this.claim(name);
    // tidy disposes the initial tensor; the variable holds its own reference.
    const variable = tf.tidy(() => tf.variable(this.initialValue(shape, init), true, claimed));
    this.trainable.push(variable);
    this.byName.set(name, variable);
    return variable;
  }

  /** Creates a non-trainable state variable (e.g. a running mean). */
  stateVariable(name: string, shape: number[], init: "zeros" | "ones"): tf.Variable {
    const claimed = this.claim(name);
    const variable = tf.tidy(() => tf.variable(this.initialValue(shape, init), false, claimed));
    this.state.push(variable);
    this.byName.set(name, variable);
    return variable;
  }

  /** All variables (trainable first), the order checkpoints use. */
  all(): tf.Variable[] {
    return [...this.trainable, ...this.state];
  }

  /** The logical name of one of this set's variables. */
  nameOf(variable: tf.Variable): string {
    for (const [name, candidate] of this.byName) if (candidate === variable) return name;
    throw new Error(`variable ${variable.name} does not belong to this parameter set`);
  }

  dispose(): void {
    for (const variable of this.all()) variable.dispose();
    this.trainable.length = 0;
    this.state.length = 0;
    this.byName.clear();
  }

  private claim(name: string): string {
    if (this.byName.has(name)) throw new Error(`parameter ${name} defined twice`);
    // tfjs variable names are global to the engine: make ours unique per set
    // so two networks (or a network rebuilt in a test) never collide.
    return `${name}#${nextSetId++}`;
  }

  private initialValue(shape: number[], init: Initializer): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (init === "zeros") return tf.zeros(shape);
    if (init === "ones") return tf.ones(shape);
    const values = new Float32Array(size);
    // conv filters are [kh, kw, in, out]; dense weights are [in, out].
    const receptive = shape.length === 4 ? (shape[0] ?? 1) * (shape[1] ?? 1) : 1;
    const fanIn = receptive * (shape[shape.length - 2] ?? 1);
    const fanOut = receptive * (shape[shape.length - 1] ?? 1);
    if (init === "he-normal") {
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < size; i++) values[i] = this.random.nextNormal() * std;
    } else {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (this.random.next() * 2 - 1) * limit;
    }
    return tf.tensor(values, shape);
  }
}

let nextSetId = 0;

export type Layer<I extends tf.Tensor = tf.Tensor, O extends tf.Tensor = tf.Tensor> = (
  x: I,
  context: ForwardContext,
) => O;

/** Convolution without bias (batch norm follows). */
export function conv2d(
  params: ParameterSet,
  name: string,
  options: { inChannels: number; outChannels: number; kernel: number; stride?: number },
): Layer<tf.Tensor4D, tf.Tensor4D> {
  const filter = params.weight(
    `${name}/kernel`,
    [options.kernel, options.kernel, options.inChannels, options.outChannels],
    "he-normal",
  );
  const stride = options.stride ?? 1;
  return (x) => tf.conv2d(x, filter as tf.Tensor4D, stride, "same");
}

/** Depthwise convolution (multiplier 1) without bias. */
export function depthwiseConv2d(
  params: ParameterSet,
  name: string,
  options: { channels: number; kernel: number; stride?: number },
): Layer<tf.Tensor4D, tf.Tensor4D> {
  const filter = params.weight(
    `${name}/depthwise_kernel`,
    [options.kernel, options.kernel, options.channels, 1],
    "he-normal",
  );
  const stride = options.stride ?? 1;
  return (x) => tf.depthwiseConv2d(x, filter as tf.Tensor4D, stride, "same");
}

/**
 * Batch normalisation of NHWC activations with batch statistics, and its
 * hand-written gradient (see `batchNorm`). `onStatistics` receives each
 * batch's per-channel mean and variance, for running-statistics updates.
 * Shared by `batchNorm` and the block library's sliceable batch norm.
 */
export function createBatchNormTraining(
  epsilon: number,
  onStatistics: (mean: tf.Tensor, variance: tf.Tensor, channels: number) => void,
): (x: tf.Tensor4D, scale: tf.Tensor1D, shift: tf.Tensor1D) => tf.Tensor4D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, scale, shift, save] = args as [
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.GradSaveFunc,
    ];
    const shape = x.shape;
    const channels = shape[3];
    const rows = shape[0] * shape[1] * shape[2];
    const matrix = tf.reshape(x, [rows, channels]) as tf.Tensor2D;
    const mean = tf.div(sumRows(matrix), rows);
    const centered = tf.sub(matrix, mean);
    const variance = tf.div(sumRows(tf.square(centered) as tf.Tensor2D), rows);
    onStatistics(mean, variance, channels);
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalised = tf.mul(centered, inverseStd);
    const value = tf.reshape(tf.add(tf.mul(normalised, scale), shift), shape);
    save([normalised, inverseStd, scale]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, invStd, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const dyMatrix = tf.reshape(dy, [rows, channels]) as tf.Tensor2D;
        const dShift = sumRows(dyMatrix);
        const dScale = sumRows(tf.mul(dyMatrix, xHat) as tf.Tensor2D);
        // dx = g * invStd * (dy - mean(dy) - xHat * mean(dy * xHat))
        const centeredDy = tf.sub(
          tf.sub(dyMatrix, tf.div(dShift, rows)),
          tf.mul(xHat, tf.div(dScale, rows)),
        );
        const dx = tf.mul(centeredDy, tf.mul(invStd, g));
        return [
          tf.reshape(dx, shape),
          tf.reshape(dScale, [channels]),
          tf.reshape(dShift, [channels]),
        ];
      },
    };
  }) as (x: tf.Tensor4D, scale: tf.Tensor1D, shift: tf.Tensor1D) => tf.Tensor4D;
}

/**
 * Batch normalisation over NHWC channels: batch statistics while training
 * (and an exponential update of the running ones), running statistics
 * otherwise.
 *
 * Training uses a hand-written gradient: tfjs's FusedBatchNorm gradient tiles
 * the [C] statistics to the full activation shape and reduces over three
 * axes with transposes, which made it the single largest cost of a
 * MobileNetV2 training step on wasm. Here every per-channel reduction is one
 * `sumRows` pass over the activations viewed as an [N, C] matrix.
 */
export function batchNorm(
  params: ParameterSet,
  name: string,
  channels: number,
  momentum = 0.9,
  epsilon = 1e-3,
): Layer<tf.Tensor4D, tf.Tensor4D> {
  const gamma = params.weight(`${name}/gamma`, [channels], "ones") as tf.Tensor1D;
  const beta = params.weight(`${name}/beta`, [channels], "zeros") as tf.Tensor1D;
  const runningMean = params.stateVariable(`${name}/moving_mean`, [channels], "zeros");
  const runningVariance = params.stateVariable(`${name}/moving_variance`, [channels], "ones");
  const updateRunning = (mean: tf.Tensor, variance: tf.Tensor): void => {
    tf.tidy(() => {
      runningMean.assign(
        tf.reshape(tf.add(tf.mul(runningMean, momentum), tf.mul(mean, 1 - momentum)), [channels]),
      );
      runningVariance.assign(
        tf.reshape(tf.add(tf.mul(runningVariance, momentum), tf.mul(variance, 1 - momentum)), [
          channels,
        ]),
      );
    });
  };
  const train = createBatchNormTraining(epsilon, updateRunning);
  return (x, context) => {
    if (!context.training) {
      return tf.batchNorm4d(
        x,
        runningMean as tf.Tensor1D,
        runningVariance as tf.Tensor1D,
        beta,
        gamma,
        epsilon,
      );
    }
    return train(x, gamma, beta);
  };
}

/** Layer normalisation over the last axis, via moments. */
export function layerNorm(
  params: ParameterSet,
  name: string,
  features: number,
  epsilon = 1e-5,
): Layer<tf.Tensor2D, tf.Tensor2D> {
  const gamma = params.weight(`${name}/gamma`, [features], "ones");
  const beta = params.weight(`${name}/beta`, [features], "zeros");
  return (x) => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
    return tf.add(tf.mul(normalised, gamma), beta) as tf.Tensor2D;
  };
}

/** Fully connected layer on [rows, in] matrices. */
export function dense(
  params: ParameterSet,
  name: string,
  options: { inFeatures: number; outFeatures: number },
): Layer<tf.Tensor2D, tf.Tensor2D> {
  const kernel = params.weight(
    `${name}/kernel`,
    [options.inFeatures, options.outFeatures],
    "glorot-uniform",
  );
  const bias = params.weight(`${name}/bias`, [options.outFeatures], "zeros");
  const filterShape: [number, number, number, number] = [
    1,
    1,
    options.inFeatures,
    options.outFeatures,
  ];
  // Run as a 1x1 convolution over `rows` pixels: same arithmetic as matMul,
  // but its weight gradient avoids matMul(transposeA), which is several
  // times slower on wasm than the 1x1 convolution gradient.
  return (x) => {
    const rows = x.shape[0];
    const pixels = tf.reshape(x, [rows, 1, 1, options.inFeatures]) as tf.Tensor4D;
    const projected = tf.conv2d(pixels, tf.reshape(kernel, filterShape) as tf.Tensor4D, 1, "valid");
    return addBias(tf.reshape(projected, [rows, options.outFeatures]) as tf.Tensor2D, bias);
  };
}

/**
 * x + bias over the rows of a [rows, features] matrix. The gradient of a
 * broadcasting add reduces with `sum(dy, 0)`, which transposes on wasm; this
 * one sums with `sumRows`.
 */
export const addBias = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, bias] = args as [tf.Tensor2D, tf.Tensor1D];
  return {
    value: tf.add(x, bias),
    gradFunc: (dy: tf.Tensor) => [dy, tf.reshape(sumRows(dy as tf.Tensor2D), bias.shape)],
  };
}) as (x: tf.Tensor2D, bias: tf.Tensor) => tf.Tensor2D;

export function relu6<T extends tf.Tensor>(x: T): T {
  return tf.relu6(x);
}

/** GELU, exact (erf) form, as the INT8 lookup table will reproduce it. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** Global average pooling, NHWC -> [batch, channels]. */
export function globalAveragePool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]);
}

/**
 * Multi-head self-attention over [sequences * tokens, dim] rows. Heads are
 * split with a rank-4 transpose, never a rank-5 one.
 */
export function multiHeadAttention(
  params: ParameterSet,
  name: string,
  options: { dim: number; heads: number; tokens: number },
): Layer<tf.Tensor2D, tf.Tensor2D> {
  const { dim, heads, tokens } = options;
  if (dim % heads !== 0) throw new Error(`${name}: dim ${dim} not divisible by ${heads} heads`);
  const headDim = dim / heads;
  // Separate projections rather than one [dim, 3*dim] one: slicing Q, K and
  // V out of a shared projection goes through wasm's slow Slice kernel.
  const projections = ["q", "k", "v"].map((part) =>
    dense(params, `${name}/${part}`, { inFeatures: dim, outFeatures: dim }),
  );
  const out = dense(params, `${name}/out`, { inFeatures: dim, outFeatures: dim });
  const scale = 1 / Math.sqrt(headDim);
  return (x, context) => {
    const rows = x.shape[0];
    const sequences = rows / tokens;
    const split = (index: number): tf.Tensor3D => {
      const part = (projections[index] as Layer<tf.Tensor2D, tf.Tensor2D>)(x, context);
      const heads4 = tf.reshape(part, [sequences, tokens, heads, headDim]);
      return tf.reshape(tf.transpose(heads4, [0, 2, 1, 3]), [sequences * heads, tokens, headDim]);
    };
    const q = split(0);
    const k = split(1);
    const v = split(2);
    const scores = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
    const attended = tf.reshape(tf.matMul(scores, v), [sequences, heads, tokens, headDim]);
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [rows, dim]) as tf.Tensor2D;
    return out(merged, context);
  };
}
