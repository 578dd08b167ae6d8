/**
 * SparseNAS's evolutionary search over sub-network × per-layer sparsity ×
 * block size:
 *
 *   generation 0:  a few seeds (whole sub-networks at one sparsity for every
 *                  layer: the corners a random draw over every layer's
 *                  choices almost never hits), then random candidates
 *   generation g:  the `parents` most accurate of generation g-1, then
 *                  children: crossover of two parents, random ones, and
 *                  mutations of one parent, in the recipe's shares
 *   every child:   assessed (predicted flash, SRAM, instructions; rejected
 *                  when over a budget, else its accuracy measured); an
 *                  infeasible or already-seen child is replaced by a new one
 *                  (a bounded number of times)
 *
 * Every random number of generation g comes from a stream seeded by
 * (seed, g), and assessments are pure functions of the candidate, so the
 * search is a function of its inputs, and a search resumed from the state
 * saved after generation g-1 ends exactly as an uninterrupted one.
 *
 * Assessment is injected (an executor: in this process, worker processes, or
 * later a queue), as is persistence.
 */
import { createSeededRandom, deriveSeed, type SeededRandom } from "../datasets/seeded-random.js";
import { type Candidate, candidateKey } from "./candidate.js";
import {
  crossCandidates,
  mutateCandidate,
  type OperatorSpace,
  sampleCandidate,
} from "./operators.js";

export interface EvolutionSettings {
  readonly population: number;
  readonly generations: number;
  readonly parents: number;
  readonly mutationProbability: number;
  readonly crossoverFraction: number;
  readonly randomFraction: number;
  readonly seed: number;
}

/** Predicted resources of a candidate's generated C. */
export interface ResourcePrediction {
  readonly flashBytes: number;
  readonly sramBytes: number;
  readonly instructions: number;
}

/** What assessing a candidate gives. */
export interface Assessment {
  readonly predicted: ResourcePrediction;
  /** One line per budget the prediction exceeds; empty when feasible. */
  readonly violations: readonly string[];
  /** Validation accuracy; null when the candidate was rejected unevaluated. */
  readonly accuracy: number | null;
}

export type CandidateOrigin = "seed" | "random" | "mutation" | "crossover";

/** One line of the search log (JSON Lines). */
export interface SearchRecord {
  readonly generation: number;
  /** Order of assessment within the search. */
  readonly index: number;
  readonly origin: CandidateOrigin;
  readonly candidate: Candidate;
  readonly predicted: ResourcePrediction;
  readonly feasible: boolean;
  readonly violations: readonly string[];
  readonly accuracy: number | null;
}

/** What is saved after each generation; enough to continue from there. */
export interface SearchState {
  readonly format: "tinyformer-search-state-1";
  /** The next generation to run. */
  readonly generation: number;
  /** Keys of the current population (the last generation's members). */
  readonly population: readonly string[];
  readonly records: readonly SearchRecord[];
}

export interface EvolutionHooks {
  readonly space: OperatorSpace;
  /**
   * Candidates generation 0 starts with (at most half of it; a seed over a
   * budget is replaced by a random candidate).
   */
  readonly seeds?: readonly Candidate[];
  /** Assesses candidates (in order); may run them in parallel. */
  assess(candidates: readonly Candidate[]): Promise<Assessment[]>;
  /** Called after every generation with the state to save. */
  saveState?(state: SearchState): Promise<void>;
  onGeneration?(summary: {
    generation: number;
    best: SearchRecord | undefined;
    assessed: number;
  }): void;
  /**
   * Called as each population slot settles (a feasible candidate fills it, or
   * its attempts run out): `done` of the `total` slots the whole search fills
   * (countSlots). Candidates rejected over a budget and redrawn do not count.
   */
  onSlotSettled?(done: number, total: number): void;
  readonly signal?: AbortSignal;
}

export interface EvolutionResult {
  readonly records: readonly SearchRecord[];
  /** Evaluated (feasible) records. */
  readonly evaluated: readonly SearchRecord[];
}

/** Replacement attempts per population slot before the search gives up on filling it. */
export const ATTEMPTS_PER_SLOT = 20;

/** Thrown when not one candidate of generation 0 fits the budgets. */
export class NoFeasibleCandidateError extends Error {
  constructor(
    message: string,
    readonly records: readonly SearchRecord[],
  ) {
    super(message);
    this.name = "NoFeasibleCandidateError";
  }
}

