/**
 * The `sparsenas` stage, fixed-network form: restores the network `supernas`
 * trained, prunes its conv and linear layers blockwise while fine-tuning
 * (gradual cubic schedule over `ramp_fraction` of the fine-tuning steps, masks
 * re-applied after every optimizer step: src/pruning/), and exports the
 * sparse float model IR with each pruned weight's block size for `quantize`.
 *
 * Per layer (src/pruning/plan.ts): `sparsity.per_layer[name]`, else
 * `sparsity.global_target`; `keep_dense` layers and the first conv and the
 * classifier stay dense; the block size is the largest of
 * `sparsity.block_sizes` dividing the layer's row length. Each layer loses
 * exactly round(target × blocks) blocks (half up), those of smallest L2 norm.
 *
 * Inputs:  dataset/manifest.json + *.tfds, supernas/checkpoint/
 * Reads:   search_space, seed, sparsity, training.sparsenas,
 *          dataset.normalization, dataset.augmentation; the backend identity
 * Outputs: model.json + model.bin (float IR), sparsenas.json (SparsenasReport)
 */
import { join } from "node:path";
import type { PruningRun, Recipe } from "../config/types.js";
import type { PrunedLayerSummary } from "../pruning/pruner.js";
import type { BackendIdentity } from "../training/backend.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { EpochSummary } from "../training/loop.js";
import type { StageFactory } from "./index.js";
import { FLOAT_MODEL_STEM } from "./quantize.js";
import { SUPERNAS_CHECKPOINT_DIR } from "./supernas.js";
import {
  assertFixedSearchSpace,
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

export interface SparsenasReport {
  readonly backend: BackendIdentity;
  readonly layers: readonly PrunedLayerSummary[];
  /** Over the pruned layers' weights: zero weights in pruned blocks / weights. */
  readonly overall: { readonly target: number; readonly achieved: number };
  /** Validation accuracy of the restored network, then of the pruned, fine-tuned one (null without a validation split). */
  readonly validationAccuracy: { readonly before: number | null; readonly after: number | null };
  readonly epochs: { readonly planned: number; readonly completed: number };
  readonly rampSteps: number;
  readonly stoppedByBudget: boolean;
  readonly history: readonly EpochSummary[];
}

export const createSparsenasStage: StageFactory = (options) => ({
  version: "1",
  configKeys: [...TRAINING_STAGE_KEYS, "sparsity", "training.sparsenas"],
  tools: [createBackendTool(options.backend)],
  async run(context) {
    const settings = readTrainingStageConfig(context.config);
    assertFixedSearchSpace(settings.searchSpace, "sparsenas");
    const run = context.config["training.sparsenas"] as PruningRun;
    const sparsity = context.config.sparsity as Recipe["sparsity"];
    const [loop, checkpoint, { deriveSeed }, pruning, { writeModel }] = await Promise.all([
      import("../training/loop.js"),
      import("../training/checkpoint.js"),
      import("../datasets/seeded-random.js"),
      import("../pruning/index.js"),
      import("../model-ir/io.js"),
    ]);
    const { backend, train, validation, network } = await prepareTrainingRun(
      context,
      options.backend,
      settings.searchSpace,
      settings.seed,
      "sparsenas",
    );
    try {
      const restored = await checkpoint.loadCheckpoint(
        join(await linkUpstream(context, "supernas", "sparsenas"), SUPERNAS_CHECKPOINT_DIR),
      );
      checkpoint.restoreCheckpoint(restored, { parameters: network.parameters });
      const evaluate = () =>
        validation === undefined || validation.count === 0
          ? null
          : loop.evaluateNetwork(network, validation, settings.normalization).accuracy;
      const before = evaluate();

      const layers = network.layers();
      const plan = pruning.resolvePruningPlan(layers, sparsity);
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
      const after = evaluate();
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
        layers: summary,
        overall: computeOverall(summary),
        validationAccuracy: { before, after },
        epochs: { planned: run.epochs, completed: history.length },
        rampSteps,
        stoppedByBudget: budget.stopped(),
        history,
      };
      await writeJson(join(context.outDir, SPARSENAS_REPORT), report);
      const show = (value: number | null) => (value === null ? "n/a" : percent(value));
      context.progress(
        `sparsity ${percent(report.overall.achieved)} of pruned layers' weights; validation accuracy ${show(before)} -> ${show(after)}`,
      );
    } finally {
      network.supernet.dispose();
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
