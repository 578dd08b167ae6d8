/** Public API of the reference interpreter. */
export { compareModels, type LayerError, renderComparison } from "./compare.js";
export { type RunOptions, type RunResult, runFloat, runInt8 } from "./run.js";
