/**
 * The `finetune` stage: prunes the sub-network `sparsenas` chose to its
 * per-layer plan gradually while it fine-tunes, and exports the sparse float
 * model IR for `quantize`.
 *
 * The sub-network starts from the supernet's weights (its slices of them);
 * when the search measured it with batch-norm statistics of its own, they
 * are recomputed the same way first. A searched sub-network smaller than the
 * supernet's largest also learns from that one, frozen
 * (`training.sparsenas.distillation`). Each planned layer is pruned on a cubic
 * schedule over `ramp_fraction` of the fine-tuning steps (masks re-applied
 * after every step: src/pruning/) to exactly round(target × blocks) blocks,
 * those of smallest L2 norm.
 *
 * With `training_workers` > 1 the fine-tuning steps (distillation included;
 * the replicas receive the pruned weights before every step) and each
 * epoch's validation are spread over that many data-parallel replicas
 * (src/data-parallel/); the count is part of the backend identity in the key.
 *
 * A stage of its own so that editing the fine-tuning settings does not rerun
 * the search, and a search that chooses the same candidate again (a looser
 * budget, say) does not rerun the fine-tuning.
 *
 * Inputs:  dataset/manifest.json + *.tfds, supernas/checkpoint/,
 *          sparsenas/candidate.json
 * Reads:   the space-search stage's space, seed, training.sparsenas, dataset.normalization,
 *          dataset.augmentation; the backend identity
 * Outputs: model.json + model.bin (float IR), finetune.json (FinetuneReport)
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PruningRun } from "../config/types.js";
import type { PrunedLayerSummary } from "../pruning/pruner.js";
import type { BackendIdentity } from "../training/backend.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { EpochSummary } from "../training/loop.js";
import type { StageFactory } from "./index.js";
import { FLOAT_MODEL_STEM } from "./quantize.js";
import { readStageSearchSpace, SEARCH_SPACE_FILE } from "./search-space-output.js";
import { CHOSEN_CANDIDATE, type ChosenCandidate } from "./sparsenas.js";
import { SUPERNAS_CHECKPOINT_DIR } from "./supernas.js";
import {
  createEpochBudget,
  createTrainingProgress,
  linkUpstream,
  percent,
  prepareTrainingRun,
  readTrainingStageConfig,
  resolveOptimizer,
  startDataParallelTraining,
  TRAINING_STAGE_KEYS,
  trainedWith,
  writeJson,
} from "./training-support.js";

export const FINETUNE_REPORT = "finetune.json";

export interface FinetuneReport {
  readonly backend: BackendIdentity;
  /** The sub-network fine-tuned (every field resolved). */
  readonly architecture: unknown;
  readonly layers: readonly PrunedLayerSummary[];
  /** Over the pruned layers' weights: zero weights in pruned blocks / weights. */
  readonly overall: { readonly target: number; readonly achieved: number };
  /** Validation accuracy of the sub-network before pruning, then of the pruned, fine-tuned one (null without a validation split). */
  readonly validationAccuracy: { readonly before: number | null; readonly after: number | null };
  readonly epochs: { readonly planned: number; readonly completed: number };
  readonly rampSteps: number;
  readonly stoppedByBudget: boolean;
  readonly history: readonly EpochSummary[];
  /** The sub-network it also learned from (the supernet's largest), when it did. */
  readonly teacher?: unknown;
}

