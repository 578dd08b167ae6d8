/** Whether a recipe searches: SuperNAS chooses its space, or a field of its space or its sparsity target has several choices. */
import type { Recipe } from "../config/types.js";

export function recipeSearches(
  recipe: Pick<Recipe, "search_space" | "supernas" | "sparsity">,
): boolean {
  const many = (value: unknown) => Array.isArray(value) && value.length > 1;
  // A space SuperNAS chooses is searched (its candidates offer choices by construction).
  if (recipe.search_space === undefined) return true;
  return (
    many(recipe.sparsity.global_target) ||
    many(recipe.search_space.stem.channels) ||
    recipe.search_space.stages.some((stage) => Object.values(stage).some(many))
  );
}