/** Sorts records best first: higher accuracy, then fewer instructions, less flash, earlier. */
export function compareRecords(a: SearchRecord, b: SearchRecord): number {
  return (
    (b.accuracy ?? -1) - (a.accuracy ?? -1) ||
    a.predicted.instructions - b.predicted.instructions ||
    a.predicted.flashBytes - b.predicted.flashBytes ||
    a.index - b.index
  );
}

/** How many children of each kind a generation after the first breeds. */
export function computeBreeding(settings: EvolutionSettings): {
  parents: number;
  crossover: number;
  random: number;
  mutation: number;
} {
  const parents = Math.min(settings.parents, settings.population);
  const children = settings.population - parents;
  const crossover = Math.min(
    children,
    Math.round(settings.crossoverFraction * settings.population),
  );
  const random = Math.min(
    children - crossover,
    Math.round(settings.randomFraction * settings.population),
  );
  return { parents, crossover, random, mutation: children - crossover - random };
}

/** Population slots the whole search fills: generation 0's population, then each later generation's children. */
export function countSlots(settings: EvolutionSettings): number {
  return slotsBefore(settings, settings.generations);
}

/** Slots the generations before `generation` fill. */
function slotsBefore(settings: EvolutionSettings, generation: number): number {
  return generation === 0
    ? 0
    : settings.population + (generation - 1) * breedingPlan(settings).length;
}

export async function runEvolution(
  settings: EvolutionSettings,
  hooks: EvolutionHooks,
  resumeFrom?: SearchState,
): Promise<EvolutionResult> {
  const records: SearchRecord[] = [...(resumeFrom?.records ?? [])];
  const byKey = new Map<string, SearchRecord>();
  for (const record of records) {
    if (record.feasible) byKey.set(candidateKey(record.candidate), record);
  }
  let population: SearchRecord[] = (resumeFrom?.population ?? []).map((key) => {
    const record = byKey.get(key);
    if (record === undefined)
      throw new Error(`search state: population member ${key} has no record`);
    return record;
  });
  const seen = new Set(records.map((record) => candidateKey(record.candidate)));
  const totalSlots = countSlots(settings);
  let settledSlots = slotsBefore(settings, resumeFrom?.generation ?? 0);
  const settle = () => {
    settledSlots++;
    hooks.onSlotSettled?.(Math.min(settledSlots, totalSlots), totalSlots);
  };

  for (
    let generation = resumeFrom?.generation ?? 0;
    generation < settings.generations;
    generation++
  ) {
    hooks.signal?.throwIfAborted();
    const random = createSeededRandom(deriveSeed(settings.seed, `generation/${generation}`));
    const parents = [...population].sort(compareRecords).slice(0, settings.parents);
    const seeds = generation === 0 ? (hooks.seeds ?? []).slice(0, settings.population >> 1) : [];
    const plan: CandidateOrigin[] =
      generation === 0 || parents.length === 0
        ? [
            ...seeds.map((): CandidateOrigin => "seed"),
            ...new Array<CandidateOrigin>(settings.population - seeds.length).fill("random"),
          ]
        : breedingPlan(settings);
    const members: SearchRecord[] = generation === 0 ? [] : [...parents];
    const assessedBefore = records.length;
    // Fill the slots in rounds: each round proposes one child per open slot
    // and assesses them together (the executor may run them in parallel).
    let open = plan.map((origin, slot) => ({ origin, slot, attempts: 0 }));
    while (open.length > 0) {
      hooks.signal?.throwIfAborted();
      const proposals = open.map((entry) => {
        if (entry.origin === "seed") {
          const seed = seeds[entry.slot] as Candidate;
          seen.add(candidateKey(seed));
          return { ...entry, candidate: seed };
        }
        let candidate = propose(entry.origin, parents, hooks.space, random, settings);
        // A candidate seen before would add nothing: redraw it a few times.
        for (let retry = 0; retry < ATTEMPTS_PER_SLOT && seen.has(candidateKey(candidate)); retry++)
          candidate = propose(entry.origin, parents, hooks.space, random, settings);
        seen.add(candidateKey(candidate));
        return { ...entry, candidate };
      });
      const assessments = await hooks.assess(proposals.map((proposal) => proposal.candidate));
      const retry: typeof open = [];
      proposals.forEach((proposal, i) => {
        const assessment = assessments[i] as Assessment;
        const record: SearchRecord = {
          generation,
          index: records.length,
          origin: proposal.origin,
          candidate: proposal.candidate,
          predicted: assessment.predicted,
          feasible: assessment.violations.length === 0,
          violations: assessment.violations,
          accuracy: assessment.accuracy,
        };
        records.push(record);
        if (record.feasible) {
          byKey.set(candidateKey(record.candidate), record);
          members.push(record);
          settle();
        } else if (proposal.attempts + 1 < ATTEMPTS_PER_SLOT) {
          // A seed over budget makes room for a random candidate.
          const origin = proposal.origin === "seed" ? "random" : proposal.origin;
          retry.push({ ...proposal, origin, attempts: proposal.attempts + 1 });
        } else settle();
      });
      open = retry;
    }
    if (members.length === 0) {
      throw new NoFeasibleCandidateError(describeInfeasible(records), records);
    }
    population = members;
    const best = [...records.filter((r) => r.feasible)].sort(compareRecords)[0];
    hooks.onGeneration?.({ generation, best, assessed: records.length - assessedBefore });
    await hooks.saveState?.({
      format: "tinyformer-search-state-1",
      generation: generation + 1,
      population: population.map((record) => candidateKey(record.candidate)),
      records,
    });
  }
  return { records, evaluated: records.filter((record) => record.feasible) };
}

