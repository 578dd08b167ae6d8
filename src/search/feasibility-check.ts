/**
 * The configuration check that a search recipe can fit its board at all
 * (precheck.ts), reported like any configuration problem: at the budget the
 * smallest candidate misses (the board's memory region, or the recipe's
 * latency budget), with the footprint and the overflow, before anything is
 * built or trained. A fixed recipe is not checked here (its build checks the
 * budgets with the real linker). tfjs and the evaluator load only for a
 * recipe that searches.
 */
import { readdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Diagnostic } from "../config/diagnostic.js";
import type { LateCheckInput, LateRecipeCheck } from "../config/load-recipe.js";
import type { Recipe } from "../config/types.js";
import { recipeSearches } from "./recipe-searches.js";

const format = (n: number) => n.toLocaleString("en-US");

/** Classes of the dataset: CIFAR-10 has ten; an image folder one per sub-directory (at least 2). */
async function countClasses(recipe: Recipe, workspaceRoot: string): Promise<number> {
  if (recipe.dataset.format === "cifar10-binary") return 10;
  const entries = await readdir(resolve(workspaceRoot, recipe.dataset.path), {
    withFileTypes: true,
  }).catch(() => []);
  return Math.max(2, entries.filter((entry) => entry.isDirectory()).length);
}

export const checkSearchFeasibility: LateRecipeCheck = async (input: LateCheckInput) => {
  const { recipe, board } = input;
  if (!recipeSearches(recipe)) return [];
  const [{ createTrainingBackend }, { precheckSearch }, { resolveBudgets }] = await Promise.all([
    import("../training/backend.js"),
    import("./precheck.js"),
    import("./budgets.js"),
  ]);
  // The check computes on the CPU backend's kernels only through the
  // evaluator's export: any backend gives the same sizes.
  await createTrainingBackend({ backend: recipe.backend ?? "auto" });
  const budgets = resolveBudgets(board.memory, recipe.search.latency_budget_instructions);
  const result = precheckSearch({
    recipe,
    classes: await countClasses(recipe, input.workspaceRoot),
    inputResolution: recipe.dataset.input_resolution_px,
    budgets,
  });
  if (result.feasible) return [];
  const { predicted } = result.smallest;
  const footprint = `(the smallest candidate is the space's smallest sub-network with every layer at its highest sparsity target: about ${format(predicted.flashBytes)} bytes of flash, ${format(predicted.sramBytes)} bytes of SRAM, ${format(predicted.instructions)} instructions per inference)`;
  const miss = (used: number, budget: number, unit: string) =>
    `no candidate of the search fits: even the smallest needs ${format(used)} ${unit}, ${format(used - budget)} over the budget of ${format(budget)} ${footprint}`;
  const diagnostics: Diagnostic[] = [];
  if (predicted.flashBytes > budgets.flashBytes)
    diagnostics.push(
      await input.boardDiagnostic(
        "/memory/flash/size_bytes",
        `memory.flash: ${miss(predicted.flashBytes, budgets.flashBytes, "bytes of flash")}; the budget is size_bytes - reserved_bytes`,
      ),
    );
  if (predicted.sramBytes > budgets.sramBytes)
    diagnostics.push(
      await input.boardDiagnostic(
        "/memory/sram/size_bytes",
        `memory.sram: ${miss(predicted.sramBytes, budgets.sramBytes, "bytes of SRAM")}; the budget is size_bytes - reserved_bytes`,
      ),
    );
  if (budgets.instructions !== undefined && predicted.instructions > budgets.instructions)
    diagnostics.push(
      input.recipeDiagnostic(
        "/search/latency_budget_instructions",
        `search.latency_budget_instructions: ${miss(predicted.instructions, budgets.instructions, "instructions per inference")}`,
      ),
    );
  return diagnostics;
};
