/**
 * The `sparsenas` stage: chooses the sub-network and each layer's sparsity
 * and block size, then prunes it gradually while it fine-tunes, and exports
 * the sparse float model IR for `quantize`.
 *
 * - A search (the search space or `sparsity.global_target` has choices):
 *   the evolutionary search of src/search/ over the supernet `supernas`
 *   trained. Every candidate's flash, SRAM and instructions are predicted by
 *   the resource evaluator; candidates over the board's budgets (or the
 *   latency budget) are rejected before they are evaluated; the others are
 *   pruned one-shot by magnitude, their batch-norm statistics recalibrated,
 *   and their validation accuracy measured on a fixed subset. Progress is
 *   saved after each generation (a killed search resumes there). The most
 *   accurate feasible candidate is chosen.
 * - A fixed network (no choices anywhere): the plan follows the recipe
 *   (src/pruning/plan.ts: each layer's target, the largest allowed block
 *   size dividing its row length), as before the search existed.
 *
 * Then (both): the chosen sub-network is pruned on a cubic schedule over
 * `ramp_fraction` of the fine-tuning steps (masks re-applied after every
 * step), to exactly round(target × blocks) blocks per layer, those of
 * smallest L2 norm.
 *
 * Inputs:  dataset/manifest.json + *.tfds, supernas/checkpoint/
 * Reads:   search_space, seed, sparsity, training.sparsenas,
 *          dataset.normalization, dataset.augmentation; when searching, also
 *          `search` and the board's memory budgets and code-generation keys;
 *          the backend identity
 * Outputs: model.json + model.bin (float IR), sparsenas.json (SparsenasReport);
 *          when searching, search-log.jsonl (every candidate assessed, in
 *          order) and pareto.json (the accuracy / flash / instructions front)
 */
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BoardProfile, PruningRun, Recipe, SearchSettings } from "../config/types.js";
import type { StageConfig } from "../graph-runner/stage.js";
import type { PrunedLayerSummary } from "../pruning/pruner.js";
import type { Candidate, LayerPlan } from "../search/candidate.js";
import type { ResourcePrediction, SearchRecord } from "../search/evolution.js";
import { recipeSearches } from "../search/recipe-searches.js";
import type { BackendIdentity } from "../training/backend.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { EpochSummary } from "../training/loop.js";
import type { StageFactory } from "./index.js";
import { FLOAT_MODEL_STEM } from "./quantize.js";
import { SUPERNAS_CHECKPOINT_DIR } from "./supernas.js";
import {
  createEpochBudget,
  createTrainingProgress,
  linkUpstream,
  percent,
  prepareTrainingRun,
  readTrainingStageConfig,
  resolveOptimizer,
  TRAINING_STAGE_KEYS,
  writeJson,
} from "./training-support.js";

export const SPARSENAS_REPORT = "sparsenas.json";
export const SEARCH_LOG = "search-log.jsonl";
export const PARETO_FRONT = "pareto.json";

/** The board keys a search reads: budgets, and what the resource evaluator predicts for. */
export const SEARCH_BOARD_KEYS = [
  "board.name",
  "board.core",
  "board.dsp",
  "board.compiler",
  "board.memory",
] as const;

export interface SearchSummary {
  readonly budgets: { flashBytes: number; sramBytes: number; instructions: number | null };
  /** Candidates assessed (including those rejected over budget) and evaluated. */
  readonly assessed: number;
  readonly evaluated: number;
  readonly rejected: number;
  readonly generations: number;
  /** Generations found finished from an interrupted run of the same search. */
  readonly resumedGenerations: number;
  /** The chosen candidate: its index in search-log.jsonl, accuracy on the validation subset and why. */
  readonly chosen: { readonly index: number; readonly accuracy: number; readonly reason: string };
  readonly validationImages: number;
}

