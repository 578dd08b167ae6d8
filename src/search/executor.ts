/**
 * Where assessments run. The search hands an executor a batch of candidates
 * and gets their assessments back in the same order; it does not know whether
 * they ran here, in worker processes (worker-executor.ts) or elsewhere. Every
 * executor gives the same results for the same job: assessments are pure.
 */
import type { AssessmentContext } from "./assess-candidate.js";
import { assessCandidate } from "./assess-candidate.js";
import type { Candidate } from "./candidate.js";
import type { Assessment } from "./evolution.js";

export interface CandidateExecutor {
  assess(candidates: readonly Candidate[]): Promise<Assessment[]>;
  close(): Promise<void>;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Assesses one candidate at a time in this process, yielding between them so an abort can arrive. */
export function createInProcessExecutor(
  context: AssessmentContext,
  signal?: AbortSignal,
): CandidateExecutor {
  return {
    async assess(candidates) {
      const results: Assessment[] = [];
      for (const candidate of candidates) {
        signal?.throwIfAborted();
        results.push(assessCandidate(context, candidate));
        await yieldToEventLoop();
      }
      return results;
    },
    close: async () => undefined,
  };
}
