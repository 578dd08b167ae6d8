/** SparseNAS (loads tfjs through its assessment: import inside a running stage). */
export { type AssessmentContext, assessCandidate, estimateCandidate } from "./assess-candidate.js";
export { findBudgetViolations, type ResourceBudgets, resolveBudgets } from "./budgets.js";
export * from "./candidate.js";
export * from "./evolution.js";
export { type CandidateExecutor, createInProcessExecutor } from "./executor.js";
export { measureInt8Accuracy } from "./int8-accuracy.js";
export { createAssessmentContext, loadAssessmentContext, type SearchJobSetup } from "./job.js";
export { createOperatorSpace } from "./operator-space.js";
export { resolveEvolutionSettings, runSearch, type SearchOutcome } from "./run-search.js";
export { createWorkerExecutor } from "./worker-executor.js";
