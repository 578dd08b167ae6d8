/**
 * NASWOT (Mellor et al., "Neural Architecture Search without Training",
 * ICML 2021): a training-free score of an untrained network from one
 * minibatch. Each image switches on a pattern of rectified units; networks
 * whose units separate the images well (distinct patterns) tend to train to
 * higher accuracy. With c_i the binary pattern of image i over all N_A units,
 * K[i][j] = N_A - hamming(c_i, c_j), and the score is log |det K|.
 *
 * Runs on the float model IR through the reference interpreter, so it sees
 * exactly the units the exported network has: the outputs of every
 * convolution and linear layer with a fused ReLU or ReLU6 (a unit is on when
 * its output is above zero).
 */
import { runFloat } from "../src/interpreter/run.js";
import type { Model } from "../src/model-ir/types.js";

/** Binary activation patterns, one per image, packed as bytes (0 or 1 per unit). */
export function activationPatterns(model: Model, images: readonly Float32Array[]): Uint8Array[] {
  const rectified = model.graph.ops.filter(
    (op) =>
      "activation" in op.attrs &&
      (op.attrs.activation === "relu" || op.attrs.activation === "relu6"),
  );
  return images.map((image) => {
    const tensors = runFloat(model, image, { dump: true }).tensors ?? new Map();
    const parts = rectified.map((op) => tensors.get(op.outputs[0] ?? "") as Float32Array);
    const pattern = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) for (const value of part) pattern[at++] = value > 0 ? 1 : 0;
    return pattern;
  });
}

/** K[i][j]: the units on which images i and j agree. */
export function agreementKernel(patterns: readonly Uint8Array[]): Float64Array[] {
  const n = patterns.length;
  const kernel = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const a = patterns[i] as Uint8Array;
    for (let j = i; j < n; j++) {
      const b = patterns[j] as Uint8Array;
      let agree = 0;
      for (let u = 0; u < a.length; u++) if (a[u] === b[u]) agree++;
      (kernel[i] as Float64Array)[j] = agree;
      (kernel[j] as Float64Array)[i] = agree;
    }
  }
  return kernel;
}

/** log |det M| by LU decomposition with partial pivoting; -Infinity for a singular matrix. */
export function logAbsDeterminant(matrix: readonly Float64Array[]): number {
  const n = matrix.length;
  const a: Float64Array[] = matrix.map((row) => Float64Array.from(row));
  let sum = 0;
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++)
      if (
        Math.abs((a[i] as Float64Array)[k] as number) >
        Math.abs((a[pivot] as Float64Array)[k] as number)
      )
        pivot = i;
    const top = a[pivot] as Float64Array;
    const diagonal = top[k] as number;
    if (diagonal === 0) return Number.NEGATIVE_INFINITY;
    [a[k], a[pivot]] = [top, a[k] as Float64Array];
    sum += Math.log(Math.abs(diagonal));
    for (let i = k + 1; i < n; i++) {
      const row = a[i] as Float64Array;
      const factor = (row[k] as number) / diagonal;
      if (factor === 0) continue;
      for (let j = k; j < n; j++) row[j] = (row[j] as number) - factor * (top[j] as number);
    }
  }
  return sum;
}

/** The NASWOT score of a float model on a minibatch of normalised images. */
export function naswotScore(model: Model, images: readonly Float32Array[]): number {
  return logAbsDeterminant(agreementKernel(activationPatterns(model, images)));
}
