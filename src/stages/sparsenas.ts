/**
 * The `sparsenas` stage: chooses the sub-network and each layer's sparsity
 * and block size; `finetune` then prunes and fine-tunes the choice.
 *
 * - A search (the search space or `sparsity.global_target` has choices):
 *   the evolutionary search of src/search/ over the supernet `supernas`
 *   trained. Every candidate's flash, SRAM and instructions are predicted by
 *   the resource evaluator; candidates over the board's budgets (or the
 *   latency budget) are rejected before they are evaluated; the others are
 *   pruned one-shot by magnitude, their batch-norm statistics recalibrated,
 *   and their validation accuracy measured on a fixed subset. Progress is
 *   saved after each generation (a killed search resumes there). The most
 *   accurate feasible candidates are measured again in INT8, which decides.
 * - A fixed network (no choices anywhere): the plan follows the recipe
 *   (src/pruning/plan.ts: each layer's target, the largest allowed block
 *   size dividing its row length), as before the search existed.
 *
 * Inputs:  dataset/manifest.json + *.tfds, supernas/checkpoint/
 * Reads:   the space-search stage's space (and search_space, to tell a search), seed, sparsity, dataset.normalization,
 *          dataset.augmentation; when searching, also `search` and the
 *          board's memory budgets and code-generation keys; the backend
 * Outputs: candidate.json (ChosenCandidate), sparsenas.json (SparsenasReport);
 *          when searching, search-log.jsonl (every candidate assessed, in
 *          order) and pareto.json (the accuracy / flash / instructions front)
 */
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BoardProfile, Recipe, SearchSettings, SearchSpaceConfig } from "../config/types.js";
import type { StageConfig } from "../graph-runner/stage.js";
import type { QueueProgress } from "../queue/dispatcher.js";
import { displayRedisUrl, redisUrlFromEnvironment } from "../queue/settings.js";
import type { ResourceEstimate } from "../resources/index.js";
import type { Candidate, LayerPlan } from "../search/candidate.js";
import type { ResourcePrediction, SearchRecord } from "../search/evolution.js";
import { recipeSearches } from "../search/recipe-searches.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { StageFactory } from "./index.js";
import { SEARCH_BOARD_KEYS } from "./search-board-keys.js";
import { readStageSearchSpace, SEARCH_SPACE_FILE } from "./search-space-output.js";
import { SUPERNAS_CHECKPOINT_DIR } from "./supernas.js";
import {
  linkUpstream,
  percent,
  prepareTrainingRun,
  readTrainingStageConfig,
  TRAINING_STAGE_KEYS,
  writeJson,
} from "./training-support.js";

export const SPARSENAS_REPORT = "sparsenas.json";
export const CHOSEN_CANDIDATE = "candidate.json";
export const SEARCH_LOG = "search-log.jsonl";
export const PARETO_FRONT = "pareto.json";

/** The board keys a search reads: budgets, and what the resource evaluator predicts for. */

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
  /** The most accurate candidates with their INT8 accuracy, which decided between them. */
  readonly finalists: readonly { index: number; accuracy: number; int8Accuracy: number }[];
  readonly validationImages: number;
}

/** candidate.json: what `finetune` prunes and fine-tunes. */
export interface ChosenCandidate extends Candidate {
  /** When searching: the resource evaluator's prediction for it (on the supernet's weights). */
  readonly predicted?: ResourcePrediction;
  /** When searching: the recalibration images its accuracy was measured with. */
  readonly recalibrationImages?: number;
}

/** sparsenas.json. */
export interface SparsenasReport {
  readonly searched: boolean;
  /** The chosen sub-network (every field resolved). */
  readonly architecture: unknown;
  /** Each conv and linear layer's target and block size (or why it stays dense). */
  readonly layers: readonly LayerPlan[];
  /**
   * When searching: the resource evaluator's prediction for the chosen
   * candidate on the supernet's weights (what the search compared against
   * the budgets); the report puts it next to what the linker and the
   * emulator measure.
   */
  readonly predicted?: ResourcePrediction;
  readonly search?: SearchSummary;
  /** When searching: the full estimate for the chosen candidate, per layer (the report reads it). */
  readonly resourceEstimate?: ResourceEstimate;
}

