/**
 * The `supernas` stage: trains the supernet of the recipe's search space.
 *
 * - A space with one value in every field is one network: it is trained as
 *   such (one forward and backward pass per step).
 * - A space with choices is trained with weight sharing by the sandwich rule
 *   (src/supernet/sandwich-step.ts): every step trains the largest
 *   sub-network on the labels, the smallest and
 *   `training.supernas.sandwich_random_subnets` random ones on the largest's
 *   predictions (in-place distillation), and updates only the slices they
 *   read. The sub-networks of step s are drawn from a stream seeded by
 *   (seed, s). The validation accuracy after each epoch is the largest
 *   sub-network's (only it updates the batch-norm running statistics); at
 *   the end the largest and the smallest are evaluated again with
 *   recalibrated batch-norm statistics.
 *
 * With `training_workers` > 1 every step (and each epoch's validation) is
 * spread over that many data-parallel replicas (src/data-parallel/); the
 * count is part of the backend identity in the key and the report.
 *
 * The stage reads no board, budget, sparsity or search setting: editing those
 * reruns the search (`sparsenas`) onwards, never this training.
 *
 * Inputs:  dataset/manifest.json + *.tfds
 * Reads:   the space-search stage's space, seed, training.supernas, dataset.normalization,
 *          dataset.augmentation; the training backend's identity is a tool
 * Outputs: checkpoint/ (docs/checkpoint-format.md: every supernet variable
 *          at its largest size, no optimizer slots: later stages start their
 *          own optimizer), supernas.json (SupernasReport)
 *
 * The outputs hold no timings, so a retrain to identical weights gives
 * identical files and the stages below stay cached (early cutoff).
 *
 * Budget: `training.supernas.epochs`, and when `budget_minutes` > 0 training
 * stops after the first epoch that ends past it (the cosine schedule keeps the
 * length it was planned with).
 */
import { join } from "node:path";
import type { ArchitectureChoice } from "../blocks/search-space.js";
import type { TrainingRun } from "../config/types.js";
import type { BackendIdentity } from "../training/backend.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { EpochSummary } from "../training/loop.js";
import type { StageFactory } from "./index.js";
import { readStageSearchSpace, SEARCH_SPACE_FILE } from "./search-space-output.js";
import {
  createEpochBudget,
  createTrainingProgress,
  percent,
  prepareTrainingRun,
  readTrainingStageConfig,
  resolveOptimizer,
  startDataParallelTraining,
  TRAINING_STAGE_KEYS,
  trainedWith,
  writeJson,
} from "./training-support.js";

export const SUPERNAS_CHECKPOINT_DIR = "checkpoint";
export const SUPERNAS_REPORT = "supernas.json";

/** Training images whose batch statistics the final evaluation of the largest and smallest sub-networks uses. */
export const SUPERNET_REPORT_RECALIBRATION_IMAGES = 256;

/** How the supernet of a space with choices was trained. */
export interface SupernetTrainingReport {
  /** Sub-networks per step: the largest, the smallest and this many random ones. */
  readonly randomSubnetsPerStep: number;
  readonly distillation: boolean;
  /** Every variable of the supernet (each at its largest size). */
  readonly supernetParameters: number;
  readonly largest: SubnetSummary;
  readonly smallest: SubnetSummary;
}

export interface SubnetSummary {
  readonly choice: ArchitectureChoice;
  readonly parameters: number;
  /** After batch-norm recalibration; null without a validation split. */
  readonly validationAccuracy: number | null;
}

export interface SupernasReport {
  /** The architecture trained (every field resolved); for a space with choices, its largest sub-network. */
  readonly choice: unknown;
  /** Parameters of `choice`. */
  readonly parameters: number;
  readonly backend: BackendIdentity;
  readonly epochs: { readonly planned: number; readonly completed: number };
  /** Training stopped early because `budget_minutes` ran out. */
  readonly stoppedByBudget: boolean;
  readonly history: readonly EpochSummary[];
  /** Validation accuracy after the last epoch; null without a validation split. */
  readonly validationAccuracy: number | null;
  /** Present when the search space has choices (weight-sharing training). */
  readonly supernet?: SupernetTrainingReport;
}