export const createFinetuneStage: StageFactory = (options) => ({
  implementation: import.meta.url,
  // The space only: a change in space-search's report or YAML copy retrains nothing.
  upstreamOutputs: { "space-search": [SEARCH_SPACE_FILE] },
  configKeys: [...TRAINING_STAGE_KEYS, "training.sparsenas"],
  tools: [createBackendTool(options.backend, options.trainingWorkers)],
  async run(context) {
    const settings = readTrainingStageConfig(context.config);
    const run = context.config["training.sparsenas"] as PruningRun;
    const trainingWorkers = options.trainingWorkers ?? 1;
    const [
      loop,
      checkpoint,
      { deriveSeed },
      pruning,
      { writeModel },
      supernetTools,
      space,
      blocks,
    ] = await Promise.all([
      import("../training/loop.js"),
      import("../training/checkpoint.js"),
      import("../datasets/seeded-random.js"),
      import("../pruning/index.js"),
      import("../model-ir/io.js"),
      import("../supernet/index.js"),
      import("../blocks/search-space.js"),
      import("../blocks/network.js"),
    ]);
    const chosen = JSON.parse(
      await readFile(
        join(await linkUpstream(context, "sparsenas", "finetune"), CHOSEN_CANDIDATE),
        "utf8",
      ),
    ) as ChosenCandidate;
    const searchSpace = await readStageSearchSpace(context);
    const { backend, train, validation, supernet } = await prepareTrainingRun(
      context,
      options.backend,
      searchSpace,
      settings.seed,
      "finetune",
    );
    // A frozen copy of the supernet's largest sub-network, when it can teach.
    let teacher: import("../blocks/network.js").Supernet | undefined;
    let parallel: Awaited<ReturnType<typeof startDataParallelTraining>> | undefined;
    try {
      const restored = await checkpoint.loadCheckpoint(
        join(await linkUpstream(context, "supernas", "finetune"), SUPERNAS_CHECKPOINT_DIR),
      );
      checkpoint.restoreCheckpoint(restored, { parameters: supernet.parameters });
      const network = supernet.subnet(chosen.architecture);
      const largest = space.largestArchitecture(searchSpace);
      const searched = chosen.recalibrationImages !== undefined;
      if (
        run.distillation &&
        searched &&
        space.architectureKey(largest) !== space.architectureKey(network.choice)
      ) {
        teacher = blocks.createSupernet(searchSpace, supernet.options);
        checkpoint.restoreCheckpoint(restored, { parameters: teacher.parameters });
      }
      const teacherNetwork = teacher?.subnet(largest);
      // The replicas also recalibrate and evaluate (before and after).
      // Pruning needs nothing of the replicas: they receive the masked
      // weights before every step.
      parallel = await startDataParallelTraining(context, trainingWorkers, {
        tf: backend.tf,
        backend,
        supernet,
        ...(teacher === undefined ? {} : { teacher }),
        stepOf: () =>
          teacherNetwork === undefined
            ? { kind: "single", choice: network.choice }
            : {
                kind: "distillation",
                choice: network.choice,
                teacherChoice: teacherNetwork.choice,
              },
        evaluationChoice: network.choice,
        normalization: settings.normalization,
        train,
      });
      const trainer = parallel.trainer;
      if (chosen.recalibrationImages !== undefined) {
        // The search measured the candidate with statistics of its own.
        const images = supernetTools.selectRecalibrationImages(train, {
          count: chosen.recalibrationImages,
          seed: settings.seed,
        });
        if (trainer !== undefined) await trainer.recalibrate(network.choice, images);
        else
          supernetTools.recalibrateBatchNorm(network, {
            images,
            normalization: settings.normalization,
          });
      }
      const evaluate = async () =>
        validation === undefined || validation.count === 0
          ? null
          : trainer !== undefined
            ? (await trainer.evaluateChoice(validation, network.choice)).accuracy
            : loop.evaluateNetwork(network, validation, settings.normalization).accuracy;
      const before = await evaluate();

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
        `pruning ${pruned.length} of ${plan.length} layers over ${rampSteps} steps while fine-tuning for ${run.epochs} epoch(s)${teacherNetwork === undefined ? "" : ", learning from the supernet's largest sub-network too"}`,
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
          warmupEpochs: run.warmup_epochs,
          labelSmoothing: run.label_smoothing,
          augment: settings.augmentation,
          // The stream fine-tuning drew from when it was part of the search stage.
          seed: deriveSeed(settings.seed, "sparsenas"),
          signal: context.signal,
          onProgress: createTrainingProgress(context),
          afterStep: pruner.afterStep,
          stopAfterEpoch: budget.stopAfterEpoch,
          ...(trainer !== undefined
            ? { batchStepRunner: trainer }
            : teacherNetwork === undefined
              ? {}
              : {
                  trainingStep: (step) =>
                    supernetTools.runDistillationStep(step, (images) =>
                      teacherNetwork.apply(images, { training: false }),
                    ),
                }),
        });
        result.optimizer.dispose();
        history = result.history;
      }
      // Reaches the final targets even when the budget cut the ramp short.
      pruner.finish();
      const after = await evaluate();
      const summary = pruner.summarize();

      const blockSizes = new Map(
        pruned.flatMap((layer) =>
          layer.blockSize === undefined ? [] : [[layer.name, layer.blockSize] as const],
        ),
      );
      const model = network.exportModel({ name: "tinyformer-float", batch: 1, blockSizes });
      await writeModel(join(context.outDir, FLOAT_MODEL_STEM), model);
      const report: FinetuneReport = {
        backend: trainedWith(backend, trainingWorkers),
        architecture: chosen.architecture,
        layers: summary,
        overall: computeOverall(summary),
        validationAccuracy: { before, after },
        epochs: { planned: run.epochs, completed: history.length },
        rampSteps,
        stoppedByBudget: budget.stopped(),
        history,
        ...(teacherNetwork === undefined ? {} : { teacher: teacherNetwork.choice }),
      };
      await writeJson(join(context.outDir, FINETUNE_REPORT), report);
      const show = (value: number | null) => (value === null ? "n/a" : percent(value));
      context.progress(
        `sparsity ${percent(report.overall.achieved)} of pruned layers' weights; validation accuracy ${show(before)} -> ${show(after)}`,
      );
    } finally {
      await parallel?.close();
      supernet.dispose();
      teacher?.dispose();
    }
  },
});

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
