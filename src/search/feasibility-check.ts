/**
 * The configuration check that a search recipe can fit its board at all
 * (precheck.ts), reported like any configuration problem: at the budget the
 * smallest candidate misses (the board's memory region, or the recipe's
 * latency budget), with the footprint and the overflow, before anything is
 * built or trained. A fixed recipe is not checked here (its build checks the
 * budgets with the real linker). tfjs and the evaluator load only for a
 * recipe that searches, and only once for the same inputs: a passed check is
 * remembered in the workspace's configuration memo directory, keyed by
 * everything it read (the space, sparsity, seed, budgets, board, dataset
 * shape, the evaluator's tables and TinyFormer's version).
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Diagnostic } from "../config/diagnostic.js";
import type { LateCheckInput, LateRecipeCheck } from "../config/load-recipe.js";
import { CONFIG_MEMO_DIR } from "../config/project-config.js";
import type { Recipe, SearchSpaceConfig } from "../config/types.js";
import { packageRoot, templatesDir } from "../project-paths.js";
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

/** The key of a check: a digest of everything it reads. */
async function checkKey(input: LateCheckInput): Promise<string> {
  const { recipe, board } = input;
  const tables = await Promise.all(
    [
      join(packageRoot, "package.json"),
      join(templatesDir, "c", "cost-model.json"),
      join(templatesDir, "c", "footprint.json"),
    ].map((file) => readFile(file).catch(() => Buffer.alloc(0))),
  );
  const hash = createHash("sha256");
  hash.update(
    JSON.stringify({
      space: recipe.search_space,
      sparsity: recipe.sparsity,
      seed: recipe.seed,
      latency: recipe.search.latency_budget_instructions,
      dataset: [recipe.dataset.format, recipe.dataset.path, recipe.dataset.input_resolution_px],
      board: [board.core, board.dsp, board.compiler, board.memory],
    }),
  );
  for (const table of tables) hash.update(table);
  return hash.digest("hex");
}

export const checkSearchFeasibility: LateRecipeCheck = async (input: LateCheckInput) => {
  const { recipe } = input;
  // A space SuperNAS chooses is checked by its own stage, against each candidate space.
  const space = recipe.search_space;
  if (space === undefined || !recipeSearches(recipe)) return [];
  const memoDir = join(input.workspaceRoot, CONFIG_MEMO_DIR);
  const memo = join(memoDir, `search-fits-${await checkKey(input)}`);
  if (
    await readFile(memo).then(
      () => true,
      () => false,
    )
  )
    return [];
  const diagnostics = await runCheck(input, space);
  if (diagnostics.length === 0) {
    // Only a pass is remembered: a failing recipe is checked again, and fails again.
    await mkdir(memoDir, { recursive: true })
      .then(() => writeFile(memo, ""))
      .catch(() => undefined);
  }
  return diagnostics;
};

async function runCheck(input: LateCheckInput, space: SearchSpaceConfig): Promise<Diagnostic[]> {
  const { recipe, board } = input;
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
    recipe: { ...recipe, search_space: space },
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
}
