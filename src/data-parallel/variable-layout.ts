/**
 * Where each variable of a supernet sits in the flat Float32 buffers the
 * data-parallel trainer shares with its workers: `parameters.all()` order
 * (trainable first, then state), which is the creation order and so the same
 * in every replica built from the same search space.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";

export interface VariableLayout {
  readonly variables: readonly tf.Variable[];
  /** Element offset of each variable. */
  readonly offsets: readonly number[];
  /** Elements in all. */
  readonly size: number;
  /** Layout index by tfjs variable name. */
  readonly indexByName: ReadonlyMap<string, number>;
}

export function createVariableLayout(parameters: ParameterSet): VariableLayout {
  const variables = parameters.all();
  const offsets: number[] = [];
  let size = 0;
  for (const variable of variables) {
    offsets.push(size);
    size += variable.size;
  }
  return {
    variables,
    offsets,
    size,
    indexByName: new Map(variables.map((variable, index) => [variable.name, index])),
  };
}

/** A Float32 view of variable `index` in a buffer with this layout. */
export function layoutView(
  layout: VariableLayout,
  buffer: Float32Array,
  index: number,
): Float32Array {
  const offset = layout.offsets[index] as number;
  return buffer.subarray(offset, offset + (layout.variables[index] as tf.Variable).size);
}

/** Copies every variable's value into `buffer`. */
export function writeVariables(layout: VariableLayout, buffer: Float32Array): void {
  for (const [index, variable] of layout.variables.entries()) {
    layoutView(layout, buffer, index).set(variable.dataSync() as Float32Array);
  }
}

/** Assigns every variable its value from `buffer` (copied: the buffer may be shared memory). */
export function readVariables(layout: VariableLayout, buffer: Float32Array): void {
  tf.tidy(() => {
    for (const [index, variable] of layout.variables.entries()) {
      variable.assign(tf.tensor(layoutView(layout, buffer, index).slice(), variable.shape));
    }
  });
}
