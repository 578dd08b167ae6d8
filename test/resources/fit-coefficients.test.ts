import assert from "node:assert/strict";
import { test } from "node:test";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { fitCoefficients } from "../support/calibration/fit-coefficients.js";

function samples(truth: Record<string, number>, count: number, seed: number) {
  const random = createSeededRandom(seed);
  return Array.from({ length: count }, () => {
    const counts = {
      calls: 1,
      rows: 10 + random.nextInt(500),
      blocks: 50 + random.nextInt(5000),
      weights: 400 + random.nextInt(80_000),
    };
    const value = Object.entries(counts).reduce((s, [k, v]) => s + (truth[k] ?? 0) * v, 0);
    return { counts, value };
  });
}

test("the fit recovers known non-negative coefficients from exact samples", () => {
  const truth = { calls: 900, rows: 41, blocks: 3.5, weights: 0.8 };
  const fit = fitCoefficients(samples(truth, 30, 5));
  for (const [name, value] of Object.entries(truth))
    assert.ok(Math.abs((fit.coefficients[name] as number) - value) < 1e-6 * value, name);
  assert.ok(fit.maxRelativeError < 1e-9);
  assert.equal(fit.samples, 30);
});

test("no coefficient goes negative, even where the samples would pay for it", () => {
  // A count whose true effect is negative: the best non-negative fit sets it to 0.
  const fit = fitCoefficients(samples({ calls: 5000, rows: 20, blocks: -2, weights: 1 }, 40, 6));
  assert.equal(fit.coefficients.blocks, 0);
  for (const value of Object.values(fit.coefficients)) assert.ok(value >= 0);
  assert.ok(fit.maxRelativeError > 0);
});

test("counts that are zero in every sample get no coefficient", () => {
  const fit = fitCoefficients([
    { counts: { calls: 1, rows: 2, unused: 0 }, value: 12 },
    { counts: { calls: 1, rows: 5, unused: 0 }, value: 30 },
  ]);
  assert.deepEqual(Object.keys(fit.coefficients), ["calls", "rows"]);
});
