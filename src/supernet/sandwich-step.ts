/**
 * One supernet training step by the sandwich rule (Yu et al., BigNAS /
 * slimmable networks) with in-place distillation:
 *
 *   batch ─► largest sub-network: loss against the labels (label smoothing),
 *            its predictions kept as soft targets; only it updates the
 *            batch-norm running statistics
 *         ─► smallest and N random sub-networks: loss against the largest's
 *            predictions (or the labels without distillation)
 *         ─► gradients summed over all of them ─► one optimizer step,
 *            restricted to the elements some sub-network of the step read
 *
 * The sub-networks are chosen by the caller (seeded per step), so a step is
 * a pure function of (weights, optimizer state, batch, choices).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Supernet } from "../blocks/network.js";
import type { ArchitectureChoice } from "../blocks/search-space.js";
import type { VariableRegion } from "../blocks/types.js";
import { readStepResult, type StepGradients } from "../training/loop.js";
import type { Optimizer } from "../training/optimizers.js";
import { createUpdateMasks } from "./region-masks.js";

export interface SandwichGradientsInput {
  readonly supernet: Supernet;
  readonly images: tf.Tensor4D;
  /** One-hot labels. */
  readonly labels: tf.Tensor2D;
  readonly labelSmoothing: number;
  /** The sub-networks of this step, the largest first (the teacher). */
  readonly choices: readonly ArchitectureChoice[];
  /** Students learn from the largest's predictions rather than the labels. */
  readonly distillation: boolean;
}

export interface SandwichStepInput extends SandwichGradientsInput {
  readonly optimizer: Optimizer;
  readonly learningRate: number;
}

/** A sandwich step's summed gradients, and the regions of the variables its sub-networks read. */
export interface SandwichGradients extends StepGradients {
  readonly regions: readonly VariableRegion[];
}

/** Runs one step; returns the largest sub-network's loss and accuracy on the batch. */
export function runSandwichStep(input: SandwichStepInput): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const { grads, loss, accuracy, regions } = computeSandwichGradients(input);
    const masks = createUpdateMasks(regions.filter((region) => region.variable.trainable));
    input.optimizer.step(grads, input.learningRate, masks);
    for (const mask of masks.values()) mask.dispose();
    return readStepResult(loss, accuracy);
  });
}

/**
 * The gradients of a step summed over its sub-networks, before the update
 * (what a data-parallel replica computes on its shard). Call inside a `tidy`;
 * the loss and accuracy are the largest sub-network's.
 */
export function computeSandwichGradients(input: SandwichGradientsInput): SandwichGradients {
  const [teacherChoice, ...students] = input.choices;
  if (teacherChoice === undefined)
    throw new Error("a sandwich step needs at least one sub-network");
  const summed = new Map<string, tf.Tensor>();
  const accumulate = (grads: tf.NamedTensorMap) => {
    for (const [name, gradient] of Object.entries(grads)) {
      const previous = summed.get(name);
      summed.set(name, previous === undefined ? gradient : tf.add(previous, gradient));
    }
  };
  const regions: VariableRegion[] = [];
  let soft: tf.Tensor | undefined;
  let hits: tf.Tensor | undefined;
  let teacherLoss: tf.Scalar | undefined;
  for (const [index, choice] of [teacherChoice, ...students].entries()) {
    const network = input.supernet.subnet(choice);
    const networkRegions = network.regions();
    regions.push(...networkRegions);
    const teacher = index === 0;
    const { value, grads } = tf.variableGrads(() => {
      const logits = network.apply(input.images, {
        training: true,
        ...(teacher ? {} : { runningStatistics: false as const }),
      });
      if (teacher) {
        hits = tf.keep(
          tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(input.labels, 1)), "float32")),
        );
        if (input.distillation) soft = tf.keep(tf.softmax(logits));
        return tf.losses.softmaxCrossEntropy(
          input.labels,
          logits,
          undefined,
          input.labelSmoothing,
        ) as tf.Scalar;
      }
      const targets = input.distillation ? (soft as tf.Tensor) : input.labels;
      const smoothing = input.distillation ? 0 : input.labelSmoothing;
      return tf.losses.softmaxCrossEntropy(targets, logits, undefined, smoothing) as tf.Scalar;
    }, network.parameters.trainable);
    if (teacher) teacherLoss = value;
    accumulate(grads);
  }
  soft?.dispose();
  return {
    grads: Object.fromEntries(summed),
    loss: teacherLoss as tf.Scalar,
    accuracy: hits as tf.Scalar,
    regions,
  };
}
