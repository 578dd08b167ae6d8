/**
 * SuperNAS's choice of the search space: draw the candidate spaces of the
 * recipe's `supernas` section, score each (score-space.ts), keep the highest
 * score among the eligible ones (ties: the earlier candidate). When no
 * candidate is eligible the build stops here, before any training, with the
 * smallest footprint any candidate reached and the budgets it missed.
 */
import type { SearchSpaceConfig, SupernasSection } from "../config/types.js";
import { drawCandidateSpaces } from "./candidate-spaces.js";
import { type ScoreOptions, type SpaceScore, scoreSpace } from "./score-space.js";

export interface ScoredSpace {
  readonly index: number;
  readonly space: SearchSpaceConfig;
  readonly score: SpaceScore;
}

export interface SpaceChoice {
  readonly chosen: ScoredSpace;
  /** Every candidate, in the order drawn. */
  readonly candidates: readonly ScoredSpace[];
  readonly reason: string;
}

const format = (n: number) => n.toLocaleString("en-US");

export function chooseSpace(
  section: SupernasSection,
  options: Omit<ScoreOptions, "samples" | "minFeasibleFraction">,
  onScored?: (scored: ScoredSpace, done: number, total: number) => void,
  signal?: AbortSignal,
): SpaceChoice {
  const spaces = drawCandidateSpaces(section, options.seed);
  const candidates: ScoredSpace[] = spaces.map((space, index) => {
    signal?.throwIfAborted();
    const scored = {
      index,
      space,
      score: scoreSpace(space, {
        ...options,
        samples: section.samples_per_space,
        minFeasibleFraction: section.min_feasible_fraction,
      }),
    };
    onScored?.(scored, index + 1, spaces.length);
    return scored;
  });
  const eligible = candidates.filter((candidate) => candidate.score.eligible);
  if (eligible.length === 0) {
    const smallest = [...candidates].sort(
      (a, b) => a.score.smallest.flashBytes - b.score.smallest.flashBytes,
    )[0] as ScoredSpace;
    const best = [...candidates].sort(
      (a, b) => b.score.feasible - a.score.feasible,
    )[0] as ScoredSpace;
    const { budgets } = options;
    throw new Error(
      `supernas: none of the ${candidates.length} candidate spaces has ${Math.round(100 * section.min_feasible_fraction)} % of its ${section.samples_per_space} sampled sub-networks within the budgets (flash ${format(budgets.flashBytes)} B, SRAM ${format(budgets.sramBytes)} B${budgets.instructions === undefined ? "" : `, ${format(budgets.instructions)} instructions`}); the most that fit in one space is ${best.score.feasible}; the smallest sample of any needs flash ${format(smallest.score.smallest.flashBytes)} B, SRAM ${format(smallest.score.smallest.sramBytes)} B, ${format(smallest.score.smallest.instructions)} instructions. Widen the budgets, lower the supernas ranges or min_feasible_fraction, or allow higher sparsity targets.`,
    );
  }
  const chosen = [...eligible].sort(
    (a, b) => b.score.score - a.score.score || a.index - b.index,
  )[0] as ScoredSpace;
  const reason = `the most compute in its feasible sub-networks (mean ${format(chosen.score.meanFeasibleMacs)} executed MACs over ${chosen.score.feasible} of ${chosen.score.samples} samples within the budgets) of ${eligible.length} eligible of ${candidates.length} candidate spaces`;
  return { chosen, candidates, reason };
}