export interface SparsenasReport {
  readonly backend: BackendIdentity;
  /** The sub-network fine-tuned (every field resolved). */
  readonly architecture: unknown;
  readonly layers: readonly PrunedLayerSummary[];
  /** Over the pruned layers' weights: zero weights in pruned blocks / weights. */
  readonly overall: { readonly target: number; readonly achieved: number };
  /**
   * When searching: the resource evaluator's prediction for the chosen
   * candidate on the supernet's weights (what the search compared against
   * the budgets); the report puts it next to what the linker and the
   * emulator measure.
   */
  readonly predicted?: ResourcePrediction;
  /** Validation accuracy of the restored network, then of the pruned, fine-tuned one (null without a validation split). */
  readonly validationAccuracy: { readonly before: number | null; readonly after: number | null };
  readonly epochs: { readonly planned: number; readonly completed: number };
  readonly rampSteps: number;
  readonly stoppedByBudget: boolean;
  readonly history: readonly EpochSummary[];
  /** Present when the stage searched. */
  readonly search?: SearchSummary;
}

/** Whether the stage searches (choices in the space or in the sparsity targets). */
function isSearch(config: StageConfig): boolean {
  return recipeSearches({
    search_space: config.search_space as Recipe["search_space"],
    sparsity: config.sparsity as Recipe["sparsity"],
  });
}

