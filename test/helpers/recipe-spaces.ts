/** The search spaces a recipe can train: its own, or every candidate its supernas section draws. */
import type { Recipe, SearchSpaceConfig } from "../../src/config/types.js";
import { drawCandidateSpaces } from "../../src/space-search/candidate-spaces.js";

export function recipeSpaces(recipe: Recipe): SearchSpaceConfig[] {
  if (recipe.search_space !== undefined) return [recipe.search_space];
  if (recipe.supernas === undefined) throw new Error("the recipe has no search space");
  return drawCandidateSpaces(recipe.supernas, recipe.seed);
}
