/**
 * The evolutionary search on a fake assessment: seeded and reproducible,
 * resumable from any generation with the same result, breeding in the
 * recipe's shares, never choosing an infeasible candidate, and failing with
 * the smallest footprint when nothing fits.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { candidateKey } from "../../src/search/candidate.js";
import {
  compareRecords,
  computeBreeding,
  computeParetoFront,
  countSlots,
  type EvolutionSettings,
  NoFeasibleCandidateError,
  runEvolution,
  type SearchRecord,
  type SearchState,
} from "../../src/search/evolution.js";
import { seedCandidates } from "../../src/search/operators.js";
import { fakeAssess, fakeOperatorSpace } from "./fake-space.js";

const SETTINGS: EvolutionSettings = {
  population: 8,
  generations: 5,
  parents: 3,
  mutationProbability: 0.3,
  crossoverFraction: 0.25,
  randomFraction: 0.25,
  seed: 11,
};

const hooks = (flashBudget = Number.POSITIVE_INFINITY, states: SearchState[] = []) => ({
  space: fakeOperatorSpace,
  seeds: seedCandidates(fakeOperatorSpace),
  assess: async (candidates: readonly Parameters<typeof fakeAssess>[0][]) =>
    candidates.map((candidate) => fakeAssess(candidate, flashBudget)),
  saveState: async (state: SearchState) => {
    states.push(structuredClone(state));
  },
});

describe("evolutionary search", () => {
  test("the same seed gives the same candidates; another seed others", async () => {
    const a = await runEvolution(SETTINGS, hooks());
    const b = await runEvolution(SETTINGS, hooks());
    assert.equal(JSON.stringify(a.records), JSON.stringify(b.records));
    const c = await runEvolution({ ...SETTINGS, seed: 12 }, hooks());
    assert.notEqual(JSON.stringify(a.records), JSON.stringify(c.records));
  });

  test("breeds parents, crossover, random and mutation children in the recipe's shares", async () => {
    assert.deepEqual(computeBreeding(SETTINGS), {
      parents: 3,
      crossover: 2,
      random: 2,
      mutation: 1,
    });
    const { records } = await runEvolution(SETTINGS, hooks());
    const first = records.filter((record) => record.generation === 0);
    assert.equal(first.length, 8);
    assert.deepEqual(
      first.map((record) => record.origin),
      ["seed", "seed", "seed", "seed", "random", "random", "random", "random"],
    );
    // The seeds: the largest sub-network at each target in every prunable layer, then the smallest.
    const seeds = first.slice(0, 4).map((record) => record.candidate);
    assert.deepEqual(
      seeds.map((seed) => [
        seed.architecture.stem.channels,
        [...new Set(seed.layers.filter((l) => l.blockSize !== null).map((l) => l.target))],
      ]),
      [
        [16, [0.25]],
        [16, [0.5]],
        [16, [0.75]],
        [8, [0.25]],
      ],
    );
    for (const seed of seeds)
      for (const layer of seed.layers.filter((l) => l.blockSize !== null))
        assert.equal(layer.blockSize, layer.name.includes("mlp") ? 16 : 8, layer.name);
    const second = records.filter((record) => record.generation === 1);
    assert.deepEqual(
      second.map((record) => record.origin),
      ["crossover", "crossover", "random", "random", "mutation"],
    );
    const keys = records.map((record) => candidateKey(record.candidate));
    assert.equal(new Set(keys).size, keys.length, "no candidate is assessed twice");
  });

  test("the best accuracy never decreases over generations (parents survive)", async () => {
    const best: number[] = [];
    await runEvolution(SETTINGS, {
      ...hooks(),
      onGeneration: (summary) => best.push(summary.best?.accuracy ?? 0),
    });
    assert.equal(best.length, SETTINGS.generations);
    for (let g = 1; g < best.length; g++) assert.ok((best[g] as number) >= (best[g - 1] as number));
  });

  test("progress counts settled slots, not over-budget redraws, and ends at the total", async () => {
    // 8 slots in generation 0, then 5 children in each of the 4 others.
    assert.equal(countSlots(SETTINGS), 8 + 4 * 5);
    const progress: [number, number][] = [];
    const { records } = await runEvolution(SETTINGS, {
      ...hooks(60_000),
      onSlotSettled: (done, total) => progress.push([done, total]),
    });
    assert.ok(
      records.some((record) => !record.feasible),
      "the budget makes some redraws",
    );
    assert.deepEqual(
      progress.map(([done]) => done),
      Array.from({ length: countSlots(SETTINGS) }, (_, i) => i + 1),
    );
    assert.ok(progress.every(([, total]) => total === countSlots(SETTINGS)));
    // Resumed after generation 2: the count starts where that generation left it.
    const states: SearchState[] = [];
    await runEvolution(SETTINGS, hooks(60_000, states));
    const resumed: number[] = [];
    await runEvolution(
      SETTINGS,
      { ...hooks(60_000), onSlotSettled: (done) => resumed.push(done) },
      JSON.parse(JSON.stringify(states[1])),
    );
    assert.equal(resumed[0], 8 + 5 + 1);
    assert.equal(resumed.at(-1), countSlots(SETTINGS));
  });

  test("resuming from the state after any generation ends as the uninterrupted search", async () => {
    const states: SearchState[] = [];
    const whole = await runEvolution(SETTINGS, hooks(Number.POSITIVE_INFINITY, states));
    assert.equal(states.length, SETTINGS.generations);
    for (const state of states.slice(0, -1)) {
      const resumed = await runEvolution(SETTINGS, hooks(), JSON.parse(JSON.stringify(state)));
      assert.equal(
        JSON.stringify(resumed.records),
        JSON.stringify(whole.records),
        `from generation ${state.generation}`,
      );
    }
  });

  test("over-budget candidates are rejected unevaluated and replaced; the best is feasible", async () => {
    const budget = 60_000;
    const { records, evaluated } = await runEvolution(SETTINGS, hooks(budget));
    const rejected = records.filter((record) => !record.feasible);
    assert.ok(rejected.length > 0, "the budget rejects some candidates");
    for (const record of rejected) {
      assert.equal(record.accuracy, null);
      assert.match(record.violations[0] ?? "", /^flash: \d+ bytes over the budget of 60000$/);
    }
    for (const record of evaluated) assert.ok(record.predicted.flashBytes <= budget);
    assert.equal(
      records.filter((r) => r.generation === 0 && r.feasible).length,
      SETTINGS.population,
      "rejected candidates are replaced (a seed over budget by a random one)",
    );
    assert.ok(records.some((r) => r.origin === "seed" && !r.feasible));
    const best = [...evaluated].sort(compareRecords)[0];
    assert.ok(best !== undefined && best.predicted.flashBytes <= budget);
  });

  test("a budget nothing meets fails, naming the smallest footprint and the miss", async () => {
    await assert.rejects(runEvolution(SETTINGS, hooks(10)), (error: unknown) => {
      assert.ok(error instanceof NoFeasibleCandidateError);
      assert.match(
        error.message,
        /^none of \d+ candidates fits the budgets; the smallest found needs flash \d+ B, SRAM \d+ B, \d+ instructions per inference:\n {2}flash: \d+ bytes over the budget of 10$/,
      );
      return true;
    });
  });
});

describe("Pareto front", () => {
  const record = (
    index: number,
    accuracy: number | null,
    flashBytes: number,
    instructions: number,
    feasible = true,
  ): SearchRecord => ({
    generation: 0,
    index,
    origin: "random",
    candidate: { architecture: { stem: { channels: index }, stages: [] }, layers: [] },
    predicted: { flashBytes, sramBytes: 0, instructions },
    feasible,
    violations: feasible ? [] : ["over"],
    accuracy,
  });
  test("keeps exactly the records no other beats on every objective, best first", () => {
    const records = [
      record(0, 0.5, 100, 100),
      record(1, 0.6, 200, 100), // more accurate, more flash: on the front
      record(2, 0.5, 150, 150), // dominated by 0
      record(3, 0.4, 90, 200), // least flash: on the front
      record(4, 0.9, 10, 10, false), // infeasible: never on it
      record(5, 0.6, 200, 100), // equal to 1: not dominated, kept
    ];
    assert.deepEqual(
      computeParetoFront(records).map((r) => r.index),
      [1, 5, 0, 3],
    );
  });
});
