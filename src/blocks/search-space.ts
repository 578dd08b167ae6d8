/**
 * Choosing one architecture out of a recipe's `search_space`.
 *
 * Every numeric field of the search space is a single value or a list of
 * choices. A supernet allocates each layer at the largest choice; a
 * sub-network is an `ArchitectureChoice` that names one value per field. A
 * caller may leave out any field that has a single value; leaving out a field
 * with several values is an error naming the field, so a search never
 * silently trains the wrong sub-network.
 *
 * Choice objects use the recipe's own field names (`kernel_size`,
 * `embed_dim`, ...) so an error message and a recipe line read the same.
 * Pure data: this module does not load tfjs.
 */
import type { Choice, Recipe, SearchSpaceConfig, SearchStage } from "../config/types.js";

export type SearchSpace = SearchSpaceConfig;

/**
 * The recipe's own `search_space`, for code that runs on a given space (tools,
 * benchmarks, tests); stages read the space the `space-search` stage hands on.
 */
export function givenSearchSpace(recipe: Pick<Recipe, "search_space">): SearchSpace {
  if (recipe.search_space === undefined)
    throw new Error(
      "the recipe has no search_space: its `supernas` section chooses one at build time",
    );
  return recipe.search_space;
}

export interface MobileNetV2StageChoice {
  readonly block: "mbv2";
  /** Blocks in the stage (the first ones of the supernet's stage). */
  readonly depth: number;
  readonly channels: number;
  readonly expansion: number;
  readonly kernel_size: number;
}

export interface ResNetStageChoice {
  readonly block: "resnet";
  readonly depth: number;
  readonly channels: number;
  readonly kernel_size: number;
}

export interface MobileViTStageChoice {
  readonly block: "mobilevit";
  /** Transformer layers of the stage's MobileViT block. */
  readonly depth: number;
  readonly channels: number;
  readonly embed_dim: number;
  readonly heads: number;
  readonly mlp_ratio: number;
}

export type StageChoice = MobileNetV2StageChoice | ResNetStageChoice | MobileViTStageChoice;

/** One sub-network: a value for every searchable field. */
export interface ArchitectureChoice {
  readonly stem: { readonly channels: number };
  readonly stages: readonly StageChoice[];
}

/** A stage's choice with any field left out (the stage's `block` may be named as a check). */
export interface PartialStageChoice {
  readonly block?: SearchStage["block"];
  readonly depth?: number;
  readonly channels?: number;
  readonly expansion?: number;
  readonly kernel_size?: number;
  readonly embed_dim?: number;
  readonly heads?: number;
  readonly mlp_ratio?: number;
}

/** What callers pass: any field with a single value in the search space may be left out. */
export interface PartialArchitectureChoice {
  readonly stem?: { readonly channels?: number };
  readonly stages?: readonly (PartialStageChoice | undefined)[];
}

/** The searchable (numeric, possibly multi-valued) fields of each stage type. */
const STAGE_FIELDS = {
  mbv2: ["depth", "channels", "expansion", "kernel_size"],
  resnet: ["depth", "channels", "kernel_size"],
  mobilevit: ["depth", "channels", "embed_dim", "heads", "mlp_ratio"],
} as const satisfies Record<SearchStage["block"], readonly string[]>;

/** The list of values a search-space field allows. */
export function choicesOf(value: Choice<number>): number[] {
  return Array.isArray(value) ? [...value] : [value];
}

/** Largest value of a field: what a supernet allocates. */
export function largestChoice(value: Choice<number>): number {
  return Math.max(...choicesOf(value));
}

/** Picks a field's value, recording a problem (and returning a placeholder) when it cannot. */
function pick(problems: string[], path: string, value: Choice<number>, picked: unknown): number {
  const options = choicesOf(value);
  const [first = 0] = options;
  if (picked === undefined) {
    if (options.length !== 1)
      problems.push(
        `search_space.${path} has ${options.length} choices (${options.join(", ")}): the architecture choice must pick one`,
      );
    return first;
  }
  if (typeof picked !== "number" || !options.includes(picked)) {
    problems.push(
      `search_space.${path}: ${JSON.stringify(picked)} is not one of its choices (${options.join(", ")})`,
    );
    return first;
  }
  return picked;
}

/**
 * Fills in single-valued fields and checks every given value against the
 * search space. Throws one Error listing every missing, unknown or
 * out-of-space field (one line each, naming the field).
 */
