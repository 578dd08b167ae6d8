/**
 * The budgets a candidate must meet: the board's flash and SRAM (each region's
 * size less its reserve) and the recipe's optional latency budget, and the
 * lines that say by how much a prediction misses them.
 */
import type { BoardProfile } from "../config/types.js";
import type { ResourcePrediction } from "./evolution.js";

export interface ResourceBudgets {
  readonly flashBytes: number;
  readonly sramBytes: number;
  /** Undefined: no latency budget. */
  readonly instructions?: number;
}

export function resolveBudgets(
  memory: BoardProfile["memory"],
  latencyBudgetInstructions: number,
): ResourceBudgets {
  return {
    flashBytes: memory.flash.size_bytes - memory.flash.reserved_bytes,
    sramBytes: memory.sram.size_bytes - memory.sram.reserved_bytes,
    ...(latencyBudgetInstructions > 0 ? { instructions: latencyBudgetInstructions } : {}),
  };
}

const format = (n: number) => n.toLocaleString("en-US");

/** One line per budget `predicted` exceeds (empty when it fits). */
export function findBudgetViolations(
  predicted: ResourcePrediction,
  budgets: ResourceBudgets,
): string[] {
  const lines: string[] = [];
  const check = (what: string, used: number, budget: number | undefined, unit: string) => {
    if (budget !== undefined && used > budget)
      lines.push(
        `${what}: ${format(used)} ${unit} over the budget of ${format(budget)} by ${format(used - budget)}`,
      );
  };
  check("flash", predicted.flashBytes, budgets.flashBytes, "bytes");
  check("SRAM", predicted.sramBytes, budgets.sramBytes, "bytes");
  check("latency", predicted.instructions, budgets.instructions, "instructions");
  return lines;
}
