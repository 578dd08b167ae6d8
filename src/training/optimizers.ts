/**
 * SGD with momentum and Adam, written over tf.variables rather than taken
 * from tf.train: the update rules are spelt out (so checkpoints can save and
 * restore every slot by name) and the learning rate is an argument of each
 * step (so the schedule lives in one place).
 *
 * A supernet step trains a few sub-networks that read slices of shared
 * variables, so a step may leave variables without a gradient (they are
 * skipped: no momentum, no decay) and may use only part of others (a mask
 * then limits the update, momentum and decay to the elements it used, so a
 * slice no sub-network of the step read is not decayed towards zero).
 */
import * as tf from "@tensorflow/tfjs-core";

export type OptimizerConfig =
  | {
      readonly kind: "sgd";
      /** @default 0.9 */
      readonly momentum?: number;
      /** @default false */
      readonly nesterov?: boolean;
      /** L2 penalty added to the gradient. @default 0 */
      readonly weightDecay?: number;
    }
  | {
      readonly kind: "adam";
      /** @default 0.9 */
      readonly beta1?: number;
      /** @default 0.999 */
      readonly beta2?: number;
      /** @default 1e-8 */
      readonly epsilon?: number;
      /** Decoupled (AdamW) weight decay. @default 0 */
      readonly weightDecay?: number;
    };

export interface Optimizer {
  /**
   * Applies one update; `gradients` maps each variable's tfjs name to its
   * gradient (a variable without one is left alone). `masks` (boolean tensors
   * of the variables' shapes, by tfjs name) restrict a variable's update to
   * the elements the step used.
   */
  step(
    gradients: tf.NamedTensorMap,
    learningRate: number,
    masks?: ReadonlyMap<string, tf.Tensor>,
  ): void;
  /** Steps taken so far (Adam's bias correction depends on it). */
  readonly iterations: number;
  /** Slot variables by "<slot>/<variable index>", for checkpoints. */
  slots(): Map<string, tf.Variable>;
  /** Restores the step counter (slots are restored by assigning to `slots()`). */
  setIterations(iterations: number): void;
  dispose(): void;
}

export function createOptimizer(
  config: OptimizerConfig,
  variables: readonly tf.Variable[],
): Optimizer {
  const slotNames = config.kind === "sgd" ? ["momentum"] : ["m", "v"];
  const slots = new Map<string, tf.Variable>();
  for (const name of slotNames) {
    for (const [index, variable] of variables.entries()) {
      slots.set(
        `${name}/${index}`,
        tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
      );
    }
  }
  const slot = (name: string, index: number): tf.Variable =>
    slots.get(`${name}/${index}`) as tf.Variable;
  let iterations = 0;
  return {
    get iterations() {
      return iterations;
    },
    slots: () => slots,
    setIterations(value: number) {
      iterations = value;
    },
    dispose() {
      for (const variable of slots.values()) variable.dispose();
      slots.clear();
    },
    step(gradients, learningRate, masks) {
      iterations++;
      tf.tidy(() => {
        for (const [index, variable] of variables.entries()) {
          let gradient = gradients[variable.name];
          if (gradient === undefined) continue;
          const mask = masks?.get(variable.name);
          // Outside the mask every slot and the variable keep their values.
          const assign = (target: tf.Variable, value: tf.Tensor) =>
            target.assign(mask === undefined ? value : tf.where(mask, value, target));
          if (config.kind === "sgd") {
            const momentum = config.momentum ?? 0.9;
            const decay = config.weightDecay ?? 0;
            if (decay !== 0) gradient = tf.add(gradient, tf.mul(variable, decay));
            const velocity = slot("momentum", index);
            const nextVelocity = tf.add(tf.mul(velocity, momentum), gradient);
            const direction = config.nesterov
              ? tf.add(gradient, tf.mul(nextVelocity, momentum))
              : nextVelocity;
            assign(velocity, nextVelocity);
            assign(variable, tf.sub(variable, tf.mul(direction, learningRate)));
          } else {
            const beta1 = config.beta1 ?? 0.9;
            const beta2 = config.beta2 ?? 0.999;
            const epsilon = config.epsilon ?? 1e-8;
            const m = slot("m", index);
            const v = slot("v", index);
            const nextM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
            const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
            assign(m, nextM);
            assign(v, nextV);
            const correctedM = tf.div(nextM, 1 - beta1 ** iterations);
            const correctedV = tf.div(nextV, 1 - beta2 ** iterations);
            let update = tf.div(correctedM, tf.add(tf.sqrt(correctedV), epsilon));
            const decay = config.weightDecay ?? 0;
            if (decay !== 0) update = tf.add(update, tf.mul(variable, decay));
            assign(variable, tf.sub(variable, tf.mul(update, learningRate)));
          }
        }
      });
    },
  };
}
