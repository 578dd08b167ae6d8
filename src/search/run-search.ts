/**
 * One SparseNAS search from a recipe's settings: the evolution
 * (evolution.ts) with its state saved after every generation in a resume
 * directory, so a killed search continues from its last finished generation
 * and ends exactly as an uninterrupted one; then the chosen candidate and the
 * Pareto front.
 *
 * The choice: the most accurate feasible candidate; among equally accurate
 * ones the one with fewer predicted instructions, then less flash, then the
 * one assessed first.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SearchSettings } from "../config/types.js";
import { canonicalJson } from "../graph-runner/canonical-json.js";
import { digestText } from "../graph-runner/digest.js";
import type { Candidate } from "./candidate.js";
import {
  compareRecords,
  computeParetoFront,
  type EvolutionSettings,
  runEvolution,
  type SearchRecord,
  type SearchState,
} from "./evolution.js";
import type { CandidateExecutor } from "./executor.js";
import type { OperatorSpace } from "./operators.js";

export interface SearchOutcome {
  readonly records: readonly SearchRecord[];
  readonly chosen: SearchRecord;
  readonly paretoFront: readonly SearchRecord[];
  /** Why `chosen` won, in one sentence. */
  readonly reason: string;
  /** Generations found finished in the resume directory. */
  readonly resumedGenerations: number;
}

export function resolveEvolutionSettings(search: SearchSettings, seed: number): EvolutionSettings {
  return {
    population: search.population,
    generations: search.generations,
    parents: search.parents,
    mutationProbability: search.mutation_probability,
    crossoverFraction: search.crossover_fraction,
    randomFraction: search.random_fraction,
    seed,
  };
}

const STATE_FILE = "search-state.json";

interface SavedState {
  /** Digest of everything the search depends on: a state of another search is ignored. */
  readonly identity: string;
  readonly state: SearchState;
}

async function loadState(directory: string, identity: string): Promise<SearchState | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, STATE_FILE), "utf8");
  } catch {
    return undefined;
  }
  try {
    const saved = JSON.parse(text) as SavedState;
    if (saved.identity !== identity || saved.state.format !== "tinyformer-search-state-1")
      return undefined;
    return saved.state;
  } catch {
    // A state file cut short by a kill is no state at all: start over.
    return undefined;
  }
}

async function saveState(directory: string, identity: string, state: SearchState) {
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, `${STATE_FILE}.tmp`);
  await writeFile(temporary, JSON.stringify({ identity, state } satisfies SavedState));
  await rename(temporary, join(directory, STATE_FILE));
}

export async function runSearch(options: {
  readonly settings: EvolutionSettings;
  readonly space: OperatorSpace;
  readonly executor: CandidateExecutor;
  /** Where progress is saved between generations (kept until the stage succeeds). */
  readonly resumeDirectory: string;
  /** JSON of everything else the assessments depend on (supernet digest, budgets, images). */
  readonly identity: unknown;
  readonly signal?: AbortSignal;
  readonly onGeneration?: (summary: {
    generation: number;
    best: SearchRecord | undefined;
    assessed: number;
  }) => void;
}): Promise<SearchOutcome> {
  const identity = digestText(canonicalJson({ settings: options.settings, job: options.identity }));
  const resumeFrom = await loadState(options.resumeDirectory, identity);
  const result = await runEvolution(
    options.settings,
    {
      space: options.space,
      assess: (candidates: readonly Candidate[]) => options.executor.assess(candidates),
      saveState: (state) => saveState(options.resumeDirectory, identity, state),
      ...(options.onGeneration === undefined ? {} : { onGeneration: options.onGeneration }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
    resumeFrom,
  );
  const ranked = [...result.evaluated].sort(compareRecords);
  const chosen = ranked[0];
  if (chosen === undefined) throw new Error("the search evaluated no feasible candidate");
  const runnerUp = ranked.find(
    (record) => JSON.stringify(record.candidate) !== JSON.stringify(chosen.candidate),
  );
  return {
    records: result.records,
    chosen,
    paretoFront: computeParetoFront(result.records),
    reason: explainChoice(chosen, runnerUp, result.evaluated.length),
    resumedGenerations: resumeFrom?.generation ?? 0,
  };
}

function explainChoice(
  chosen: SearchRecord,
  runnerUp: SearchRecord | undefined,
  evaluated: number,
): string {
  const pct = (value: number | null) => `${(100 * (value ?? 0)).toFixed(1)} %`;
  const base = `the most accurate of ${evaluated} feasible candidates (${pct(chosen.accuracy)} on the validation subset)`;
  if (runnerUp === undefined) return base;
  if (runnerUp.accuracy === chosen.accuracy)
    return `${base}; tied with candidate ${runnerUp.index} and chosen for fewer predicted instructions or less flash`;
  return `${base}; the next best, candidate ${runnerUp.index}, reached ${pct(runnerUp.accuracy)}`;
}
