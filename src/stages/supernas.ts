/**
 * The `supernas` stage, fixed-network form: the recipe's search space must
 * have a single value in every field (search over several choices is not
 * implemented yet, and says so naming the fields). It builds that network
 * and trains it from scratch on the dataset stage's training split, reporting
 * validation accuracy after every epoch.
 *
 * Inputs:  dataset/manifest.json + *.tfds
 * Reads:   search_space, seed, training.supernas, dataset.normalization,
 *          dataset.augmentation; the training backend's identity is a tool
 * Outputs: checkpoint/ (docs/checkpoint-format.md: parameters and batch-norm
 *          state, no optimizer slots: fine-tuning starts its own optimizer),
 *          supernas.json (SupernasReport)
 *
 * The outputs hold no timings, so a retrain to identical weights gives
 * identical files and the stages below stay cached (early cutoff).
 *
 * Budget: `training.supernas.epochs`, and when `budget_minutes` > 0 training
 * stops after the first epoch that ends past it (the cosine schedule keeps the
 * length it was planned with).
 */
import { join } from "node:path";
import type { TrainingRun } from "../config/types.js";
import type { BackendIdentity } from "../training/backend.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { EpochSummary } from "../training/loop.js";
import type { StageFactory } from "./index.js";
import {
  assertFixedSearchSpace,
  createEpochBudget,
  createTrainingProgress,
  percent,
  prepareTrainingRun,
  readTrainingStageConfig,
  resolveOptimizer,
  TRAINING_STAGE_KEYS,
  writeJson,
} from "./training-support.js";

export const SUPERNAS_CHECKPOINT_DIR = "checkpoint";
export const SUPERNAS_REPORT = "supernas.json";

export interface SupernasReport {
  /** The architecture trained (every field resolved). */
  readonly choice: unknown;
  readonly parameters: number;
  readonly backend: BackendIdentity;
  readonly epochs: { readonly planned: number; readonly completed: number };
  /** Training stopped early because `budget_minutes` ran out. */
  readonly stoppedByBudget: boolean;
  readonly history: readonly EpochSummary[];
  /** Validation accuracy after the last epoch; null without a validation split. */
  readonly validationAccuracy: number | null;
}

export const createSupernasStage: StageFactory = (options) => ({
  version: "1",
  configKeys: [...TRAINING_STAGE_KEYS, "training.supernas"],
  tools: [createBackendTool(options.backend)],
  async run(context) {
    const settings = readTrainingStageConfig(context.config);
    assertFixedSearchSpace(settings.searchSpace, "supernas");
    const run = context.config["training.supernas"] as TrainingRun;
    const [loop, checkpoint] = await Promise.all([
      import("../training/loop.js"),
      import("../training/checkpoint.js"),
    ]);
    const { backend, train, validation, network } = await prepareTrainingRun(
      context,
      options.backend,
      settings.searchSpace,
      settings.seed,
      "supernas",
    );
    try {
      const parameters = network.parameters.trainable.reduce((sum, v) => sum + v.size, 0);
      context.progress(
        `training a fixed network of ${parameters} parameters on ${train.count} images (${backend.version})`,
      );
      const budget = createEpochBudget(run.budget_minutes, run.epochs);
      const result = await loop.trainNetwork({
        network,
        train,
        ...(validation === undefined ? {} : { validation }),
        normalization: settings.normalization,
        epochs: run.epochs,
        batchSize: run.batch_size,
        optimizer: resolveOptimizer(run),
        learningRate: run.learning_rate,
        warmupEpochs: run.warmup_epochs,
        labelSmoothing: run.label_smoothing,
        augment: settings.augmentation,
        seed: settings.seed,
        signal: context.signal,
        onProgress: createTrainingProgress(context, "supernas"),
        stopAfterEpoch: budget.stopAfterEpoch,
      });
      result.optimizer.dispose();
      const last = result.history.at(-1);
      const validationAccuracy = last?.validationAccuracy ?? null;
      const identity: BackendIdentity = { name: backend.name, version: backend.version };
      await checkpoint.writeCheckpoint(
        join(context.outDir, SUPERNAS_CHECKPOINT_DIR),
        checkpoint.computeCheckpoint({
          parameters: network.parameters,
          epoch: result.history.length,
          seed: settings.seed,
          backend: identity,
          metrics: {
            ...(last === undefined ? {} : { loss: last.loss, accuracy: last.accuracy }),
            ...(validationAccuracy === null ? {} : { validationAccuracy }),
          },
        }),
      );
      const report: SupernasReport = {
        choice: network.choice,
        parameters,
        backend: identity,
        epochs: { planned: run.epochs, completed: result.history.length },
        stoppedByBudget: budget.stopped(),
        history: result.history,
        validationAccuracy,
      };
      await writeJson(join(context.outDir, SUPERNAS_REPORT), report);
      context.progress(
        `trained ${result.history.length} epoch(s)${validationAccuracy === null ? "" : `, validation accuracy ${percent(validationAccuracy)}`}`,
      );
    } finally {
      network.supernet.dispose();
    }
  },
});
