/**
 * Training and inference images/s of a reference network on the active
 * backend: random 32x32 images, SGD with momentum, one warm-up step of each
 * (kernel setup, operator creation, weight packing) before the timed ones.
 * The throughput benchmark reports it per network; `doctor` prints a short
 * ResNet-8 figure so users see what their backend does.
 */
import * as tf from "@tensorflow/tfjs-core";
import { runTrainingStep } from "./loop.js";
import { createOptimizer } from "./optimizers.js";
import {
  createReferenceNetwork,
  REFERENCE_INPUT_RESOLUTION,
  type ReferenceNetworkName,
} from "./reference-networks.js";

export interface ThroughputOptions {
  readonly batch: number;
  /** Timed steps of each kind. */
  readonly steps: number;
  /** One untimed step of each kind first. @default true */
  readonly warmUp?: boolean;
}

export function measureThroughput(
  name: ReferenceNetworkName,
  options: ThroughputOptions,
): { train: number; infer: number } {
  const { batch, steps } = options;
  const side = REFERENCE_INPUT_RESOLUTION;
  const network = createReferenceNetwork(name, { classes: 10, seed: 1 });
  const optimizer = createOptimizer({ kind: "sgd", momentum: 0.9 }, network.parameters.trainable);
  const images = tf.randomNormal([batch, side, side, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const labels = tf.tidy(
    () =>
      tf.oneHot(
        tf.tensor1d(
          Array.from({ length: batch }, (_, i) => i % 10),
          "int32",
        ),
        10,
      ) as tf.Tensor2D,
  );
  const train = (): void => {
    runTrainingStep({ network, optimizer, images, labels, learningRate: 0.01, labelSmoothing: 0 });
  };
  const infer = (): void => {
    // The logits leave the tidy as a tensor: a typed array returned from a
    // tidy is walked element by element looking for tensors.
    const logits = tf.tidy(() => network.apply(images, { training: false }));
    logits.dataSync();
    logits.dispose();
  };
  const rate = (step: () => void): number => {
    if (options.warmUp ?? true) step();
    const start = performance.now();
    for (let i = 0; i < steps; i++) step();
    return (batch * steps * 1000) / (performance.now() - start);
  };
  try {
    return { train: rate(train), infer: rate(infer) };
  } finally {
    optimizer.dispose();
    network.parameters.dispose();
    tf.dispose([images, labels]);
  }
}