export const createSupernasStage: StageFactory = (options) => ({
  implementation: import.meta.url,
  // The space only: a change in space-search's report or YAML copy retrains nothing.
  upstreamOutputs: { "space-search": [SEARCH_SPACE_FILE] },
  configKeys: [...TRAINING_STAGE_KEYS, "training.supernas"],
  tools: [createBackendTool(options.backend, options.trainingWorkers)],
  async run(context) {
    const settings = readTrainingStageConfig(context.config);
    const run = context.config["training.supernas"] as TrainingRun;
    const [loop, checkpoint, space, supernetTraining] = await Promise.all([
      import("../training/loop.js"),
      import("../training/checkpoint.js"),
      import("../blocks/search-space.js"),
      import("../supernet/index.js"),
    ]);
    const searchSpace = await readStageSearchSpace(context);
    const { backend, train, validation, supernet } = await prepareTrainingRun(
      context,
      options.backend,
      searchSpace,
      settings.seed,
      "supernas",
    );
    // The replicas live until the recalibrated evaluation at the end.
    let parallel: Awaited<ReturnType<typeof startDataParallelTraining>> | undefined;
    try {
      const fixed = space.isFixedSearchSpace(searchSpace);
      const largest = supernet.subnet(space.largestArchitecture(searchSpace));
      const parameters = supernetTraining.countRegionParameters(largest.regions());
      const supernetParameters = supernetTraining.countParameters(supernet.parameters.trainable);
      const smallestChoice = space.smallestArchitecture(searchSpace);
      context.progress(
        fixed
          ? `training a fixed network of ${parameters} trainable parameters (weights, biases, normalisation) on ${train.count} images (${backend.version})`
          : `training a supernet of ${supernetParameters} trainable parameters (weights, biases, normalisation; sub-networks of ${supernetTraining.countRegionParameters(supernet.subnet(smallestChoice).regions())} to ${parameters}) on ${train.count} images, ${2 + run.sandwich_random_subnets} sub-networks per step (${backend.version})`,
      );
      const budget = createEpochBudget(run.budget_minutes, run.epochs);
      const trainingWorkers = options.trainingWorkers ?? 1;
      const sandwichOf = (step: number) =>
        supernetTraining.chooseSandwich(searchSpace, {
          seed: settings.seed,
          step,
          randomSubnets: run.sandwich_random_subnets,
        });
      parallel = await startDataParallelTraining(context, trainingWorkers, {
        tf: backend.tf,
        backend,
        supernet,
        stepOf: (step) =>
          fixed
            ? { kind: "single", choice: largest.choice }
            : { kind: "sandwich", choices: sandwichOf(step), distillation: run.distillation },
        // The loop's validation evaluates the largest sub-network.
        evaluationChoice: largest.choice,
        normalization: settings.normalization,
        train,
      });
      const result = await loop.trainNetwork({
        // The optimizer covers every supernet variable; evaluation runs the largest sub-network.
        network: fixed ? largest : { parameters: supernet.parameters, apply: largest.apply },
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
        onProgress: createTrainingProgress(context),
        stopAfterEpoch: budget.stopAfterEpoch,
        ...(parallel.trainer !== undefined
          ? { batchStepRunner: parallel.trainer }
          : fixed
            ? {}
            : {
                trainingStep: (step) =>
                  supernetTraining.runSandwichStep({
                    supernet,
                    optimizer: step.optimizer,
                    images: step.images,
                    labels: step.labels,
                    learningRate: step.learningRate,
                    labelSmoothing: step.labelSmoothing,
                    choices: sandwichOf(step.step),
                    distillation: run.distillation,
                  }),
              }),
      });
      result.optimizer.dispose();
      const last = result.history.at(-1);
      const validationAccuracy = last?.validationAccuracy ?? null;
      const identity = trainedWith(backend, trainingWorkers);
      // Written before the recalibrated evaluation below, which restores the
      // running statistics anyway: the checkpoint is the training's result.
      await checkpoint.writeCheckpoint(
        join(context.outDir, SUPERNAS_CHECKPOINT_DIR),
        checkpoint.computeCheckpoint({
          parameters: supernet.parameters,
          epoch: result.history.length,
          seed: settings.seed,
          backend: identity,
          metrics: {
            ...(last === undefined ? {} : { loss: last.loss, accuracy: last.accuracy }),
            ...(validationAccuracy === null ? {} : { validationAccuracy }),
          },
        }),
      );
      let supernetReport: SupernetTrainingReport | undefined;
      if (!fixed) {
        const recalibration = supernetTraining.selectRecalibrationImages(train, {
          count: SUPERNET_REPORT_RECALIBRATION_IMAGES,
          seed: settings.seed,
        });
        const trainer = parallel.trainer;
        const summarize = async (choice: ArchitectureChoice): Promise<SubnetSummary> => {
          const network = supernet.subnet(choice);
          return {
            choice,
            parameters: supernetTraining.countRegionParameters(network.regions()),
            validationAccuracy:
              validation === undefined || validation.count === 0
                ? null
                : await supernetTraining.withRestoredStateAsync(supernet.parameters, async () => {
                    if (trainer !== undefined) {
                      await trainer.recalibrate(choice, recalibration);
                      return (await trainer.evaluateChoice(validation, choice)).accuracy;
                    }
                    supernetTraining.recalibrateBatchNorm(network, {
                      images: recalibration,
                      normalization: settings.normalization,
                    });
                    return loop.evaluateNetwork(network, validation, settings.normalization)
                      .accuracy;
                  }),
          };
        };
        supernetReport = {
          randomSubnetsPerStep: run.sandwich_random_subnets,
          distillation: run.distillation,
          supernetParameters,
          largest: await summarize(largest.choice),
          smallest: await summarize(smallestChoice),
        };
      }
      const report: SupernasReport = {
        choice: largest.choice,
        parameters,
        backend: identity,
        epochs: { planned: run.epochs, completed: result.history.length },
        stoppedByBudget: budget.stopped(),
        history: result.history,
        validationAccuracy,
        ...(supernetReport === undefined ? {} : { supernet: supernetReport }),
      };
      await writeJson(join(context.outDir, SUPERNAS_REPORT), report);
      const show = (value: number | null) => (value === null ? "n/a" : percent(value));
      context.progress(
        supernetReport === undefined
          ? `trained ${result.history.length} epoch(s)${validationAccuracy === null ? "" : `, validation accuracy ${percent(validationAccuracy)}`}`
          : `trained ${result.history.length} epoch(s); validation accuracy of the largest sub-network ${show(supernetReport.largest.validationAccuracy)}, of the smallest ${show(supernetReport.smallest.validationAccuracy)}`,
      );
    } finally {
      await parallel?.close();
      supernet.dispose();
    }
  },
});
