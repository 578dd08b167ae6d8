/**
 * What networks trained with a custom loop over tf.variables are made of:
 * named, seeded parameters and the few differentiable primitives whose tfjs
 * gradients are slow on wasm.
 *
 * tf.layers cannot express weight sharing across sub-networks of a supernet,
 * so networks are plain functions of a `ParameterSet`: parameters are created
 * once, by name, with seeded initialisation, and every forward pass reads
 * them. The layers themselves (conv, depthwise, batch norm, LayerNorm,
 * linear, attention) are the block library's (`src/blocks/sliceable-*.ts`),
 * which avoid tensors of rank above 4 (very slow on wasm) and
 * `matMul(transposeA)` (several times slower than the equivalent layout).
 */
import * as tf from "@tensorflow/tfjs-core";
import { createSeededRandom, type SeededRandom } from "../datasets/seeded-random.js";
import { sumRows } from "./kernels/kernel-support.js";

/**
 * How a parameter starts. `fan-in-uniform` is U(-1/sqrt(fanIn), 1/sqrt(fanIn)):
 * PyTorch's default for convolution and linear weights
 * (`kaiming_uniform_(a=sqrt(5))`) and, given the layer's fan-in, for linear
 * biases. The block library uses it so a recipe trains like the same network
 * in PyTorch: He-normal weights, sqrt(6) times larger, cut the effective
 * learning rate of every batch-normalised convolution about six-fold and
 * cost several points at equal epochs (docs/training.md).
 */
export type Initializer = "fan-in-uniform" | "zeros" | "ones";

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

  /**
   * Creates a trainable parameter. The fan-in follows the layouts the block
   * library uses (conv filters [kh, kw, in, out], dense [in, out]) unless
   * given: a depthwise filter [kh, kw, channels, 1] has fan-in kh * kw (one
   * input channel per output), and a bias takes its layer's.
   */
  weight(name: string, shape: number[], init: Initializer, fanIn?: number): tf.Variable {
    const claimed = this.claim(name);
    // tidy disposes the initial tensor; the variable holds its own reference.
    const variable = tf.tidy(() =>
      tf.variable(this.initialValue(shape, init, fanIn), true, claimed),
    );
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

  private initialValue(shape: number[], init: Initializer, fanIn?: number): tf.Tensor {
    if (init === "zeros") return tf.zeros(shape);
    if (init === "ones") return tf.ones(shape);
    const receptive = shape.length === 4 ? (shape[0] ?? 1) * (shape[1] ?? 1) : 1;
    const limit = 1 / Math.sqrt(fanIn ?? receptive * (shape[shape.length - 2] ?? 1));
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = (this.random.next() * 2 - 1) * limit;
    return tf.tensor(values, shape);
  }
}

let nextSetId = 0;

/**
 * Batch normalisation of NHWC activations with batch statistics, and its
 * hand-written gradient. `onStatistics` receives each batch's per-channel
 * mean and variance, for running-statistics updates (the block library's
 * `SliceableBatchNorm` owns the variables).
 *
 * tfjs's FusedBatchNorm gradient tiles the [C] statistics to the full
 * activation shape and reduces over three axes with transposes, which made it
 * the single largest cost of a MobileNetV2 training step on wasm. Here every
 * per-channel reduction is one `sumRows` pass over the activations viewed as
 * an [N, C] matrix.
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

/** GELU, exact (erf) form, as the INT8 lookup table will reproduce it. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}
