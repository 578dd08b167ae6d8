/**
 * Checks of a recipe's `supernas` section beyond its schema, each at the
 * value to change: a recipe gives either `search_space` or `supernas`; a
 * range's min is not above its max; a stage that may be MobileViT says which
 * embedding dims it allows, and some allowed head count divides one of them;
 * the strides stay within the input resolution; and a MobileViT patch divides
 * its stage's feature map. Every candidate space drawn from a section that
 * passes can then be built.
 */
import { allowedValues, isRange } from "./allowed-values.js";
import type { Diagnostic } from "./diagnostic.js";
import { stageGeometries } from "./search-space-checks.js";
import { problemAt, type RecipeCheck, settingText, valueText } from "./semantic-checks.js";
import type { SourceStack } from "./source-stack.js";
import type { AllowedValues, Recipe, SupernasSection } from "./types.js";

const SUPERNAS = "/supernas";
const SEARCH_SPACE = "/search_space";
const RESOLUTION = "/dataset/input_resolution_px";

type WithSection = Recipe & { supernas: SupernasSection };

const whenSection =
  (check: (recipe: WithSection, sources: SourceStack) => Diagnostic[]) =>
  (recipe: Recipe, sources: SourceStack): Diagnostic[] =>
    recipe.supernas === undefined ? [] : check(recipe as WithSection, sources);

function checkOneSpace(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  if (recipe.search_space !== undefined && recipe.supernas !== undefined)
    return [
      problemAt(
        sources,
        SUPERNAS,
        "the recipe gives search_space too: keep search_space to search it directly, or remove it to let supernas choose one",
      ),
    ];
  if (recipe.search_space === undefined && recipe.supernas === undefined)
    return [
      sources.diagnostic(
        "",
        "the recipe has no search space: give search_space (the space to search), or supernas (a larger space to choose it from)",
      ),
    ];
  return [];
}

/** Every range field of the section with its pointer. */
function rangeFields(section: SupernasSection): [string, AllowedValues][] {
  const fields: [string, AllowedValues][] = [[`${SUPERNAS}/stem/channels`, section.stem.channels]];
  section.stages.forEach((stage, index) => {
    const at = `${SUPERNAS}/stages/${index}`;
    for (const key of [
      "depth",
      "channels",
      "expansion",
      "heads",
      "mlp_ratio",
      "embed_dim",
    ] as const) {
      const field = stage[key];
      if (field !== undefined) fields.push([`${at}/${key}`, field]);
    }
  });
  return fields;
}

function checkRanges(recipe: WithSection, sources: SourceStack): Diagnostic[] {
  return rangeFields(recipe.supernas).flatMap(([pointer, field]) =>
    isRange(field) && field.min > field.max
      ? [problemAt(sources, `${pointer}/min`, `${field.min} is above max ${field.max}`)]
      : [],
  );
}

function checkMobileVitFields(recipe: WithSection, sources: SourceStack): Diagnostic[] {
  return recipe.supernas.stages.flatMap((stage, index) => {
    if (!stage.blocks.includes("mobilevit")) return [];
    const at = `${SUPERNAS}/stages/${index}`;
    if (stage.embed_dim === undefined)
      return [
        problemAt(
          sources,
          `${at}/blocks`,
          "lists mobilevit, which needs embed_dim: the embedding dims its transformer may take",
        ),
      ];
    const embeds = allowedValues(stage.embed_dim);
    const heads = allowedValues(stage.heads);
    if (embeds.some((embed) => heads.some((head) => embed % head === 0))) return [];
    return [
      problemAt(
        sources,
        `${at}/heads`,
        `${valueText(sources, `${at}/heads`, heads)} divides none of the embed_dim values allowed (${embeds.join(", ")}): a MobileViT stage splits its embedding evenly across its heads`,
      ),
    ];
  });
}

function checkGeometry(recipe: WithSection, sources: SourceStack): Diagnostic[] {
  const resolution = recipe.dataset.input_resolution_px;
  const { stem, stages } = recipe.supernas;
  for (const { index, stage, size, totalStride } of stageGeometries(
    resolution,
    stem.stride,
    stages,
  )) {
    const at = `${SUPERNAS}/stages/${index}`;
    if (totalStride > resolution)
      return [
        problemAt(
          sources,
          `${at}/stride`,
          `the total stride reaches ${totalStride}, past ${settingText(sources, RESOLUTION, resolution)}: the feature map would shrink below one pixel`,
        ),
      ];
    if (stage.blocks.includes("mobilevit") && size % stage.patch_size !== 0)
      return [
        problemAt(
          sources,
          `${at}/patch_size`,
          `${valueText(sources, `${at}/patch_size`, stage.patch_size)} does not divide the ${size}x${size} feature map of this stage (a MobileViT block unfolds it into whole patches)`,
        ),
      ];
  }
  return [];
}

export const SUPERNAS_CHECKS: readonly RecipeCheck[] = [
  {
    name: "a recipe gives search_space or supernas",
    reads: [SEARCH_SPACE, SUPERNAS],
    run: checkOneSpace,
  },
  { name: "supernas ranges run upwards", reads: [SUPERNAS], run: whenSection(checkRanges) },
  {
    name: "supernas MobileViT stages have embedding dims that some head count divides",
    reads: [SUPERNAS],
    run: whenSection(checkMobileVitFields),
  },
  {
    name: "supernas strides and patches fit the input resolution",
    reads: [SUPERNAS, RESOLUTION],
    run: whenSection(checkGeometry),
  },
];
