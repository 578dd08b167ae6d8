/**
 * The resource evaluator: flash bytes, SRAM bytes and instructions per
 * inference of the program codegen would generate for an int8 model, on
 * the board the tables were calibrated for, without generating or
 * compiling anything.
 *
 *   int8 model ──planModel──▶ kernels and arena, exactly as codegen plans them
 *              ──buildLayerCalls──▶ the constant arrays the renderer emits
 *              ──estimateFootprint──▶ flash, SRAM (footprint table)
 *              ──layerWork × cost model──▶ instructions per layer, and of tf_model_run
 *
 * The search calls it for every candidate (`estimateResources`); codegen
 * calls it on the plan it renders (`estimatePlanResources`) and writes the
 * result into codegen.json, which the report sets beside the measured
 * figures.
 */
import { buildLayerCalls, constArrayBytes } from "../codegen/call-args.js";
import { type ModelPlan, type PlanModelOptions, planModel } from "../codegen/plan-model.js";
import type { BoardProfile } from "../config/types.js";
import type { Model } from "../model-ir/types.js";
import {
  applyCoefficients,
  type CostModelTable,
  estimateInstructions,
  loadCostModel,
} from "../sparse-engine/cost-model.js";
import { estimateFootprint, type FootprintEstimate } from "./estimate-footprint.js";
import { type FootprintTable, loadFootprintTable } from "./footprint-table.js";
import { layerWork, programWork } from "./layer-work.js";

/** The board an estimate is asked for: what must match the tables' measurements. */
export type EstimateBoard = Pick<BoardProfile, "name" | "compiler">;

export interface ResourceTables {
  costModel: CostModelTable;
  footprint: FootprintTable;
}

/** The committed tables (templates/c/cost-model.json and footprint.json). */
export function loadResourceTables(): ResourceTables {
  return { costModel: loadCostModel(), footprint: loadFootprintTable() };
}

export interface EstimateOptions extends Omit<PlanModelOptions, "costModel"> {
  /** @default loadResourceTables() */
  tables?: ResourceTables;
  /**
   * The board the estimate is for. Recorded with whether the tables were
   * measured on it with its compiler flags; an estimate for another board
   * or other flags is the calibration board's figures, not this one's.
   */
  board?: EstimateBoard;
}

/** Where a table's figures come from, and whether that is the board asked about. */
export interface TableProvenance {
  board: string;
  cflags: string[];
  /** The linker flags, for the footprint table (its closures hold for them). */
  ldflags?: string[];
  compiler: string;
  /** null: no board given; false: see `mismatches`. */
  matchesBoard: boolean | null;
  /** What differs between the measurement and the board asked about. */
  mismatches: string[];
}

export interface LayerEstimate {
  index: number;
  op: string;
  type: string;
  /** The C function codegen calls. */
  kernel: string;
  instructions: number;
  /** Multiply-accumulates of the dense computation (kernel selection's count). */
  macs: number;
  /** Weight data of the layer (dense array or packed sparse stream). */
  weightBytes: number;
  /** All its constant arrays (weights, biases, multipliers, tables, shapes), aligned. */
  constantBytes: number;
  scratchBytes: number;
}

export interface ResourceEstimate {
  /** text + rodata + data of the device program, as compile-target counts flash. */
  flashBytes: number;
  /** data + bss of the device program, as compile-target counts SRAM. */
  sramBytes: number;
  /** One inference (tf_model_run), as verify-target counts it. */
  instructions: number;
  arenaBytes: number;
  /** Largest total of bytes live at one op: no plan can use less. */
  arenaLowerBoundBytes: number;
  flash: FootprintEstimate["flash"];
  sram: FootprintEstimate["sram"];
  /** tf_model_run's own instructions (copies of the input and output, status checks). */
  programInstructions: number;
  layers: LayerEstimate[];
  tables: { costModel: TableProvenance; footprint: TableProvenance };
}

/**
 * A table's provenance checked against `board` (undefined: not checked):
 * the same board profile, compiler flags and, for the footprint, linker flags.
 */
export function matchProvenance(
  measured: Omit<TableProvenance, "matchesBoard" | "mismatches">,
  board: EstimateBoard | undefined,
): TableProvenance {
  const mismatches: string[] = [];
  if (board !== undefined) {
    if (measured.board !== board.name)
      mismatches.push(`measured on ${measured.board}, asked for ${board.name}`);
    const same = (a: readonly string[], b: readonly string[]) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    if (!same(measured.cflags, board.compiler.cflags))
      mismatches.push(
        `measured with cflags ${measured.cflags.join(" ")}, the board has ${board.compiler.cflags.join(" ")}`,
      );
    if (measured.ldflags !== undefined && !same(measured.ldflags, board.compiler.ldflags))
      mismatches.push(
        `measured with ldflags ${measured.ldflags.join(" ")}, the board has ${board.compiler.ldflags.join(" ")}`,
      );
  }
  return {
    board: measured.board,
    cflags: [...measured.cflags],
    ...(measured.ldflags === undefined ? {} : { ldflags: [...measured.ldflags] }),
    compiler: measured.compiler,
    matchesBoard: board === undefined ? null : mismatches.length === 0,
    mismatches,
  };
}

/** The estimate for a plan codegen has made. */
export function estimatePlanResources(
  plan: ModelPlan,
  options: { tables: ResourceTables; board?: EstimateBoard },
): ResourceEstimate {
  const { costModel, footprint } = options.tables;
  const calls = buildLayerCalls(plan.layers, plan.memory);
  const constants = calls.flatMap((call) => call.constants);
  const memory = estimateFootprint(plan, constants, footprint);
  const layers = calls.map(({ layer, constants: own }): LayerEstimate => {
    const { kernel, work } = layerWork(layer, plan.memory);
    return {
      index: layer.index,
      op: layer.op.name,
      type: layer.op.type,
      kernel: `tf_${kernel}`,
      instructions: Math.round(estimateInstructions(costModel, kernel, work)),
      macs: layer.macs,
      weightBytes: layer.weightBytes,
      constantBytes: own.reduce((sum, c) => sum + constArrayBytes(c), 0),
      scratchBytes: layer.scratchBytes,
    };
  });
  const programInstructions = Math.round(
    applyCoefficients(costModel.program.coefficients, programWork(plan), "tf_model_run"),
  );
  return {
    flashBytes: memory.flashBytes,
    sramBytes: memory.sramBytes,
    instructions: programInstructions + layers.reduce((sum, l) => sum + l.instructions, 0),
    arenaBytes: plan.memory.plan.arenaBytes,
    arenaLowerBoundBytes: plan.memory.plan.lowerBoundBytes,
    flash: memory.flash,
    sram: memory.sram,
    programInstructions,
    layers,
    tables: {
      costModel: matchProvenance(costModel.measuredWith, options.board),
      footprint: matchProvenance(footprint.measuredWith, options.board),
    },
  };
}

/**
 * Flash, SRAM and instructions of the program codegen would generate for
 * `model` (an int8 IR, e.g. quantizeModel's output), by the same kernel
 * selection and memory planning codegen runs.
 */
export function estimateResources(model: Model, options: EstimateOptions = {}): ResourceEstimate {
  const tables = options.tables ?? loadResourceTables();
  const plan = planModel(model, { ...options, costModel: tables.costModel });
  return estimatePlanResources(plan, {
    tables,
    ...(options.board === undefined ? {} : { board: options.board }),
  });
}
