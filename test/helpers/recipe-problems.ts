/** The diagnostics of loading a test workspace's recipe, rendered as the CLI prints them. */
import { ConfigError, renderDiagnostic } from "../../src/config/diagnostic.js";
import { loadRecipe } from "../../src/config/load-recipe.js";
import type { TestWorkspace } from "./workspace.js";

/** Every problem, rendered; throws when the recipe loads. */
export async function recipeProblems(ws: TestWorkspace, overrides: string[] = []): Promise<string> {
  try {
    await loadRecipe(ws.recipe, { workspaceRoot: ws.root, overrides });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Paths relative to the workspace, whatever the test's working directory.
    return error.diagnostics.map(renderDiagnostic).join("\n").replaceAll(`${ws.root}/`, "");
  }
  throw new Error("expected the recipe to be invalid");
}
