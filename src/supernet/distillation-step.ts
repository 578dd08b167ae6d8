/**
 * One fine-tuning step of a searched sub-network that also learns from a
 * teacher (the supernet's largest sub-network, frozen): the loss is the mean
 * of the cross-entropy against the labels (with label smoothing) and against
 * the teacher's softmax. Pruning removes capacity the teacher still has, and
 * its predictions carry more per image than a hard label on a small dataset.
 */
import * as tf from "@tensorflow/tfjs-core";
import { readStepResult, type StepGradients, type TrainingStepInput } from "../training/loop.js";

export function runDistillationStep(
  input: TrainingStepInput,
  teacher: (images: tf.Tensor4D) => tf.Tensor2D,
): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const { grads, loss, accuracy } = computeDistillationGradients(input, teacher);
    input.optimizer.step(grads, input.learningRate);
    return readStepResult(loss, accuracy);
  });
}

/** The step's gradients before the update (what a data-parallel replica computes). Call inside a `tidy`. */
export function computeDistillationGradients(
  input: Pick<TrainingStepInput, "network" | "images" | "labels" | "labelSmoothing">,
  teacher: (images: tf.Tensor4D) => tf.Tensor2D,
): StepGradients {
  const soft = tf.softmax(teacher(input.images));
  let hits: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = input.network.apply(input.images, { training: true });
    hits = tf.keep(
      tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(input.labels, 1)), "float32")),
    );
    const hard = tf.losses.softmaxCrossEntropy(
      input.labels,
      logits,
      undefined,
      input.labelSmoothing,
    );
    const distilled = tf.losses.softmaxCrossEntropy(soft, logits);
    return tf.mul(tf.add(hard, distilled), 0.5) as tf.Scalar;
  }, input.network.parameters.trainable);
  return { grads, loss: value, accuracy: hits as tf.Scalar };
}
