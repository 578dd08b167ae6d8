/**
 * What report.html is drawn from: report.json plus the upstream figures the
 * JSON leaves out (codegen's arena plan and per-layer constants, quantize's
 * confusion matrices, the search's candidates and Pareto front). Pure:
 * parsed stage outputs in, page data out.
 */
import type { ArenaBufferSummary, CodegenSummary } from "../codegen/generate.js";
import type { BuildReport } from "./types.js";

/** One assessed search candidate, as the search plots need it. */
export interface SearchPoint {
  /** Its index in search-log.jsonl. */
  index: number;
  generation: number;
  /** Whether it met every budget (a rejected candidate has no accuracy). */
  feasible: boolean;
  /** Validation accuracy of the float candidate on the search's subset; null when rejected. */
  accuracy: number | null;
  flashBytes: number;
  sramBytes: number;
  instructions: number;
}

export interface SearchData {
  budgets: { flashBytes: number; sramBytes: number; instructions: number | null };
  /** Index of the chosen candidate. */
  chosen: number;
  /** Validation images the accuracies were measured on. */
  validationImages: number;
  candidates: SearchPoint[];
  /** Indices of the candidates on the Pareto front (accuracy, flash, instructions). */
  front: number[];
}

/** Images by true class (row) and predicted class (column). */
export interface ConfusionData {
  classNames: string[];
  float: number[][];
  int8: number[][];
}

export interface ReportPageData {
  report: BuildReport;
  /** Codegen's arena plan: every buffer's lifetime, offset and size. */
  arena: {
    bytes: number;
    lowerBoundBytes: number;
    alignment: number;
    buffers: ArenaBufferSummary[];
  };
  /**
   * Each layer's constant arrays in flash (weights, biases, multipliers,
   * tables, shapes; aligned), by layer name, from codegen's estimate.
   */
  layerConstantBytes: Record<string, number>;
  confusion?: ConfusionData;
  /** Present when the build searched. */
  search?: SearchData;
}

/** The fields of a search-log.jsonl record the page reads. */
export interface SearchLogRecord {
  generation: number;
  index: number;
  feasible: boolean;
  accuracy: number | null;
  predicted: { flashBytes: number; sramBytes: number; instructions: number };
}

export interface PageInputs {
  report: BuildReport;
  codegen: Pick<CodegenSummary, "arena" | "estimate">;
  /** quantize.json (its confusion matrices, when it has them). */
  quantize: { confusion?: ConfusionData };
  /** sparsenas.json's search summary, when it searched. */
  search?: {
    budgets: SearchData["budgets"];
    chosen: { index: number };
    validationImages: number;
  };
  /** search-log.jsonl, parsed. */
  searchLog?: readonly SearchLogRecord[];
  /** pareto.json, parsed. */
  pareto?: readonly { index: number }[];
}

export function assemblePageData(inputs: PageInputs): ReportPageData {
  const { arena, estimate } = inputs.codegen;
  const layerConstantBytes: Record<string, number> = {};
  for (const layer of estimate?.layers ?? []) layerConstantBytes[layer.op] = layer.constantBytes;
  const search =
    inputs.search === undefined || inputs.searchLog === undefined
      ? undefined
      : {
          budgets: inputs.search.budgets,
          chosen: inputs.search.chosen.index,
          validationImages: inputs.search.validationImages,
          candidates: inputs.searchLog.map((record) => ({
            index: record.index,
            generation: record.generation,
            feasible: record.feasible,
            accuracy: record.accuracy,
            flashBytes: record.predicted.flashBytes,
            sramBytes: record.predicted.sramBytes,
            instructions: record.predicted.instructions,
          })),
          front: (inputs.pareto ?? []).map((record) => record.index),
        };
  return {
    report: inputs.report,
    arena: {
      bytes: arena.bytes,
      lowerBoundBytes: arena.lowerBoundBytes,
      alignment: arena.alignment,
      buffers: arena.buffers,
    },
    layerConstantBytes,
    ...(inputs.quantize.confusion === undefined ? {} : { confusion: inputs.quantize.confusion }),
    ...(search === undefined ? {} : { search }),
  };
}
