/**
 * The classifier head: global average pooling, dropout while training, and a
 * linear layer to the class logits. Kept dense by default (role
 * `classifier`).
 *
 * Dropout masks come from the network's own seeded stream (mulberry32)
 * rather than `tf.dropout`'s seed, which would draw the same mask on every
 * call: training stays a function of the recipe's seed.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createSeededRandom, deriveSeed } from "../datasets/seeded-random.js";
import type { ParameterSet } from "../training/layers.js";
import { exportLinear } from "./ir-export.js";
import { SliceableLinear } from "./sliceable-layers.js";
import type { Block } from "./types.js";

export interface ClassifierShape {
  readonly maxInChannels: number;
  readonly classes: number;
  /** Probability of zeroing a pooled feature while training. @default 0 */
  readonly dropout?: number;
  /** Seeds the dropout masks. */
  readonly seed: number;
}

export interface ClassifierChoice {
  readonly inChannels: number;
}

export function createClassifierHead(
  params: ParameterSet,
  name: string,
  shape: ClassifierShape,
): Block<ClassifierChoice, tf.Tensor4D, tf.Tensor2D> {
  const dropout = shape.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`${name}: dropout ${dropout} outside [0, 1)`);
  const linear = new SliceableLinear(params, name, shape.maxInChannels, shape.classes);
  const random = createSeededRandom(deriveSeed(shape.seed, `${name}/dropout`));
  const drop = (x: tf.Tensor2D): tf.Tensor2D => {
    const mask = new Float32Array(x.size);
    const keep = 1 - dropout;
    for (let i = 0; i < mask.length; i++) mask[i] = random.next() < keep ? 1 / keep : 0;
    return tf.mul(x, tf.tensor2d(mask, x.shape));
  };
  return {
    name,
    bind(choice) {
      const linearChoice = { inFeatures: choice.inChannels, outFeatures: shape.classes };
      return {
        apply(x, context) {
          const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
          const dropping = context.training && (context.dropout ?? true) && dropout > 0;
          const features = dropping ? drop(pooled) : pooled;
          return linear.apply(features, linearChoice);
        },
        layers: () => [linear.info(linearChoice, "classifier")],
        regions: () => linear.regions(linearChoice),
        exportTo(context, input) {
          const pooled = context.builder.op({
            type: "global_avg_pool",
            name: `${name}.pool`,
            inputs: [input],
            attrs: {},
          });
          return exportLinear(context, {
            input: pooled,
            linear,
            weight: linear.info(linearChoice, "classifier"),
          });
        },
      };
    },
  };
}