/**
 * Whether the stage may search (choices in the space or in the sparsity
 * targets), for its key: a space supernas chooses counts as searched.
 */
function isSearch(config: StageConfig): boolean {
  return recipeSearches({
    // Absent keys are null in a stage's configuration.
    search_space: (config.search_space ?? undefined) as SearchSpaceConfig | undefined,
    sparsity: config.sparsity as Recipe["sparsity"],
  });
}

export const createSparsenasStage: StageFactory = (options) => ({
  implementation: import.meta.url,
  // The space only: a change in space-search's report or YAML copy retrains nothing.
  upstreamOutputs: { "space-search": [SEARCH_SPACE_FILE] },
  // search_space only to tell a fixed network from a search (which reads the search keys).
  configKeys: [...TRAINING_STAGE_KEYS, "search_space", "sparsity"],
  conditionalConfigKeys: (config) => (isSearch(config) ? ["search", ...SEARCH_BOARD_KEYS] : []),
  tools: [createBackendTool(options.backend)],
  async run(context) {
    const settings = readTrainingStageConfig(context.config);
    const sparsity = context.config.sparsity as Recipe["sparsity"];
    const [checkpoint, pruning, search, supernetTools, { RESOURCE_ESTIMATE_KEY }] =
      await Promise.all([
        import("../training/checkpoint.js"),
        import("../pruning/index.js"),
        import("../search/index.js"),
        import("../supernet/index.js"),
        import("../report/predictions.js"),
      ]);
    const searchSpace = await readStageSearchSpace(context);
    const searching = recipeSearches({ search_space: searchSpace, sparsity });
    const { backend, train, validation, supernet } = await prepareTrainingRun(
      context,
      options.backend,
      searchSpace,
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

      let chosen: Candidate;
      let predicted: ResourcePrediction | undefined;
      let resourceEstimate: ResourceEstimate | undefined;
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
        const board = {
          name: context.config["board.name"] as string,
          compiler: context.config["board.compiler"] as BoardProfile["compiler"],
        };
        const assessment = search.createAssessmentContext({
          supernet,
          budgets,
          board,
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
            searchSpace: searchSpace,
            seed: settings.seed,
            normalization: settings.normalization,
            budgets,
            board,
            validationImages: searchSettings.validation_images,
            recalibrationImages: searchSettings.recalibration_images,
          },
          workers: options.searchWorkers ?? 1,
          ...(options.searchExecutor === "queue"
            ? { queueUrl: options.redisUrl ?? redisUrlFromEnvironment() }
            : {}),
        });
        chosen = outcome.chosen.candidate;
        predicted = outcome.chosen.predicted;
        // Per layer, for the report (the log keeps the three figures only).
        resourceEstimate = search.estimateCandidate(assessment, chosen);
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
          finalists: outcome.finalists,
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

      const candidateFile: ChosenCandidate = {
        ...chosen,
        ...(predicted === undefined ? {} : { predicted }),
        ...(recalibration === undefined ? {} : { recalibrationImages: recalibration.count }),
      };
      await writeJson(join(context.outDir, CHOSEN_CANDIDATE), candidateFile);
      const report: SparsenasReport = {
        searched: searchSummary !== undefined,
        architecture: chosen.architecture,
        layers: chosen.layers,
        ...(predicted === undefined ? {} : { predicted }),
        ...(searchSummary === undefined ? {} : { search: searchSummary }),
        ...(resourceEstimate === undefined ? {} : { [RESOURCE_ESTIMATE_KEY]: resourceEstimate }),
      };
      await writeJson(join(context.outDir, SPARSENAS_REPORT), report);
      if (searchSummary === undefined) {
        const pruned = chosen.layers.filter((layer) => layer.blockSize !== null).length;
        context.progress(
          `a fixed network: ${pruned} of ${chosen.layers.length} layers to prune as sparsity says`,
        );
      }
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
    /** Run assessments as jobs on the queue at this Redis URL. */
    readonly queueUrl?: string;
  },
) {
  const { search, searchSettings, supernet, sparsity } = pieces;
  const space = search.createOperatorSpace(supernet, sparsity);
  const settings = search.resolveEvolutionSettings(searchSettings, pieces.seed);
  const total = settings.generations;
  let generationLabel = `generation 1/${total}`;
  // With the queue: `· 3 queued, 2 running on 2 workers` after the generation.
  let queueLabel = "";
  // The bar: population slots filled by feasible candidates (over-budget redraws are not progress).
  let slots: { done: number; total: number } | undefined;
  const showCount = () => {
    if (slots !== undefined)
      context.count(slots.done, slots.total, "candidates", `${generationLabel}${queueLabel}`);
  };
  let executor: import("../search/executor.js").CandidateExecutor;
  let where = pieces.workers > 1 ? ` on ${pieces.workers} workers` : "";
  if (pieces.queueUrl !== undefined) {
    let lastShown = 0;
    const { createQueueExecutor } = await import("../search/queue-executor.js");
    executor = await createQueueExecutor(pieces.setup, {
      url: pieces.queueUrl,
      signal: context.signal,
      onProgress: (queue) => {
        const workers = Object.values(queue.workers).filter((w) => w.running > 0).length;
        queueLabel =
          queue.queued + queue.running === 0
            ? ""
            : ` · ${queue.queued} queued, ${queue.running} running on ${workers} worker(s)`;
        // At most twice a second: a detail line with the figures per worker (build --json).
        const now = Date.now();
        if (now - lastShown < 500 && queue.queued + queue.running > 0) return;
        showCount();
        lastShown = now;
        context.progress(describeQueueProgress(queue), { queue }, "detail");
      },
    });
    where = ` as jobs on the queue at ${displayRedisUrl(pieces.queueUrl)}`;
  } else if (pieces.workers > 1) {
    executor = await search.createWorkerExecutor(pieces.setup, {
      workers: pieces.workers,
      signal: context.signal,
    });
  } else {
    executor = search.createInProcessExecutor(pieces.assessment, context.signal);
  }
  context.progress(`searching ${settings.population} candidates x ${total} generations${where}`);
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
      finalists: searchSettings.finalists,
      measureInt8Accuracy: (candidate) => search.measureInt8Accuracy(pieces.assessment, candidate),
      onResume: (generations) => {
        generationLabel = `generation ${Math.min(generations + 1, total)}/${total}`;
        context.progress(`resumed after ${generations} finished generation(s)`);
      },
      onSlotSettled: (done, total) => {
        slots = { done, total };
        showCount();
      },
      onGeneration: ({ generation, best, assessed }) => {
        generationLabel = `generation ${Math.min(generation + 2, total)}/${total}`;
        context.progress(
          `generation ${generation + 1}/${total}: ${assessed} assessed${best === undefined ? "" : `; best so far ${percent(best.accuracy ?? 0)} (flash ${best.predicted.flashBytes.toLocaleString("en-US")} B, ${best.predicted.instructions.toLocaleString("en-US")} instructions)`}`,
          { generation: generation + 1, generations: total, assessed },
        );
      },
    });
    if (outcome.finalists.length > 0)
      context.progress(
        `finalists in INT8: ${outcome.finalists.map((f) => `candidate ${f.index} ${percent(f.int8Accuracy)} (float ${percent(f.accuracy)})`).join(", ")}`,
      );
    await writeSearchOutputs(context.outDir, outcome.records, outcome.paretoFront);
    context.progress(
      `chose candidate ${outcome.chosen.index}: ${outcome.reason}; predicted flash ${outcome.chosen.predicted.flashBytes.toLocaleString("en-US")} B, SRAM ${outcome.chosen.predicted.sramBytes.toLocaleString("en-US")} B, ${outcome.chosen.predicted.instructions.toLocaleString("en-US")} instructions`,
    );
    return outcome;
  } finally {
    await executor.close();
  }
}

/** `3 queued, 2 running, 10 done; host-a:12 1 running 6 done, …` */
export function describeQueueProgress(queue: QueueProgress): string {
  const workers = Object.entries(queue.workers)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, counts]) => `${name} ${counts.running} running ${counts.done} done`);
  const resubmitted = queue.resubmitted > 0 ? `, ${queue.resubmitted} resubmitted` : "";
  return `queue: ${queue.queued} queued, ${queue.running} running, ${queue.done} done${resubmitted}${workers.length === 0 ? "" : `; ${workers.join(", ")}`}`;
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
