/**
 * Candidate search spaces drawn from a recipe's `supernas` section: each
 * gives every stage one of its allowed block types and, for each field of
 * that block, a few of the allowed values (`choices_per_field`, fewer when
 * fewer are allowed). Every candidate is an ordinary `search_space` that
 * builds: a MobileViT stage keeps only head counts that divide every one of
 * its embedding dims. Seeded from the recipe; the same section and seed give
 * the same candidates in the same order.
 */
import { allowedValues } from "../config/allowed-values.js";
import type {
  Choice,
  SearchSpaceConfig,
  SearchStage,
  SupernasSection,
  SupernasStage,
} from "../config/types.js";
import { createSeededRandom, deriveSeed, type SeededRandom } from "../datasets/seeded-random.js";

/** Draws per candidate before giving up on finding another distinct one. */
const ATTEMPTS_PER_CANDIDATE = 20;

/** `count` distinct values of `values` (all when there are no more), ascending, as a search-space field. */
function pick(random: SeededRandom, values: readonly number[], count: number): Choice<number> {
  const pool = [...values];
  const chosen: number[] = [];
  while (chosen.length < count && pool.length > 0)
    chosen.push(pool.splice(random.nextInt(pool.length), 1)[0] as number);
  chosen.sort((a, b) => a - b);
  return chosen.length === 1 ? (chosen[0] as number) : chosen;
}

const asList = (field: Choice<number>): number[] => (Array.isArray(field) ? field : [field]);

function drawStage(random: SeededRandom, stage: SupernasStage, choices: number): SearchStage {
  const block = stage.blocks[random.nextInt(stage.blocks.length)] as SearchStage["block"];
  const depth = pick(random, allowedValues(stage.depth), choices);
  const channels = pick(random, allowedValues(stage.channels), choices);
  const kernelSize = () => pick(random, allowedValues(stage.kernel_size), choices);
  switch (block) {
    case "mbv2":
      return {
        block,
        depth,
        channels,
        expansion: pick(random, allowedValues(stage.expansion), choices),
        kernel_size: kernelSize(),
        stride: stage.stride,
      };
    case "resnet":
      return { block, depth, channels, kernel_size: kernelSize(), stride: stage.stride };
    case "mobilevit": {
      // The checks guarantee embed_dim is given and some head count divides one of its values.
      const heads = allowedValues(stage.heads);
      const embeds = allowedValues(stage.embed_dim ?? []).filter((embed) =>
        heads.some((head) => embed % head === 0),
      );
      const embedDim = pick(random, embeds, choices);
      const dividing = heads.filter((head) =>
        asList(embedDim).every((embed) => embed % head === 0),
      );
      // Several embed dims may share no head count: keep one of them then.
      const embedDimChoice = dividing.length > 0 ? embedDim : (asList(embedDim)[0] as number);
      const headChoices = heads.filter((head) =>
        asList(embedDimChoice).every((embed) => embed % head === 0),
      );
      return {
        block,
        depth,
        channels,
        embed_dim: embedDimChoice,
        heads: pick(random, headChoices, choices),
        mlp_ratio: pick(random, allowedValues(stage.mlp_ratio), choices),
        patch_size: stage.patch_size,
        stride: stage.stride,
      };
    }
  }
}

function drawSpace(random: SeededRandom, section: SupernasSection): SearchSpaceConfig {
  const choices = section.choices_per_field;
  return {
    stem: {
      channels: pick(random, allowedValues(section.stem.channels), choices),
      stride: section.stem.stride,
    },
    stages: section.stages.map((stage) => drawStage(random, stage, choices)),
    head: { dropout: section.head.dropout },
  };
}

/**
 * Up to `section.candidates` distinct candidate spaces (fewer when the
 * section allows fewer distinct ones).
 */
export function drawCandidateSpaces(section: SupernasSection, seed: number): SearchSpaceConfig[] {
  const spaces: SearchSpaceConfig[] = [];
  const seen = new Set<string>();
  const attempts = section.candidates * ATTEMPTS_PER_CANDIDATE;
  for (let attempt = 0; attempt < attempts && spaces.length < section.candidates; attempt++) {
    const space = drawSpace(
      createSeededRandom(deriveSeed(seed, `supernas/space/${attempt}`)),
      section,
    );
    const key = JSON.stringify(space);
    if (seen.has(key)) continue;
    seen.add(key);
    spaces.push(space);
  }
  return spaces;
}
