/**
 * The search's view of the resource evaluator (src/resources/): a
 * candidate's int8 model → the flash, SRAM and instructions per inference of
 * the program codegen would generate for it, by the code codegen runs. The
 * calibrated tables are read once per process.
 */
import type { Model } from "../model-ir/types.js";
import {
  type EstimateBoard,
  estimateResources,
  loadResourceTables,
  type ResourceEstimate,
  type ResourceTables,
} from "../resources/index.js";
import type { ResourcePrediction } from "./evolution.js";

let tables: ResourceTables | undefined;

/** The full estimate (per layer, with the tables' provenance for `board`). */
export function estimateModelResources(model: Model, board?: EstimateBoard): ResourceEstimate {
  tables ??= loadResourceTables();
  return estimateResources(model, { tables, ...(board === undefined ? {} : { board }) });
}

/** The three figures the budgets apply to. */
export function summarizeEstimate(estimate: ResourceEstimate): ResourcePrediction {
  return {
    flashBytes: estimate.flashBytes,
    sramBytes: estimate.sramBytes,
    instructions: estimate.instructions,
  };
}