export const createSparsenasStage: StageFactory = (options) => ({
  version: "2",
  configKeys: [...TRAINING_STAGE_KEYS, "sparsity", "training.sparsenas"],
  conditionalConfigKeys: (config) => (isSearch(config) ? ["search", ...SEARCH_BOARD_KEYS] : []),
  tools: [createBackendTool(options.backend)],
  async run(context) {
    const settings = readTrainingStageConfig(context.config);
    const run = context.config["training.sparsenas"] as PruningRun;
    const sparsity = context.config.sparsity as Recipe["sparsity"];
    const searching = isSearch(context.config);
    const [loop, checkpoint, { deriveSeed }, pruning, { writeModel }, search, supernetTools] =
      await Promise.all([
        import("../training/loop.js"),
        import("../training/checkpoint.js"),
        import("../datasets/seeded-random.js"),
        import("../pruning/index.js"),
        import("../model-ir/io.js"),
        import("../search/index.js"),
        import("../supernet/index.js"),
      ]);
    const { backend, train, validation, supernet } = await prepareTrainingRun(
      context,
      options.backend,
      settings.searchSpace,
      settings.seed,
      "sparsenas",
    );
    try {
      const checkpointDir = join(
        await linkUpstream(context, "supernas", "sparsenas"),
        SUPERNAS_CHECKPOINT_DIR,
      );
      const restored = await checkpoint.loadCheckpoint(checkpointDir);
      checkpoint.restoreCheckpoint(restored, { parameters: supernet.parameters });
      const evaluateOn = (network: Parameters<typeof loop.evaluateNetwork>[0]) =>
        validation === undefined || validation.count === 0
          ? null
          : loop.evaluateNetwork(network, validation, settings.normalization).accuracy;

      let chosen: Candidate;
      let predicted: ResourcePrediction | undefined;
      let searchSummary: SearchSummary | undefined;
      let recalibration: import("../datasets/image-dataset.js").ImageDataset | undefined;
      if (searching) {
        const searchSettings = context.config.search as SearchSettings;
        if (validation === undefined || validation.count === 0)
          throw new Error(
            "sparsenas: a search measures candidates on the validation split, and this dataset has none (set dataset.validation_fraction above 0)",
          );
        const budgets = search.resolveBudgets(
          context.config["board.memory"] as BoardProfile["memory"],
          searchSettings.latency_budget_instructions,
        );
        recalibration = supernetTools.selectRecalibrationImages(train, {
          count: searchSettings.recalibration_images,
          seed: settings.seed,
        });
        const assessment = search.createAssessmentContext({
          supernet,
          budgets,
          normalization: settings.normalization,
          train,
          validation,
          validationImages: searchSettings.validation_images,
          recalibration,
        });
        const outcome = await runStageSearch(context, {
          search,
          searchSettings,
          seed: settings.seed,
          supernet,
          sparsity,
          assessment,
          setup: {
            format: "tinyformer-search-job-1",
            backend: backend.name,
            checkpoint: {
              directory: checkpointDir,
              weightsSha256: restored.manifest.weightsSha256,
            },
            datasetDirectory: join(context.scratchDir, "dataset"),
            searchSpace: settings.searchSpace,
            seed: settings.seed,
            normalization: settings.normalization,
            budgets,
            validationImages: searchSettings.validation_images,
            recalibrationImages: searchSettings.recalibration_images,
          },
          workers: options.searchWorkers ?? 1,
        });
        chosen = outcome.chosen.candidate;
        predicted = outcome.chosen.predicted;
        searchSummary = {
          budgets: {
            flashBytes: budgets.flashBytes,
            sramBytes: budgets.sramBytes,
            instructions: budgets.instructions ?? null,
          },
          assessed: outcome.records.length,
          evaluated: outcome.records.filter((record) => record.feasible).length,
          rejected: outcome.records.filter((record) => !record.feasible).length,
          generations: searchSettings.generations,
          resumedGenerations: outcome.resumedGenerations,
          chosen: {
            index: outcome.chosen.index,
            accuracy: outcome.chosen.accuracy ?? 0,
            reason: outcome.reason,
          },
          validationImages: assessment.evaluation?.validation.count ?? 0,
        };
      } else {
        const network = supernet.subnet();
        const plan = pruning.resolvePruningPlan(network.layers(), sparsity);
        chosen = {
          architecture: network.choice,
          layers: plan.map(
            (layer): LayerPlan => ({
              name: layer.name,
              target: layer.target,
              blockSize: layer.blockSize ?? null,
              rowLength: layer.rowLength,
              ...(layer.denseReason === undefined ? {} : { denseReason: layer.denseReason }),
            }),
          ),
        };
      }

      const network = supernet.subnet(chosen.architecture);
      if (recalibration !== undefined) {
        // The search measured the candidate with statistics of its own.
        supernetTools.recalibrateBatchNorm(network, {
          images: recalibration,
          normalization: settings.normalization,
        });
      }
      const before = evaluateOn(network);
      const layers = network.layers();
      const plan = chosen.layers.map((layer) => ({
        name: layer.name,
        target: layer.target,
        blockSize: layer.blockSize ?? undefined,
        rowLength: layer.rowLength,
        ...(layer.denseReason === undefined ? {} : { denseReason: layer.denseReason }),
      }));
      const batches = Math.floor(train.count / run.batch_size);
      const rampSteps = pruning.computeRampSteps(run.ramp_fraction, batches * run.epochs);
      const pruner = pruning.createGradualPruner({ layers, plan, rampSteps });
      const pruned = plan.filter((layer) => layer.blockSize !== undefined);
      context.progress(
        `pruning ${pruned.length} of ${plan.length} layers over ${rampSteps} steps while fine-tuning for ${run.epochs} epoch(s)`,
      );
      const budget = createEpochBudget(run.budget_minutes, run.epochs);
      let history: readonly EpochSummary[] = [];
      if (run.epochs > 0) {
        const result = await loop.trainNetwork({
          network,
          train,
          ...(validation === undefined ? {} : { validation }),
          normalization: settings.normalization,
          epochs: run.epochs,
          batchSize: run.batch_size,
          optimizer: resolveOptimizer(run),
          learningRate: run.learning_rate,
          labelSmoothing: run.label_smoothing,
          augment: settings.augmentation,
          seed: deriveSeed(settings.seed, "sparsenas"),
          signal: context.signal,
          onProgress: createTrainingProgress(context, "sparsenas"),
          afterStep: pruner.afterStep,
          stopAfterEpoch: budget.stopAfterEpoch,
        });
        result.optimizer.dispose();
        history = result.history;
      }
      // Reaches the final targets even when the budget cut the ramp short.
      pruner.finish();
      const after = evaluateOn(network);
      const summary = pruner.summarize();

      const blockSizes = new Map(
        pruned.flatMap((layer) =>
          layer.blockSize === undefined ? [] : [[layer.name, layer.blockSize] as const],
        ),
      );
      const model = network.exportModel({ name: "tinyformer-float", batch: 1, blockSizes });
      await writeModel(join(context.outDir, FLOAT_MODEL_STEM), model);
      const report: SparsenasReport = {
        backend: { name: backend.name, version: backend.version },
        architecture: chosen.architecture,
        layers: summary,
        overall: computeOverall(summary),
        ...(predicted === undefined ? {} : { predicted }),
        validationAccuracy: { before, after },
        epochs: { planned: run.epochs, completed: history.length },
        rampSteps,
        stoppedByBudget: budget.stopped(),
        history,
        ...(searchSummary === undefined ? {} : { search: searchSummary }),
      };
      await writeJson(join(context.outDir, SPARSENAS_REPORT), report);
      const show = (value: number | null) => (value === null ? "n/a" : percent(value));
      context.progress(
        `sparsity ${percent(report.overall.achieved)} of pruned layers' weights; validation accuracy ${show(before)} -> ${show(after)}`,
      );
    } finally {
      supernet.dispose();
    }
  },
});

