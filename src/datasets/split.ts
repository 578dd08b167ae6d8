/**
 * Deterministic train/validation split. Stratified: each class contributes
 * round(fraction * its count) images to validation, chosen by a seeded
 * shuffle of that class's indices, so small subsets keep their class balance
 * and the same seed always yields the same split.
 */
import { createSeededRandom, deriveSeed, shuffledIndices } from "./seeded-random.js";

export interface SplitOptions {
  /** Fraction of each class held out for validation, in [0, 1). */
  readonly validationFraction: number;
  readonly seed: number;
}

export interface SplitIndices {
  /** Ascending indices of training images. */
  readonly train: Uint32Array;
  /** Ascending indices of validation images. */
  readonly validation: Uint32Array;
}

export function computeTrainValidationSplit(
  labels: ArrayLike<number>,
  options: SplitOptions,
): SplitIndices {
  const { validationFraction } = options;
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    let members = byClass.get(label);
    if (members === undefined) {
      members = [];
      byClass.set(label, members);
    }
    members.push(i);
  }
  const heldOut = new Uint8Array(labels.length);
  for (const [label, members] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const random = createSeededRandom(deriveSeed(options.seed, `split/class${label}`));
    const order = shuffledIndices(members.length, random);
    const take = Math.round(validationFraction * members.length);
    for (let i = 0; i < take; i++) heldOut[members[order[i] as number] as number] = 1;
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < labels.length; i++) (heldOut[i] === 1 ? validation : train).push(i);
  return { train: Uint32Array.from(train), validation: Uint32Array.from(validation) };
}
