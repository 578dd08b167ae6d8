/**
 * Scoring and choosing candidate spaces: a space's score is the mean compute
 * of its sampled sub-networks that fit the budgets; the larger space wins
 * when both fit, the smaller when only it fits, and no eligible space stops
 * the build with the footprint that was missed.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { Recipe, SupernasSection } from "../../src/config/types.js";
import { chooseSpace } from "../../src/space-search/choose-space.js";
import { executedMacs } from "../../src/space-search/score-space.js";
import { loadTf } from "../blocks/support.js";

before(async () => {
  await loadTf();
});

/** Two candidate spaces: one stage of 8 or of 48 channels. */
const SECTION: SupernasSection = {
  candidates: 2,
  samples_per_space: 6,
  choices_per_field: 1,
  min_feasible_fraction: 0.5,
  stem: { channels: 8, stride: 1 },
  stages: [
    {
      blocks: ["mbv2"],
      depth: 1,
      channels: [8, 48],
      expansion: 2,
      kernel_size: 3,
      heads: 2,
      mlp_ratio: 2,
      patch_size: 2,
      stride: 2,
    },
  ],
  head: { dropout: 0 },
};

const SPARSITY: Recipe["sparsity"] = {
  global_target: [0.3, 0.6],
  per_layer: {},
  block_sizes: [1, 4],
  keep_dense: ["stem", "classifier"],
};

const options = (flashBytes: number) => ({
  sparsity: SPARSITY,
  budgets: { flashBytes, sramBytes: 300_000 },
  classes: 10,
  inputResolution: 16,
  seed: 4,
});

const channelsOf = (space: { stages: { channels: number | number[] }[] }) =>
  space.stages[0]?.channels;

test("executed MACs: each pruned layer's dense MACs times the share of blocks it keeps", () => {
  const layers = [
    { op: "stem", macs: 1000 },
    { op: "a", macs: 2000 },
    { op: "pool", macs: 0 },
  ];
  const candidate = {
    architecture: {} as never,
    layers: [
      { name: "stem", target: 0, blockSize: null, rowLength: 27 },
      { name: "a", target: 0.75, blockSize: 4 as const, rowLength: 8 },
    ],
  };
  assert.equal(executedMacs(layers, candidate), 1000 + 500);
});

test("when both spaces fit, the one whose feasible sub-networks compute more is chosen", () => {
  const choice = chooseSpace(SECTION, options(1_000_000));
  assert.equal(choice.candidates.length, 2);
  for (const candidate of choice.candidates) {
    assert.equal(candidate.score.feasible, SECTION.samples_per_space);
    assert.ok(candidate.score.eligible);
  }
  assert.equal(channelsOf(choice.chosen.space), 48);
  const [a, b] = choice.candidates.map((c) => c.score.score);
  assert.ok((a as number) !== (b as number));
  assert.match(
    choice.reason,
    /the most compute in its feasible sub-networks .* of 2 eligible of 2 candidate spaces/,
  );
  // Seeded: the same inputs, the same scores.
  assert.equal(JSON.stringify(chooseSpace(SECTION, options(1_000_000))), JSON.stringify(choice));
});

test("a flash budget only the small space meets chooses it; none met stops with the footprint", () => {
  const both = chooseSpace(SECTION, options(1_000_000)).candidates;
  const flash = (channels: number) =>
    both.find((c) => channelsOf(c.space) === channels)?.score.smallest.flashBytes as number;
  assert.ok(flash(8) < flash(48));
  // Above every small-space sample, below every large-space one.
  const small = both.find((c) => channelsOf(c.space) === 8);
  assert.ok(small !== undefined);
  const budget = Math.floor((flash(48) + flash(8)) / 2);
  const choice = chooseSpace(SECTION, options(budget));
  const large = choice.candidates.find((c) => channelsOf(c.space) === 48);
  assert.equal(large?.score.eligible, false);
  assert.equal(large?.score.score, 0);
  assert.equal(channelsOf(choice.chosen.space), 8);
  assert.throws(
    () => chooseSpace(SECTION, options(1_000)),
    /none of the 2 candidate spaces has 50 % of its 6 sampled sub-networks within the budgets \(flash 1,000 B, SRAM 300,000 B\); the most that fit in one space is 0; the smallest sample of any needs flash [\d,]+ B/,
  );
});
