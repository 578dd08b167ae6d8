/**
 * What the two training stages (`supernas`, `sparsenas`) share: the check
 * that the search space is a fixed network (search over several choices is
 * not implemented yet), the mapping from the recipe's training keys to the
 * training loop's options, linking upstream outputs, and progress reporting.
 * No tfjs here: this module is imported when the pipeline is built.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BackendPreference, Recipe, TrainingRun } from "../config/types.js";
import type { StageConfig, StageContext } from "../graph-runner/stage.js";
import type { EpochSummary, TrainingEvent } from "../training/loop.js";
import type { OptimizerConfig } from "../training/optimizers.js";

/** Recipe keys both training stages read (besides their own `training.*` section). */
export const TRAINING_STAGE_KEYS = [
  "search_space",
  "seed",
  "dataset.normalization",
  "dataset.augmentation",
] as const;

type SearchSpace = Recipe["search_space"];

/**
 * Every search-space field with more than one choice, as a recipe path
 * (`search_space.stages[1].channels: 16, 24`). Empty for a fixed network.
 */
export function findMultiChoiceFields(space: SearchSpace): string[] {
  const fields: string[] = [];
  const visit = (path: string, value: unknown) => {
    if (Array.isArray(value) && value.length > 1) fields.push(`${path}: ${value.join(", ")}`);
  };
  visit("search_space.stem.channels", space.stem.channels);
  for (const [index, stage] of space.stages.entries()) {
    for (const [key, value] of Object.entries(stage))
      visit(`search_space.stages[${index}].${key}`, value);
  }
  return fields;
}

/** Throws, naming every multi-choice field, unless the search space is one fixed network. */
export function assertFixedSearchSpace(space: SearchSpace, stage: string): void {
  const fields = findMultiChoiceFields(space);
  if (fields.length === 0) return;
  throw new Error(
    `${stage}: search over several choices is not implemented yet; give these search_space fields a single value:\n${fields.map((field) => `  ${field}`).join("\n")}`,
  );
}

/** The loop's optimizer settings from a recipe training section. */
export function resolveOptimizer(
  run: Pick<TrainingRun, "optimizer" | "momentum" | "weight_decay">,
): OptimizerConfig {
  return run.optimizer === "sgd"
    ? { kind: "sgd", momentum: run.momentum, weightDecay: run.weight_decay }
    : { kind: "adam", weightDecay: run.weight_decay };
}

/** The loop's augmentation from `dataset.augmentation`; `false` when both are off. */
export function resolveAugmentation(
  augmentation: Recipe["dataset"]["augmentation"],
): { padding: number; horizontalFlip: boolean } | false {
  if (augmentation.random_crop_padding_px === 0 && !augmentation.horizontal_flip) return false;
  return {
    padding: augmentation.random_crop_padding_px,
    horizontalFlip: augmentation.horizontal_flip,
  };
}

/** The keys every training stage reads, typed. */
export function readTrainingStageConfig(config: StageConfig) {
  const normalization = config["dataset.normalization"] as Recipe["dataset"]["normalization"];
  return {
    searchSpace: config.search_space as SearchSpace,
    seed: config.seed as number,
    normalization: { mean: normalization.mean, std: normalization.std },
    augmentation: resolveAugmentation(
      config["dataset.augmentation"] as Recipe["dataset"]["augmentation"],
    ),
  };
}

/** Makes an upstream stage's outputs available in the scratch directory. */
export async function linkUpstream(
  context: StageContext,
  stage: string,
  self: string,
): Promise<string> {
  const upstream = context.upstream.get(stage);
  if (upstream === undefined)
    throw new Error(`the ${self} stage needs the ${stage} stage's outputs`);
  return upstream.linkInto(join(context.scratchDir, stage));
}

/**
 * `stopAfterEpoch` for a wall-time budget in minutes (0 = none): training
 * stops after the first epoch that ends past it. `stopped()` says whether it did.
 */
export function createEpochBudget(budgetMinutes: number, epochs: number) {
  const start = performance.now();
  let stoppedEarly = false;
  return {
    stopAfterEpoch(summary: EpochSummary): boolean {
      if (budgetMinutes <= 0 || summary.epoch + 1 >= epochs) return false;
      stoppedEarly = performance.now() - start > budgetMinutes * 60_000;
      return stoppedEarly;
    },
    stopped: () => stoppedEarly,
  };
}

/** Progress events for the runner: every epoch, and about ten times per epoch for batches. */
export function createTrainingProgress(context: StageContext, label: string) {
  return (event: TrainingEvent) => {
    switch (event.kind) {
      case "batch": {
        const every = Math.max(1, Math.ceil(event.batches / 10));
        if ((event.batch + 1) % every !== 0 && event.batch + 1 !== event.batches) return;
        context.progress(
          `${label} epoch ${event.epoch + 1} batch ${event.batch + 1}/${event.batches}: loss ${event.loss.toFixed(3)}, accuracy ${percent(event.accuracy)}, ${event.imagesPerSecond.toFixed(0)} images/s`,
          {
            epoch: event.epoch + 1,
            batch: event.batch + 1,
            batches: event.batches,
            loss: event.loss,
            accuracy: event.accuracy,
            imagesPerSecond: event.imagesPerSecond,
            learningRate: event.learningRate,
          },
        );
        return;
      }
      case "epoch":
        context.progress(
          `${label} epoch ${event.epoch + 1}: loss ${event.loss.toFixed(3)}, accuracy ${percent(event.accuracy)}${event.validationAccuracy === undefined ? "" : `, validation ${percent(event.validationAccuracy)}`} (${event.seconds.toFixed(1)} s)`,
          {
            epoch: event.epoch + 1,
            loss: event.loss,
            accuracy: event.accuracy,
            ...(event.validationAccuracy === undefined
              ? {}
              : { validationAccuracy: event.validationAccuracy }),
            seconds: event.seconds,
          },
        );
        return;
      case "checkpoint":
        return;
      default:
        throw new Error(`unknown training event ${JSON.stringify(event satisfies never)}`);
    }
  };
}

export const percent = (fraction: number) => `${(100 * fraction).toFixed(1)} %`;

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * What both training stages start from: the backend (loaded), the dataset
 * stage's training and validation splits, and the fixed network built from
 * the search space for those images. Modules that load tfjs are imported here,
 * inside a running stage, never at start-up.
 */
export async function prepareTrainingRun(
  context: StageContext,
  backendChoice: BackendPreference,
  searchSpace: SearchSpace,
  seed: number,
  stage: string,
) {
  const [{ createTrainingBackend }, { loadDatasetArtifacts }, { createNetwork }] =
    await Promise.all([
      import("../training/backend.js"),
      import("../datasets/artifacts.js"),
      import("../blocks/network.js"),
    ]);
  const backend = await createTrainingBackend({
    backend: backendChoice,
    onWarning: (message) => context.progress(message),
  });
  const dataset = await loadDatasetArtifacts(await linkUpstream(context, "dataset", stage));
  const train = dataset.splits.train;
  if (train === undefined) throw new Error("the dataset has no training split");
  const network = createNetwork(searchSpace, {
    classes: dataset.manifest.classNames.length,
    inputResolution: dataset.manifest.image.height,
    seed,
  });
  return { backend, train, validation: dataset.splits.validation, network };
}
