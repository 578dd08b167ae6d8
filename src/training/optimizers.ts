/**
 * SGD with momentum and Adam, written over tf.variables rather than taken
 * from tf.train: the update rules are spelt out (so checkpoints can save and
 * restore every slot by name) and the learning rate is an argument of each
 * step (so the schedule lives in one place).
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
  /** Applies one update; `gradients` maps each variable's tfjs name to its gradient. */
  step(gradients: tf.NamedTensorMap, learningRate: number): void;
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
  const gradientOf = (gradients: tf.NamedTensorMap, variable: tf.Variable): tf.Tensor => {
    const gradient = gradients[variable.name];
    if (gradient === undefined) throw new Error(`no gradient for variable ${variable.name}`);
    return gradient;
  };
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
    step(gradients, learningRate) {
      iterations++;
      tf.tidy(() => {
        for (const [index, variable] of variables.entries()) {
          let gradient = gradientOf(gradients, variable);
          if (config.kind === "sgd") {
            const momentum = config.momentum ?? 0.9;
            const decay = config.weightDecay ?? 0;
            if (decay !== 0) gradient = tf.add(gradient, tf.mul(variable, decay));
            const velocity = slot("momentum", index);
            const nextVelocity = tf.add(tf.mul(velocity, momentum), gradient);
            velocity.assign(nextVelocity);
            const direction = config.nesterov
              ? tf.add(gradient, tf.mul(nextVelocity, momentum))
              : nextVelocity;
            variable.assign(tf.sub(variable, tf.mul(direction, learningRate)));
          } else {
            const beta1 = config.beta1 ?? 0.9;
            const beta2 = config.beta2 ?? 0.999;
            const epsilon = config.epsilon ?? 1e-8;
            const m = slot("m", index);
            const v = slot("v", index);
            const nextM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
            const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
            m.assign(nextM);
            v.assign(nextV);
            const correctedM = tf.div(nextM, 1 - beta1 ** iterations);
            const correctedV = tf.div(nextV, 1 - beta2 ** iterations);
            let update = tf.div(correctedM, tf.add(tf.sqrt(correctedV), epsilon));
            const decay = config.weightDecay ?? 0;
            if (decay !== 0) update = tf.add(update, tf.mul(variable, decay));
            variable.assign(tf.sub(variable, tf.mul(update, learningRate)));
          }
        }
      });
    },
  };
}
