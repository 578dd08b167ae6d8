/**
 * Predicted flash, SRAM and instructions of a candidate's int8 model, by the
 * code codegen runs (kernel selection, the arena planner).
 */
import { planMemory } from "../codegen/plan-memory.js";
import { selectKernels } from "../codegen/select-kernels.js";
import type { Model } from "../model-ir/types.js";
import { type CostModelTable, loadCostModel } from "../sparse-engine/cost-model.js";
import type { ResourcePrediction } from "./evolution.js";

let costModel: CostModelTable | undefined;

export function predictModelResources(model: Model): ResourcePrediction {
  costModel ??= loadCostModel();
  const layers = selectKernels(model, costModel);
  const memory = planMemory(model, layers);
  let weightBytes = 0;
  let instructions = 0;
  for (const layer of layers) {
    weightBytes += layer.weightBytes;
    instructions +=
      layer.cost === undefined
        ? 0
        : Math.min(layer.cost.denseInstructions, layer.cost.sparseInstructions ?? Infinity);
  }
  return {
    flashBytes: weightBytes,
    sramBytes: memory.plan.arenaBytes,
    instructions: Math.round(instructions),
  };
}
