/**
 * One SparseNAS search from a recipe's settings: the evolution
 * (evolution.ts) with its state saved after every generation in a resume
 * directory, so a killed search continues from its last finished generation
 * and ends exactly as an uninterrupted one; then the chosen candidate and the
 * Pareto front.
 *
 * The choice: the feasible candidates ranked by validation accuracy (then
 * fewer predicted instructions, less flash, assessed first); the first
 * `finalists` of them are measured again in INT8 and the most accurate there
 * wins (ties: the better float rank).
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
import { type OperatorSpace, seedCandidates } from "./operators.js";

/** A finalist: its log index, float and INT8 validation accuracy. */
export interface Finalist {
  readonly index: number;
  readonly accuracy: number;
  readonly int8Accuracy: number;
}

export interface SearchOutcome {
  readonly records: readonly SearchRecord[];
  readonly chosen: SearchRecord;
  /** The top candidates by float accuracy, with their INT8 accuracy (empty with one finalist). */
  readonly finalists: readonly Finalist[];
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
  /** Candidates re-ranked by INT8 accuracy at the end (1: none). */
  readonly finalists: number;
  /** INT8 validation accuracy of a candidate (see int8-accuracy.ts). */
  readonly measureInt8Accuracy: (candidate: Candidate) => number;
  /** Called before searching when finished generations were found in the resume directory. */
  readonly onResume?: (generations: number) => void;
  readonly onGeneration?: (summary: {
    generation: number;
    best: SearchRecord | undefined;
    assessed: number;
  }) => void;
  /** Progress: `done` of `total` population slots settled (evolution.ts). */
  readonly onSlotSettled?: (done: number, total: number) => void;
}): Promise<SearchOutcome> {
  const identity = digestText(canonicalJson({ settings: options.settings, job: options.identity }));
  const resumeFrom = await loadState(options.resumeDirectory, identity);
  if (resumeFrom !== undefined && resumeFrom.generation > 0)
    options.onResume?.(resumeFrom.generation);
  const result = await runEvolution(
    options.settings,
    {
      space: options.space,
      seeds: seedCandidates(options.space),
      assess: (candidates: readonly Candidate[]) => options.executor.assess(candidates),
      saveState: (state) => saveState(options.resumeDirectory, identity, state),
      ...(options.onGeneration === undefined ? {} : { onGeneration: options.onGeneration }),
      ...(options.onSlotSettled === undefined ? {} : { onSlotSettled: options.onSlotSettled }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
    resumeFrom,
  );
  // One entry per distinct candidate (a redrawn duplicate is assessed again).
  const distinct = new Map<string, SearchRecord>();
  for (const record of [...result.evaluated].sort(compareRecords)) {
    const key = JSON.stringify(record.candidate);
    if (!distinct.has(key)) distinct.set(key, record);
  }
  const ranked = [...distinct.values()];
  if (ranked.length === 0) throw new Error("the search evaluated no feasible candidate");
  const top = ranked.slice(0, Math.max(1, options.finalists));
  const finalists: Finalist[] =
    top.length < 2
      ? []
      : top.map((record) => {
          options.signal?.throwIfAborted();
          return {
            index: record.index,
            accuracy: record.accuracy ?? 0,
            int8Accuracy: options.measureInt8Accuracy(record.candidate),
          };
        });
  let chosen = top[0] as SearchRecord;
  let best = finalists[0];
  for (const finalist of finalists) {
    if (best === undefined || finalist.int8Accuracy > best.int8Accuracy) best = finalist;
  }
  if (best !== undefined) chosen = top.find((record) => record.index === best?.index) ?? chosen;
  return {
    records: result.records,
    chosen,
    finalists,
    paretoFront: computeParetoFront(result.records),
    reason: explainChoice(chosen, ranked, finalists),
    resumedGenerations: resumeFrom?.generation ?? 0,
  };
}

const pct = (value: number | null) => `${(100 * (value ?? 0)).toFixed(1)} %`;

function explainChoice(
  chosen: SearchRecord,
  ranked: readonly SearchRecord[],
  finalists: readonly Finalist[],
): string {
  const rank = ranked.indexOf(chosen) + 1;
  const float = `${pct(chosen.accuracy)} on the validation subset`;
  if (finalists.length > 1) {
    const int8 = finalists.find((finalist) => finalist.index === chosen.index)?.int8Accuracy ?? 0;
    return `the most accurate in INT8 (${pct(int8)}; float ${float}, rank ${rank}) of the ${finalists.length} most accurate of ${ranked.length} feasible candidates`;
  }
  const runnerUp = ranked[1];
  const base = `the most accurate of ${ranked.length} feasible candidates (${float})`;
  if (runnerUp === undefined) return base;
  if (runnerUp.accuracy === chosen.accuracy)
    return `${base}; tied with candidate ${runnerUp.index} and chosen for fewer predicted instructions or less flash`;
  return `${base}; the next best, candidate ${runnerUp.index}, reached ${pct(runnerUp.accuracy)}`;
}
