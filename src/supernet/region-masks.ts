/**
 * Which elements of each supernet variable a step used: the union of the
 * regions (src/blocks/types.ts `VariableRegion`) of the sub-networks a step
 * trained, as boolean masks the optimizer takes (src/training/optimizers.ts).
 * A variable used whole by some sub-network needs no mask; one used by none
 * gets no gradient and no entry.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { VariableBox, VariableRegion } from "../blocks/types.js";

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--)
    strides[axis] = (strides[axis + 1] as number) * (shape[axis + 1] as number);
  return strides;
}

function coversWhole(shape: readonly number[], box: VariableBox): boolean {
  return shape.every((extent, axis) => box.begin[axis] === 0 && box.size[axis] === extent);
}

/** Sets the elements of `box` in a row-major mask of `shape`. */
export function markBox(mask: Uint8Array, shape: readonly number[], box: VariableBox): void {
  const strides = stridesOf(shape);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  const inner = rank - 1;
  const innerSize = box.size[inner] as number;
  if (box.size.some((extent) => extent === 0)) return;
  for (;;) {
    let offset = 0;
    for (let axis = 0; axis < inner; axis++)
      offset += ((box.begin[axis] as number) + (index[axis] as number)) * (strides[axis] as number);
    const start = offset + (box.begin[inner] as number);
    mask.fill(1, start, start + innerSize);
    // Odometer over the outer axes.
    let axis = inner - 1;
    while (axis >= 0) {
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (box.size[axis] as number)) break;
      index[axis] = 0;
      axis--;
    }
    if (axis < 0) return;
  }
}

/**
 * The union of `regions` per variable: `undefined` for a variable some region
 * covers whole, else a row-major 0/1 mask. Keyed by tfjs variable name.
 */
export function computeUsedElements(
  regions: readonly VariableRegion[],
): Map<string, Uint8Array | undefined> {
  const used = new Map<string, Uint8Array | undefined>();
  for (const { variable, boxes } of regions) {
    if (used.has(variable.name) && used.get(variable.name) === undefined) continue;
    if (boxes.some((box) => coversWhole(variable.shape, box))) {
      used.set(variable.name, undefined);
      continue;
    }
    let mask = used.get(variable.name);
    if (mask === undefined) {
      mask = new Uint8Array(variable.size);
      used.set(variable.name, mask);
    }
    for (const box of boxes) markBox(mask, variable.shape, box);
  }
  // Boxes that together cover a variable (the fusion conv's two input
  // halves) need no mask either.
  for (const [name, mask] of used) {
    if (mask?.every((value) => value === 1)) used.set(name, undefined);
  }
  return used;
}

/**
 * Boolean mask tensors for the variables `regions` use only in part (the
 * caller disposes them). Variables used whole are absent: their update is
 * not restricted.
 */
export function createUpdateMasks(regions: readonly VariableRegion[]): Map<string, tf.Tensor> {
  const shapes = new Map(regions.map((region) => [region.variable.name, region.variable.shape]));
  const masks = new Map<string, tf.Tensor>();
  for (const [name, mask] of computeUsedElements(regions)) {
    if (mask === undefined) continue;
    masks.set(name, tf.tensor(mask, shapes.get(name), "bool"));
  }
  return masks;
}