function breedingPlan(settings: EvolutionSettings): CandidateOrigin[] {
  const counts = computeBreeding(settings);
  return [
    ...new Array<CandidateOrigin>(counts.crossover).fill("crossover"),
    ...new Array<CandidateOrigin>(counts.random).fill("random"),
    ...new Array<CandidateOrigin>(counts.mutation).fill("mutation"),
  ];
}

function propose(
  origin: CandidateOrigin,
  parents: readonly SearchRecord[],
  space: OperatorSpace,
  random: SeededRandom,
  settings: EvolutionSettings,
): Candidate {
  const parent = () => (parents[random.nextInt(parents.length)] as SearchRecord).candidate;
  switch (origin) {
    case "seed":
    case "random":
      return sampleCandidate(space, random);
    case "mutation":
      return mutateCandidate(space, parent(), random, settings.mutationProbability);
    case "crossover":
      return crossCandidates(space, parent(), parent(), random);
    default:
      throw new Error(`unknown origin ${String(origin satisfies never)}`);
  }
}

/** The smallest footprint among rejected candidates and how far it misses each budget. */
function describeInfeasible(records: readonly SearchRecord[]): string {
  const smallest = [...records].sort(
    (a, b) =>
      a.violations.length - b.violations.length ||
      a.predicted.flashBytes - b.predicted.flashBytes ||
      a.predicted.sramBytes - b.predicted.sramBytes,
  )[0];
  if (smallest === undefined) return "the search assessed no candidate";
  return [
    `none of ${records.length} candidates fits the budgets; the smallest found needs flash ${smallest.predicted.flashBytes} B, SRAM ${smallest.predicted.sramBytes} B, ${smallest.predicted.instructions} instructions per inference:`,
    ...smallest.violations.map((line) => `  ${line}`),
  ].join("\n");
}

/**
 * The Pareto front of the evaluated records: those no other record beats on
 * one of accuracy, flash and instructions without losing on another. Best
 * first (compareRecords).
 */
export function computeParetoFront(records: readonly SearchRecord[]): SearchRecord[] {
  const unique = new Map<string, SearchRecord>();
  for (const record of records) {
    const key = candidateKey(record.candidate);
    if (record.feasible && record.accuracy !== null && !unique.has(key)) unique.set(key, record);
  }
  const evaluated = [...unique.values()];
  const dominates = (a: SearchRecord, b: SearchRecord) => {
    const [aa, ba] = [a.accuracy as number, b.accuracy as number];
    const noWorse =
      aa >= ba &&
      a.predicted.flashBytes <= b.predicted.flashBytes &&
      a.predicted.instructions <= b.predicted.instructions;
    const better =
      aa > ba ||
      a.predicted.flashBytes < b.predicted.flashBytes ||
      a.predicted.instructions < b.predicted.instructions;
    return noWorse && better;
  };
  return evaluated
    .filter((record) => !evaluated.some((other) => dominates(other, record)))
    .sort(compareRecords);
}
