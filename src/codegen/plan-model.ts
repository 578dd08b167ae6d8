/**
 * The decisions codegen makes about a model, before any C is rendered:
 *
 *   int8 model IR ──checkModel──▶ its one input and one output
 *                 ──selectKernels──▶ one typed kernel call per op (dense or
 *                                    sparse by the cost model)
 *                 ──planMemory──▶ arena offsets (planArena)
 *
 * Code generation (generate.ts) renders this plan; the resource evaluator
 * (src/resources) estimates flash, SRAM and instructions from it. Both call
 * this one function, so a prediction describes exactly the program codegen
 * would write.
 */
import type { Model, TensorIR } from "../model-ir/types.js";
import { type CostModelTable, loadCostModel } from "../sparse-engine/cost-model.js";
import type { SelectedLayer, WeightPolicy } from "./kernel-calls.js";
import { type MemoryPlan, planMemory } from "./plan-memory.js";
import { selectKernels } from "./select-kernels.js";

export interface PlanModelOptions {
  /**
   * null: no table (while calibrating a new one; `weightPolicy` must then be
   * "dense" or "sparse").
   * @default the shipped templates/c/cost-model.json
   */
  costModel?: CostModelTable | null;
  /** @default "cost-model" */
  weightPolicy?: WeightPolicy;
}

/** A model as codegen will emit it: kernels chosen, arena planned. */
export interface ModelPlan {
  input: TensorIR;
  output: TensorIR;
  layers: SelectedLayer[];
  memory: MemoryPlan;
  /** The table the dense-or-sparse choices were made with (none while calibrating one). */
  costModel: CostModelTable | undefined;
}

function checkModel(model: Model): { input: TensorIR; output: TensorIR } {
  const { graph } = model;
  if (graph.precision !== "int8")
    throw new Error(`codegen needs an int8 model, ${graph.name} is ${graph.precision}`);
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    throw new Error(
      `codegen supports one input and one output, ${graph.name} has ${graph.inputs.length} and ${graph.outputs.length}`,
    );
  }
  const find = (name: string): TensorIR => {
    const t = graph.tensors.find((x) => x.name === name);
    if (t === undefined) throw new Error(`codegen: tensor ${name} is not declared`);
    if (t.dtype !== "int8") throw new Error(`codegen: ${name} is ${t.dtype}, not int8`);
    return t;
  };
  return { input: find(graph.inputs[0] ?? ""), output: find(graph.outputs[0] ?? "") };
}

/** Selects every op's kernel and plans the arena, as codegen does. */
export function planModel(model: Model, options: PlanModelOptions = {}): ModelPlan {
  const { input, output } = checkModel(model);
  const costModel = options.costModel === null ? undefined : (options.costModel ?? loadCostModel());
  const layers = selectKernels(model, costModel, options.weightPolicy);
  const memory = planMemory(model, layers);
  return { input, output, layers, memory, costModel };
}
