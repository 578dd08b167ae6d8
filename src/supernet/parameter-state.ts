/**
 * Small helpers over a network's variables: counting parameters, and running
 * something that changes variables (recalibrated batch-norm statistics,
 * pruning masks for one evaluation) with their values put back afterwards.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";

export function countParameters(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, variable) => sum + variable.size, 0);
}

/** Runs `body`, then restores `variables` to the values they had before it. */
export function withRestoredVariables<T>(variables: readonly tf.Variable[], body: () => T): T {
  const saved = variables.map((variable) => tf.keep(tf.clone(variable)));
  try {
    return body();
  } finally {
    variables.forEach((variable, index) => {
      variable.assign(saved[index] as tf.Tensor);
    });
    for (const tensor of saved) tensor.dispose();
  }
}

/** Runs `body`, then restores every state variable (running statistics) of `parameters`. */
export function withRestoredState<T>(parameters: ParameterSet, body: () => T): T {
  return withRestoredVariables(parameters.state, body);
}
