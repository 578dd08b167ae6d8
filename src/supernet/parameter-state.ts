/**
 * Small helpers over a network's variables: counting parameters, and running
 * something that changes variables (recalibrated batch-norm statistics,
 * pruning masks for one evaluation) with their values put back afterwards.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { VariableRegion } from "../blocks/types.js";
import type { ParameterSet } from "../training/layers.js";

export function countParameters(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, variable) => sum + variable.size, 0);
}

/** Trainable elements a sub-network reads (its regions' boxes), i.e. its own parameter count. */
export function countRegionParameters(regions: readonly VariableRegion[]): number {
  let total = 0;
  for (const region of regions) {
    if (!region.variable.trainable) continue;
    for (const box of region.boxes) total += box.size.reduce((a, b) => a * b, 1);
  }
  return total;
}

/** Copies of `variables`' values; calling the result puts them back (once). */
function saveVariables(variables: readonly tf.Variable[]): () => void {
  const saved = variables.map((variable) => tf.keep(tf.clone(variable)));
  return () => {
    variables.forEach((variable, index) => {
      variable.assign(saved[index] as tf.Tensor);
    });
    for (const tensor of saved) tensor.dispose();
  };
}

/** Runs `body`, then restores `variables` to the values they had before it. */
export function withRestoredVariables<T>(variables: readonly tf.Variable[], body: () => T): T {
  const restore = saveVariables(variables);
  try {
    return body();
  } finally {
    restore();
  }
}

/** Runs `body`, then restores every state variable (running statistics) of `parameters`. */
export function withRestoredState<T>(parameters: ParameterSet, body: () => T): T {
  return withRestoredVariables(parameters.state, body);
}

/** `withRestoredState` around asynchronous work (recalibration spread over data-parallel replicas). */
export async function withRestoredStateAsync<T>(
  parameters: ParameterSet,
  body: () => Promise<T>,
): Promise<T> {
  const restore = saveVariables(parameters.state);
  try {
    return await body();
  } finally {
    restore();
  }
}
