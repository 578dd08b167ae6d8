/**
 * Batch normalisation whose variables a supernet's sub-networks share: each
 * sub-network normalises (and, while training, updates the running
 * statistics of) the first `channels` entries only.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  createBatchNormTraining,
  type ForwardContext,
  type ParameterSet,
} from "../training/layers.js";
import { prefixRegion } from "./sliceable-layers.js";
import type { VariableRegion } from "./types.js";

function checkChannels(layer: string, channels: number, max: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > max) {
    throw new Error(`${layer}: channels ${channels} is outside 1..${max}`);
  }
}

/**
 * Batch normalisation over the first `channels` of NHWC activations: batch
 * statistics while training (and an exponential update of the active slice
 * of the running ones), running statistics otherwise. Momentum is PyTorch's
 * BatchNorm2d default (running = 0.9 * running + 0.1 * batch); epsilon is
 * 1e-3, not PyTorch's 1e-5: with 1e-5 the search's barely trained
 * sub-networks fold channels of near-zero variance into scales up to 316,
 * and their INT8 accuracy collapsed (docs/training.md), while training
 * learned no more per epoch. The running variance takes the batch's biased
 * variance (PyTorch's is unbiased: a factor n / (n - 1) of at most 1.0001
 * for ResNet-8 at batch 128), so one batch of recalibration reproduces
 * training-mode statistics exactly. The training gradient
 * is hand-written (`createBatchNormTraining` in `training/layers.ts`:
 * per-channel sums with `sumRows`; tfjs's own FusedBatchNorm gradient is slow
 * on wasm).
 */
export class SliceableBatchNorm {
  readonly name: string;
  readonly maxChannels: number;
  readonly epsilon = 1e-3;
  readonly momentum = 0.9;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVariance: tf.Variable;
  private readonly train: (x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor4D;
  /** How the running statistics take in the current training call's batch (see ForwardContext). */
  private pendingUpdate: { readonly momentum: number } | false = { momentum: 0.9 };

  constructor(params: ParameterSet, name: string, maxChannels: number) {
    this.name = name;
    this.maxChannels = maxChannels;
    this.gamma = params.weight(`${name}/gamma`, [maxChannels], "ones");
    this.beta = params.weight(`${name}/beta`, [maxChannels], "zeros");
    this.movingMean = params.stateVariable(`${name}/moving_mean`, [maxChannels], "zeros");
    this.movingVariance = params.stateVariable(`${name}/moving_variance`, [maxChannels], "ones");
    const { epsilon } = this;
    this.train = createBatchNormTraining(epsilon, (mean, variance, channels) => {
      if (this.pendingUpdate !== false)
        this.updateRunning(mean, variance, channels, this.pendingUpdate.momentum);
    });
  }

  private slice(variable: tf.Variable, channels: number): tf.Tensor1D {
    checkChannels(this.name, channels, this.maxChannels);
    return (
      channels === this.maxChannels ? variable : tf.slice(variable, [0], [channels])
    ) as tf.Tensor1D;
  }

  /** Blends batch statistics into the running ones; channels beyond the active ones keep theirs. */
  private updateRunning(
    mean: tf.Tensor,
    variance: tf.Tensor,
    channels: number,
    momentum: number,
  ): void {
    tf.tidy(() => {
      for (const [running, batch] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const) {
        const blended = tf.reshape(
          tf.add(tf.mul(this.slice(running, channels), momentum), tf.mul(batch, 1 - momentum)),
          [channels],
        );
        running.assign(
          channels === this.maxChannels
            ? blended
            : tf.concat([blended, tf.slice(running, [channels], [this.maxChannels - channels])]),
        );
      }
    });
  }

  apply(x: tf.Tensor4D, context: ForwardContext): tf.Tensor4D {
    const channels = x.shape[3];
    if (context.training) {
      // The statistics callback runs synchronously inside `train`.
      this.pendingUpdate = context.runningStatistics ?? { momentum: this.momentum };
      return this.train(x, this.slice(this.gamma, channels), this.slice(this.beta, channels));
    }
    return tf.batchNorm4d(
      x,
      this.slice(this.movingMean, channels),
      this.slice(this.movingVariance, channels),
      this.slice(this.beta, channels),
      this.slice(this.gamma, channels),
      this.epsilon,
    );
  }

  /**
   * Inference-mode batch norm as y = scale * x + shift per channel, in double
   * precision, for folding into the preceding convolution.
   */
  fold(channels: number): { scale: Float64Array; shift: Float64Array } {
    checkChannels(this.name, channels, this.maxChannels);
    const [gamma, beta, mean, variance] = [
      this.gamma,
      this.beta,
      this.movingMean,
      this.movingVariance,
    ].map((v) => v.dataSync() as Float32Array) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const scale = new Float64Array(channels);
    const shift = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      const s = (gamma[c] as number) / Math.sqrt((variance[c] as number) + this.epsilon);
      scale[c] = s;
      shift[c] = (beta[c] as number) - (mean[c] as number) * s;
    }
    return { scale, shift };
  }

  variables(): tf.Variable[] {
    return [this.gamma, this.beta, this.movingMean, this.movingVariance];
  }

  regions(channels: number): VariableRegion[] {
    checkChannels(this.name, channels, this.maxChannels);
    return this.variables().map((variable) => prefixRegion(variable, [channels]));
  }
}