export function resolveArchitectureChoice(
  space: SearchSpace,
  choice: PartialArchitectureChoice = {},
): ArchitectureChoice {
  const problems: string[] = [];
  const stageChoices = choice.stages ?? [];
  if (stageChoices.length > space.stages.length) {
    problems.push(
      `the architecture choice has ${stageChoices.length} stages, search_space.stages has ${space.stages.length}`,
    );
  }
  for (const key of Object.keys(choice.stem ?? {})) {
    if (key !== "channels") problems.push(`search_space.stem has no searchable field ${key}`);
  }
  const stem = {
    channels: pick(problems, "stem.channels", space.stem.channels, choice.stem?.channels),
  };
  const stages = space.stages.map((stage, index): StageChoice => {
    const given: Readonly<Record<string, unknown>> = { ...stageChoices[index] };
    const fields: readonly string[] = STAGE_FIELDS[stage.block];
    for (const key of Object.keys(given)) {
      if (key === "block") {
        if (given.block !== stage.block)
          problems.push(
            `search_space.stages[${index}] is a ${stage.block} stage, the choice says ${String(given.block)}`,
          );
      } else if (!fields.includes(key)) {
        problems.push(
          `search_space.stages[${index}] (${stage.block}) has no searchable field ${key} (fields: ${fields.join(", ")})`,
        );
      }
    }
    const field = (name: string, value: Choice<number>): number =>
      pick(problems, `stages[${index}].${name}`, value, given[name]);
    switch (stage.block) {
      case "mbv2":
        return {
          block: "mbv2",
          depth: field("depth", stage.depth),
          channels: field("channels", stage.channels),
          expansion: field("expansion", stage.expansion),
          kernel_size: field("kernel_size", stage.kernel_size),
        };
      case "resnet":
        return {
          block: "resnet",
          depth: field("depth", stage.depth),
          channels: field("channels", stage.channels),
          kernel_size: field("kernel_size", stage.kernel_size),
        };
      case "mobilevit": {
        const resolved: MobileViTStageChoice = {
          block: "mobilevit",
          depth: field("depth", stage.depth),
          channels: field("channels", stage.channels),
          embed_dim: field("embed_dim", stage.embed_dim),
          heads: field("heads", stage.heads),
          mlp_ratio: field("mlp_ratio", stage.mlp_ratio),
        };
        if (resolved.embed_dim % resolved.heads !== 0) {
          problems.push(
            `search_space.stages[${index}]: embed_dim ${resolved.embed_dim} is not divisible by heads ${resolved.heads}`,
          );
        }
        return resolved;
      }
      default:
        return unreachable(stage);
    }
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return { stem, stages };
}

function unreachable(stage: never): never {
  throw new Error(`unknown stage block ${JSON.stringify(stage)}`);
}

/** The searchable fields of each stage type, in the order sampling draws them. */
export function stageFields(block: SearchStage["block"]): readonly string[] {
  return STAGE_FIELDS[block];
}

/** The choices of one searchable stage field (`depth`, `channels`, ...). */
export function stageFieldChoices(stage: SearchStage, field: string): number[] {
  const value = (stage as unknown as Record<string, Choice<number>>)[field];
  if (value === undefined) throw new Error(`a ${stage.block} stage has no field ${field}`);
  return choicesOf(value);
}

/** True when every searchable field has a single value: the space is one network. */
export function isFixedSearchSpace(space: SearchSpace): boolean {
  if (choicesOf(space.stem.channels).length > 1) return false;
  return space.stages.every((stage) =>
    stageFields(stage.block).every((field) => stageFieldChoices(stage, field).length === 1),
  );
}

/**
 * Builds a choice by picking one value per field with `pick(choices, path)`,
 * in a fixed order (stem, then each stage's fields). A MobileViT stage's
 * `heads` are picked among the choices that divide the picked `embed_dim`
 * (configuration checks make sure at least one does).
 */
export function pickArchitecture(
  space: SearchSpace,
  pick: (choices: readonly number[], path: string) => number,
): ArchitectureChoice {
  const stem = { channels: pick(choicesOf(space.stem.channels), "stem.channels") };
  const stages = space.stages.map((stage, index): StageChoice => {
    const values: Record<string, number> = {};
    for (const field of stageFields(stage.block)) {
      let choices = stageFieldChoices(stage, field);
      if (field === "heads") {
        const embed = values.embed_dim as number;
        const dividing = choices.filter((heads) => embed % heads === 0);
        if (dividing.length > 0) choices = dividing;
      }
      values[field] = pick(choices, `stages[${index}].${field}`);
    }
    return { block: stage.block, ...values } as unknown as StageChoice;
  });
  return resolveArchitectureChoice(space, { stem, stages });
}

/** Every field at its largest value (heads: the largest that divides embed_dim). */
export function largestArchitecture(space: SearchSpace): ArchitectureChoice {
  return pickArchitecture(space, (choices) => Math.max(...choices));
}

/** Every field at its smallest value. */
export function smallestArchitecture(space: SearchSpace): ArchitectureChoice {
  return pickArchitecture(space, (choices) => Math.min(...choices));
}

/** Each field drawn uniformly from its choices. */
export function sampleArchitecture(
  space: SearchSpace,
  random: { nextInt(bound: number): number },
): ArchitectureChoice {
  return pickArchitecture(space, (choices) => choices[random.nextInt(choices.length)] as number);
}

/** A stable text key of a choice (field order fixed by the search space). */
export function architectureKey(choice: ArchitectureChoice): string {
  return JSON.stringify(choice);
}