/** Runs the search with the executor the workspace asks for, writing its log and front. */
async function runStageSearch(
  context: Parameters<NonNullable<ReturnType<StageFactory>["run"]>>[0],
  pieces: {
    readonly search: typeof import("../search/index.js");
    readonly searchSettings: SearchSettings;
    readonly seed: number;
    readonly supernet: import("../blocks/network.js").Supernet;
    readonly sparsity: Recipe["sparsity"];
    readonly assessment: import("../search/assess-candidate.js").AssessmentContext;
    readonly setup: import("../search/job.js").SearchJobSetup;
    readonly workers: number;
  },
) {
  const { search, searchSettings, supernet, sparsity } = pieces;
  const space = search.createOperatorSpace(supernet, sparsity);
  const settings = search.resolveEvolutionSettings(searchSettings, pieces.seed);
  let executor: import("../search/executor.js").CandidateExecutor;
  if (pieces.workers > 1) {
    executor = await search.createWorkerExecutor(pieces.setup, {
      workers: pieces.workers,
      signal: context.signal,
    });
  } else {
    executor = search.createInProcessExecutor(pieces.assessment, context.signal);
  }
  const total = settings.generations;
  context.progress(
    `searching ${settings.population} candidates x ${total} generations${pieces.workers > 1 ? ` on ${pieces.workers} workers` : ""}`,
  );
  try {
    const outcome = await search.runSearch({
      settings,
      space,
      executor,
      resumeDirectory: context.resumeDir,
      identity: {
        checkpoint: pieces.setup.checkpoint.weightsSha256,
        budgets: pieces.setup.budgets,
        validationImages: pieces.setup.validationImages,
        recalibrationImages: pieces.setup.recalibrationImages,
        sparsity,
      },
      signal: context.signal,
      onGeneration: ({ generation, best, assessed }) =>
        context.progress(
          `generation ${generation + 1}/${total}: ${assessed} assessed${best === undefined ? "" : `; best so far ${percent(best.accuracy ?? 0)} (flash ${best.predicted.flashBytes.toLocaleString("en-US")} B, ${best.predicted.instructions.toLocaleString("en-US")} instructions)`}`,
          { generation: generation + 1, generations: total, assessed },
        ),
    });
    if (outcome.resumedGenerations > 0)
      context.progress(`resumed after ${outcome.resumedGenerations} finished generation(s)`);
    await writeSearchOutputs(context.outDir, outcome.records, outcome.paretoFront);
    context.progress(
      `chose candidate ${outcome.chosen.index}: ${outcome.reason}; predicted flash ${outcome.chosen.predicted.flashBytes.toLocaleString("en-US")} B, SRAM ${outcome.chosen.predicted.sramBytes.toLocaleString("en-US")} B, ${outcome.chosen.predicted.instructions.toLocaleString("en-US")} instructions`,
    );
    return outcome;
  } finally {
    await executor.close();
  }
}

async function writeSearchOutputs(
  outDir: string,
  records: readonly SearchRecord[],
  front: readonly SearchRecord[],
): Promise<void> {
  const log = join(outDir, SEARCH_LOG);
  await writeFile(log, "");
  for (let start = 0; start < records.length; start += 256) {
    const lines = records.slice(start, start + 256).map((record) => `${JSON.stringify(record)}\n`);
    await appendFile(log, lines.join(""));
  }
  await writeJson(
    join(outDir, PARETO_FRONT),
    front.map((record) => ({
      index: record.index,
      accuracy: record.accuracy,
      predicted: record.predicted,
      candidate: record.candidate,
    })),
  );
}

function computeOverall(layers: readonly PrunedLayerSummary[]): {
  target: number;
  achieved: number;
} {
  let weights = 0;
  let target = 0;
  let achieved = 0;
  for (const layer of layers) {
    if (layer.blockSize === null) continue;
    weights += layer.weights;
    target += layer.target * layer.weights;
    achieved += layer.achieved * layer.weights;
  }
  return weights === 0
    ? { target: 0, achieved: 0 }
    : { target: target / weights, achieved: achieved / weights };
}
