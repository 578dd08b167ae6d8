/**
 * The TinyFormer pipeline: twelve stages with fixed names and dependencies
 * (DESIGN §3). A stage whose implementation has landed comes from its module
 * in `src/stages/`; the others are declared here with their place in the
 * graph only, so `graph` and `status` show the whole pipeline while `build`
 * says plainly that they are not implemented yet and produces nothing for them.
 *
 *   dataset ─► space-search ─► supernas ─► sparsenas ─► finetune ─► quantize ─► codegen ─► compile-host ─► verify-host ─┐
 *                                                                                      └──► compile-target ─► verify-target ─► report
 */
import type { BackendPreference } from "../config/types.js";
import { withDependencies } from "../graph-runner/graph.js";
import type { StageDefinition } from "../graph-runner/stage.js";
import { implementedStages } from "../stages/index.js";

export const STAGE_NAMES = [
  "dataset",
  "space-search",
  "supernas",
  "sparsenas",
  "finetune",
  "quantize",
  "codegen",
  "compile-host",
  "verify-host",
  "compile-target",
  "verify-target",
  "report",
] as const;

export type StageName = (typeof STAGE_NAMES)[number];

interface StagePlace {
  description: string;
  upstream: readonly StageName[];
}

const PLACES: Record<StageName, StagePlace> = {
  dataset: {
    description: "decode, split and pack the dataset into a tensor file",
    upstream: [],
  },
  "space-search": {
    description:
      "choose the search space from the recipe's supernas section under the budgets (or pass search_space on)",
    upstream: ["dataset"],
  },
  supernas: {
    description:
      "train the supernet of the search space (a fixed network when the space has one choice)",
    upstream: ["dataset", "space-search"],
  },
  sparsenas: {
    description: "search the sub-network, per-layer sparsity and block size under the budgets",
    upstream: ["dataset", "space-search", "supernas"],
  },
  finetune: {
    description: "prune the chosen sub-network blockwise while fine-tuning it",
    upstream: ["dataset", "space-search", "supernas", "sparsenas"],
  },
  quantize: {
    description: "calibrate and quantize to the INT8 model IR; float and INT8 accuracy",
    upstream: ["dataset", "finetune"],
  },
  codegen: {
    description: "plan memory, choose kernels, render the SparseEngine C sources",
    upstream: ["quantize"],
  },
  "compile-host": {
    description: "compile the generated C for the host with gcc",
    upstream: ["codegen"],
  },
  "verify-host": {
    description: "host output bytes equal the reference interpreter's",
    upstream: ["dataset", "quantize", "compile-host"],
  },
  "compile-target": {
    description: "cross-compile and link for the board; check flash and SRAM budgets",
    upstream: ["codegen"],
  },
  "verify-target": {
    description: "run under QEMU; bytes equal the interpreter's; instructions per inference",
    upstream: ["dataset", "quantize", "compile-target"],
  },
  report: {
    description: "report.json and the summary table",
    // codegen and compile-target for kernels, arena and memory; the verify
    // stages so that a report always describes a verified model.
    upstream: [
      "space-search",
      "sparsenas",
      "finetune",
      "quantize",
      "codegen",
      "compile-target",
      "verify-host",
      "verify-target",
    ],
  },
};

/** Settings that shape the stage definitions themselves rather than a key's value. */
export interface PipelineOptions {
  /** TensorFlow.js backend the training stages ask for; the one they get is in their keys. */
  backend: BackendPreference;
  /**
   * Replicas training the supernas and finetune stages data-parallel
   * (src/data-parallel/); the trained bytes depend on it, so it is part of the
   * backend identity in those stages' keys. @default 1
   */
  trainingWorkers?: number;
  /** Worker processes assessing SparseNAS candidates (results do not depend on it). @default 1 */
  searchWorkers?: number;
  /**
   * Where search assessments run: `local` (this process, or `searchWorkers`
   * worker processes) or `queue` (jobs on the BullMQ queue at `redisUrl`,
   * run by `tinyformer worker`). Results do not depend on it. @default local
   */
  searchExecutor?: "local" | "queue";
  /** The queue's Redis URL when `searchExecutor` is `queue`. */
  redisUrl?: string;
  /**
   * Worker threads measuring INT8 accuracy in the quantize stage (results do
   * not depend on it). @default the machine's available parallelism
   */
  evaluationWorkers?: number;
}

/** The pipeline in dependency order. */
/**
 * The pipeline up to `last`: that stage and every stage it depends on, in
 * pipeline order (tests and benchmarks that stop before code generation).
 */
export function createPipelineThrough(
  options: PipelineOptions,
  last: StageName,
): StageDefinition[] {
  const stages = createPipeline(options);
  const needed = withDependencies(stages, [last]);
  return stages.filter((stage) => needed.has(stage.name));
}

export function createPipeline(options: PipelineOptions): StageDefinition[] {
  return STAGE_NAMES.map((name): StageDefinition => {
    const place = PLACES[name];
    const implementation = implementedStages[name]?.(options);
    if (implementation !== undefined) {
      return { name, description: place.description, upstream: place.upstream, ...implementation };
    }
    return {
      name,
      description: place.description,
      upstream: place.upstream,
      implementation: import.meta.url,
      configKeys: [],
    };
  });
}
