/**
 * What the two training stages (`supernas`, `sparsenas`) share: the mapping
 * from the recipe's training keys to the training loop's options, the
 * dataset and supernet they start from, linking upstream outputs, and
 * progress reporting.
 * No tfjs here: this module is imported when the pipeline is built.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BackendPreference, Recipe, SearchSpaceConfig, TrainingRun } from "../config/types.js";
import type { DataParallelTrainer } from "../data-parallel/trainer.js";
import type { StageConfig, StageContext } from "../graph-runner/stage.js";
import type { BackendIdentity } from "../training/backend.js";
import type { EpochSummary, TrainingEvent } from "../training/loop.js";
import type { OptimizerConfig } from "../training/optimizers.js";

/**
 * Recipe keys the training stages read (besides their own `training.*`
 * section). Not `search_space`: they build the space the space-search stage
 * hands on (its output is part of their keys), so a space pasted into the
 * recipe in place of the `supernas` section that chose it retrains nothing.
 */
export const TRAINING_STAGE_KEYS = [
  "seed",
  "dataset.normalization",
  "dataset.augmentation",
] as const;

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

/**
 * Progress events for the runner: a counter every batch (the terminal's bar),
 * a line every epoch, and about ten times per epoch for batches (detail:
 * shown with `--verbose`). The reporter prefixes the
 * stage's name; `phase` names the part of a stage that trains, when a stage
 * has more than one.
 */
export function createTrainingProgress(context: StageContext, phase?: string) {
  const prefix = phase === undefined ? "" : `${phase} `;
  return (event: TrainingEvent) => {
    switch (event.kind) {
      case "batch": {
        context.count(
          event.epoch * event.batches + event.batch + 1,
          event.epochs * event.batches,
          "batches",
          `${prefix}epoch ${event.epoch + 1}/${event.epochs}`,
        );
        const every = Math.max(1, Math.ceil(event.batches / 10));
        if ((event.batch + 1) % every !== 0 && event.batch + 1 !== event.batches) return;
        context.progress(
          `${prefix}epoch ${event.epoch + 1}/${event.epochs} batch ${event.batch + 1}/${event.batches}: loss ${event.loss.toFixed(3)}, accuracy ${percent(event.accuracy)}, ${event.imagesPerSecond.toFixed(0)} images/s`,
          {
            epoch: event.epoch + 1,
            epochs: event.epochs,
            batch: event.batch + 1,
            batches: event.batches,
            loss: event.loss,
            accuracy: event.accuracy,
            imagesPerSecond: event.imagesPerSecond,
            learningRate: event.learningRate,
          },
          "detail",
        );
        return;
      }
      case "epoch":
        context.progress(
          `${prefix}epoch ${event.epoch + 1}/${event.epochs}: loss ${event.loss.toFixed(3)}, accuracy ${percent(event.accuracy)}${event.validationAccuracy === undefined ? "" : `, validation ${percent(event.validationAccuracy)}`} (${event.seconds.toFixed(1)} s)`,
          {
            epoch: event.epoch + 1,
            epochs: event.epochs,
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
 * stage's training and validation splits, and the supernet of the search
 * space for those images (a fixed network's supernet has one sub-network).
 * Modules that load tfjs are imported here, inside a running stage, never at
 * start-up.
 */
export async function prepareTrainingRun(
  context: StageContext,
  backendChoice: BackendPreference,
  searchSpace: SearchSpaceConfig,
  seed: number,
  stage: string,
) {
  const [{ createTrainingBackend }, { loadDatasetArtifacts }, { createSupernet }] =
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
  const supernet = createSupernet(searchSpace, {
    classes: dataset.manifest.classNames.length,
    inputResolution: dataset.manifest.image.height,
    seed,
  });
  return { backend, train, validation: dataset.splits.validation, supernet };
}

/**
 * The backend identity a training stage records: the backend's, plus
 * `+workers<N>` when N data-parallel replicas trained (as in its cache key,
 * src/training/backend-tool.ts).
 */
export function trainedWith(
  backend: { readonly name: BackendIdentity["name"]; readonly version: string },
  trainingWorkers: number,
): BackendIdentity {
  return {
    name: backend.name,
    version: backend.version + (trainingWorkers > 1 ? `+workers${trainingWorkers}` : ""),
  };
}

/**
 * `trainingWorkers` data-parallel replicas (src/data-parallel/): the loop's
 * step runner, also spreading recalibration and evaluation; none for one
 * worker, where the loop's own step runs with the bytes it always had.
 * `close` ends the worker threads.
 */
export async function startDataParallelTraining(
  context: StageContext,
  trainingWorkers: number,
  options: Omit<
    import("../data-parallel/trainer.js").DataParallelOptions,
    "replicas" | "geometry" | "classes"
  > & { readonly train: import("../datasets/image-dataset.js").ImageDataset },
): Promise<{ trainer?: DataParallelTrainer; close(): Promise<void> }> {
  if (trainingWorkers <= 1) return { close: async () => undefined };
  const { createDataParallelTrainer } = await import("../data-parallel/trainer.js");
  const { train, ...rest } = options;
  context.progress(
    `training data-parallel on ${trainingWorkers} replicas (this process and ${trainingWorkers - 1} worker thread(s)), ${trainingWorkers} shards per batch`,
  );
  const trainer = await createDataParallelTrainer({
    ...rest,
    replicas: trainingWorkers,
    geometry: train,
    classes: train.classNames.length,
  });
  return { trainer, close: () => trainer.close() };
}
