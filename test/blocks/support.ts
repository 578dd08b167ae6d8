/**
 * Shared helpers for the block tests: the wasm backend, randomised state
 * (batch-norm statistics, LayerNorm and bias values are 1 / 0 after
 * initialisation, which would hide folding mistakes) and the tfjs-vs-IR
 * comparison every parity test uses.
 *
 * Parity criterion: max |tfjs - IR| <= 1e-4 * max(1, max |tfjs|), on the
 * tfjs forward in inference mode and `runFloat` of the exported float IR.
 */
import assert from "node:assert/strict";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { SearchSpace } from "../../src/blocks/search-space.js";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { runFloat } from "../../src/interpreter/index.js";
import type { Model } from "../../src/model-ir/types.js";
import type { ParameterSet } from "../../src/training/layers.js";

export const PARITY_TOLERANCE = 1e-4;

let tfPromise: Promise<typeof TfCore> | undefined;

/** tfjs on the wasm backend (loaded once per test file). */
export function loadTf(): Promise<typeof TfCore> {
  tfPromise ??= import("../../src/training/backend.js").then(
    async ({ createTrainingBackend }) => (await createTrainingBackend({ backend: "wasm" })).tf,
  );
  return tfPromise;
}

/**
 * Gives every non-weight variable a random, plausible value: batch-norm
 * gamma in [0.5, 1.5] with random signs flipped on a few, beta and running
 * means in [-0.5, 0.5], running variances in [0.5, 1.5]; LayerNorm gamma /
 * beta and linear biases likewise.
 */
export function randomizeState(tf: typeof TfCore, params: ParameterSet, seed: number): void {
  const random = createSeededRandom(seed);
  for (const [name, variable] of params.byName) {
    const n = variable.size;
    const values = new Float32Array(n);
    if (name.endsWith("/gamma")) {
      for (let i = 0; i < n; i++)
        values[i] = (0.5 + random.next()) * (random.next() < 0.1 ? -1 : 1);
    } else if (name.endsWith("/moving_variance")) {
      for (let i = 0; i < n; i++) values[i] = 0.5 + random.next();
    } else if (name.endsWith("/beta") || name.endsWith("/moving_mean") || name.endsWith("/bias")) {
      for (let i = 0; i < n; i++) values[i] = random.next() - 0.5;
    } else {
      continue;
    }
    tf.tidy(() => {
      variable.assign(tf.tensor(values, variable.shape));
    });
  }
}

export function randomImages(shape: [number, number, number, number], seed: number): Float32Array {
  const random = createSeededRandom(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = random.nextNormal();
  return values;
}

/** Max |a - b| relative to max(1, max |a|). */
export function relativeMaxDifference(
  reference: ArrayLike<number>,
  other: ArrayLike<number>,
): number {
  assert.equal(other.length, reference.length, "output lengths differ");
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i] as number));
    worst = Math.max(worst, Math.abs((reference[i] as number) - (other[i] as number)));
  }
  return worst / scale;
}

/** Asserts runFloat(model) on `input` equals the tfjs output within the parity tolerance. */
export function assertIrMatches(
  model: Model,
  input: Float32Array,
  expected: ArrayLike<number>,
  what: string,
): number {
  const [actual] = runFloat(model, input).outputs;
  assert.ok(actual !== undefined);
  const difference = relativeMaxDifference(expected, actual);
  assert.ok(
    difference <= PARITY_TOLERANCE,
    `${what}: IR differs from tfjs by ${difference} (relative), tolerance ${PARITY_TOLERANCE}`,
  );
  return difference;
}

/** stem 8 → mbv2 (8, /2) → resnet (12) → mobilevit (16, /2, patch 2) at 16 px: every block type. */
export function mixedSearchSpace(): SearchSpace {
  return {
    stem: { channels: 8, stride: 1 },
    stages: [
      { block: "mbv2", depth: 2, channels: 8, expansion: 3, kernel_size: 3, stride: 2 },
      { block: "resnet", depth: 1, channels: 12, kernel_size: 3, stride: 1 },
      {
        block: "mobilevit",
        depth: 2,
        channels: 16,
        embed_dim: 16,
        heads: 2,
        mlp_ratio: 2,
        patch_size: 2,
        stride: 2,
      },
    ],
    head: { dropout: 0.1 },
  };
}
