/**
 * Checks that every sub-network of `search_space` can be built: the block
 * library would otherwise throw when a training stage constructs the
 * supernet or binds a choice, long after the recipe was read.
 *
 *   - a MobileViT stage splits each embed_dim choice evenly across each heads
 *     choice (every combination is a candidate);
 *   - the strides (stem, then each stage's first block), applied to
 *     `dataset.input_resolution_px` with ceil division as the network does,
 *     never make the total stride exceed the input resolution: the feature
 *     map would shrink below one pixel;
 *   - a MobileViT stage's `patch_size` divides its feature map (the
 *     transformer unfolds it into whole patches).
 */
import type { Diagnostic } from "./diagnostic.js";
import {
  choiceItems,
  hasChoices,
  problemAt,
  type RecipeCheck,
  settingText,
  valueText,
} from "./semantic-checks.js";
import type { SourceStack } from "./source-stack.js";
import type { Recipe, SearchSpaceConfig, SearchStage } from "./types.js";

/** A recipe that gives its search space (the checks below skip one whose space SuperNAS chooses). */
type GivenSpace = Recipe & { search_space: SearchSpaceConfig };

const whenGiven =
  (check: (recipe: GivenSpace, sources: SourceStack) => Diagnostic[]) =>
  (recipe: Recipe, sources: SourceStack): Diagnostic[] =>
    recipe.search_space === undefined ? [] : check(recipe as GivenSpace, sources);

const SEARCH_SPACE = "/search_space";
const RESOLUTION = "/dataset/input_resolution_px";

/** Where a stage runs: the square feature map after its stride. */
export interface StageGeometry<S> {
  readonly index: number;
  readonly stage: S;
  /** Side of the feature map the stage's blocks work on, in pixels. */
  readonly size: number;
  /** Product of the strides from the stem to this stage, inclusive. */
  readonly totalStride: number;
}

/**
 * Feature map sizes as the network computes them: ceil(size / stride) at
 * each stride, from the input resolution through the stem and each stage
 * (of a search space, or of a supernas section).
 */
export function stageGeometries<S extends { readonly stride: number }>(
  resolution: number,
  stemStride: number,
  stages: readonly S[],
): StageGeometry<S>[] {
  let size = Math.ceil(resolution / stemStride);
  let totalStride = stemStride;
  return stages.map((stage, index) => {
    size = Math.ceil(size / stage.stride);
    totalStride *= stage.stride;
    return { index, stage, size, totalStride };
  });
}

const spaceGeometries = (recipe: GivenSpace): StageGeometry<SearchStage>[] =>
  stageGeometries(
    recipe.dataset.input_resolution_px,
    recipe.search_space.stem.stride,
    recipe.search_space.stages,
  );

function checkHeadsDivideEmbedDim(recipe: GivenSpace, sources: SourceStack): Diagnostic[] {
  return recipe.search_space.stages.flatMap((stage, index) => {
    if (stage.block !== "mobilevit") return [];
    const at = `${SEARCH_SPACE}/stages/${index}`;
    const heads = choiceItems(`${at}/heads`, stage.heads);
    const every =
      hasChoices(stage.heads) || hasChoices(stage.embed_dim)
        ? " (every embed_dim choice must be divisible by every heads choice)"
        : "";
    return choiceItems(`${at}/embed_dim`, stage.embed_dim).flatMap((embed) => {
      const misfits = heads.filter((head) => embed.value % head.value !== 0);
      if (misfits.length === 0) return [];
      const defaulted = sources.isSet(`${at}/heads`) ? "" : " (the default)";
      const misfitText = misfits.map((head) => head.value).join(", ");
      return [
        problemAt(
          sources,
          embed.pointer,
          `${embed.value} is not divisible by heads ${misfitText}${defaulted}${every}`,
        ),
      ];
    });
  });
}

function checkTotalStride(recipe: GivenSpace, sources: SourceStack): Diagnostic[] {
  const resolution = recipe.dataset.input_resolution_px;
  // Only the first stride past the resolution: the ones after it follow from it.
  // (The stem alone cannot pass it: the schema keeps its stride <= 2 <= 8 px.)
  const first = spaceGeometries(recipe).find((stage) => stage.totalStride > resolution);
  if (first === undefined) return [];
  return [
    problemAt(
      sources,
      `${SEARCH_SPACE}/stages/${first.index}/stride`,
      `${first.stage.stride} makes the total stride ${first.totalStride}, more than ${settingText(sources, RESOLUTION, resolution)}: the feature map would shrink below one pixel`,
    ),
  ];
}

function checkPatchSizes(recipe: GivenSpace, sources: SourceStack): Diagnostic[] {
  const resolution = recipe.dataset.input_resolution_px;
  return spaceGeometries(recipe).flatMap(({ index, stage, size, totalStride }) => {
    if (stage.block !== "mobilevit" || size % stage.patch_size === 0) return [];
    const pointer = `${SEARCH_SPACE}/stages/${index}/patch_size`;
    return [
      problemAt(
        sources,
        pointer,
        `${valueText(sources, pointer, stage.patch_size)} does not divide the ${size}x${size} feature map of this stage (${settingText(sources, RESOLUTION, resolution)}, total stride ${totalStride})`,
      ),
    ];
  });
}

export const SEARCH_SPACE_CHECKS: readonly RecipeCheck[] = [
  {
    name: "MobileViT heads divide embed_dim",
    reads: [SEARCH_SPACE],
    run: whenGiven(checkHeadsDivideEmbedDim),
  },
  {
    name: "the total stride stays within the input resolution",
    reads: [SEARCH_SPACE, RESOLUTION],
    run: whenGiven(checkTotalStride),
  },
  {
    name: "MobileViT patch_size divides the stage's feature map",
    reads: [SEARCH_SPACE, RESOLUTION],
    run: whenGiven(checkPatchSizes),
  },
];
