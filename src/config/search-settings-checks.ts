/**
 * Checks that the SparseNAS settings (`search:`) agree with each other and
 * with the rest of the recipe:
 *
 *   - the parents are the best candidates of one generation, so there
 *     cannot be more of them than `population`;
 *   - `crossover_fraction` and `random_fraction` are shares of each new
 *     generation (mutation breeds the rest), so they add up to at most 1;
 *   - crossover mixes two parents, so it needs `parents` >= 2;
 *   - a search ranks candidates by validation accuracy, so a recipe with
 *     choices needs a validation split (`dataset.validation_fraction` > 0).
 *
 * The settings are checked whether or not the recipe has choices: a fixed
 * network skips the search, but the recipe would still contradict itself.
 */
import type { Diagnostic } from "./diagnostic.js";
import { pointerToDottedPath } from "./schema-validation.js";
import {
  firstSet,
  hasChoices,
  problemAt,
  type RecipeCheck,
  settingText,
  valueText,
} from "./semantic-checks.js";
import type { SourceStack } from "./source-stack.js";
import type { Choice, Recipe } from "./types.js";

const POPULATION = "/search/population";
const PARENTS = "/search/parents";
const CROSSOVER = "/search/crossover_fraction";
const RANDOM = "/search/random_fraction";
const VALIDATION_FRACTION = "/dataset/validation_fraction";

/** Shares are compared with this much slack: 0.7 + 0.3 is 1 to the user. */
const SHARE_TOLERANCE = 1e-9;

function checkParentsWithinPopulation(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  const { population, parents } = recipe.search;
  if (parents <= population) return [];
  const why = "the parents are the best candidates of one generation";
  return [
    firstSet(sources, [PARENTS, POPULATION]) === PARENTS
      ? problemAt(
          sources,
          PARENTS,
          `${parents} is more than ${settingText(sources, POPULATION, population)}: ${why}`,
        )
      : problemAt(
          sources,
          POPULATION,
          `${population} is less than ${settingText(sources, PARENTS, parents)}: ${why}`,
        ),
  ];
}

function checkSharesOfAGeneration(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  const { crossover_fraction: crossover, random_fraction: random } = recipe.search;
  const sum = crossover + random;
  if (sum <= 1 + SHARE_TOLERANCE) return [];
  return [
    problemAt(
      sources,
      firstSet(sources, [RANDOM, CROSSOVER]),
      `crossover_fraction ${valueText(sources, CROSSOVER, crossover)} + random_fraction ${valueText(sources, RANDOM, random)} = ${Number(sum.toPrecision(12))}, more than 1: both are shares of each new generation (mutation breeds the rest)`,
    ),
  ];
}

function checkCrossoverHasTwoParents(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  const { parents, crossover_fraction: crossover } = recipe.search;
  // The default is 4 parents: fewer than 2 is always written somewhere.
  if (parents >= 2 || crossover === 0) return [];
  return [
    problemAt(
      sources,
      PARENTS,
      `${parents} parent leaves nothing to cross, but crossover_fraction ${valueText(sources, CROSSOVER, crossover)} of each generation is bred by crossing two parents (keep 2 or more parents, or set crossover_fraction to 0)`,
    ),
  ];
}

/** The first search-space or sparsity field with several choices: why the recipe is a search. */
function firstSearchedField(recipe: Recipe): { path: string; choices: number[] } | undefined {
  if (recipe.search_space === undefined) return undefined;
  const fields: [string, Choice<number>][] = [
    ["/search_space/stem/channels", recipe.search_space.stem.channels],
    ...recipe.search_space.stages.flatMap((stage, index) =>
      Object.entries(stage)
        .filter((entry): entry is [string, Choice<number>] => typeof entry[1] !== "string")
        .map(([key, value]): [string, Choice<number>] => [
          `/search_space/stages/${index}/${key}`,
          value,
        ]),
    ),
    ["/sparsity/global_target", recipe.sparsity.global_target],
  ];
  const found = fields.find(([, value]) => hasChoices(value));
  return found === undefined
    ? undefined
    : { path: pointerToDottedPath(found[0]), choices: [found[1]].flat() };
}

function checkSearchHasValidationImages(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  if (recipe.dataset.validation_fraction > 0) return [];
  const searched = firstSearchedField(recipe);
  const why =
    searched !== undefined
      ? `${searched.path} has ${searched.choices.length} choices: ${searched.choices.join(", ")}`
      : recipe.supernas !== undefined
        ? "supernas chooses the search space"
        : undefined;
  if (why === undefined) return [];
  return [
    problemAt(
      sources,
      VALIDATION_FRACTION,
      `0 leaves no validation images, but the search ranks its candidates by validation accuracy (${why})`,
    ),
  ];
}

export const SEARCH_SETTINGS_CHECKS: readonly RecipeCheck[] = [
  {
    name: "search.parents within search.population",
    reads: [POPULATION, PARENTS],
    run: checkParentsWithinPopulation,
  },
  {
    name: "crossover and random shares of a generation add up to at most 1",
    reads: [CROSSOVER, RANDOM],
    run: checkSharesOfAGeneration,
  },
  {
    name: "crossover has two parents",
    reads: [PARENTS, CROSSOVER],
    run: checkCrossoverHasTwoParents,
  },
  {
    name: "a search has validation images",
    reads: [VALIDATION_FRACTION, "/search_space", "/supernas", "/sparsity/global_target"],
    run: checkSearchHasValidationImages,
  },
];
