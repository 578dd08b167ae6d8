/**
 * Stage implementations by name. Each lives in its own module here and
 * declares its module (its code is part of its key), the configuration keys and files it reads, the tools
 * it runs and its `run` function; `src/pipeline/pipeline.ts` places it in the
 * graph. A stage absent from this table is not implemented yet.
 */
import type { StageDefinition } from "../graph-runner/stage.js";
import type { PipelineOptions, StageName } from "../pipeline/pipeline.js";
import { createCodegenStage } from "./codegen.js";
import { createCompileHostStage } from "./compile-host.js";
import { createCompileTargetStage } from "./compile-target.js";
import { createDatasetStage } from "./dataset.js";
import { createFinetuneStage } from "./finetune.js";
import { createQuantizeStage } from "./quantize.js";
import { createReportStage } from "./report.js";
import { createSpaceSearchStage } from "./space-search.js";
import { createSparsenasStage } from "./sparsenas.js";
import { createSupernasStage } from "./supernas.js";
import { createVerifyHostStage } from "./verify-host.js";
import { createVerifyTargetStage } from "./verify-target.js";

export type StageImplementation = Omit<StageDefinition, "name" | "description" | "upstream">;

/** Creates a stage's implementation for a pipeline (training stages need the backend). */
export type StageFactory = (options: PipelineOptions) => StageImplementation;

export const implementedStages: Partial<Record<StageName, StageFactory>> = {
  dataset: createDatasetStage,
  "space-search": createSpaceSearchStage,
  supernas: createSupernasStage,
  sparsenas: createSparsenasStage,
  finetune: createFinetuneStage,
  quantize: createQuantizeStage,
  codegen: createCodegenStage,
  "compile-host": createCompileHostStage,
  "verify-host": createVerifyHostStage,
  "compile-target": createCompileTargetStage,
  "verify-target": createVerifyTargetStage,
  report: createReportStage,
};
