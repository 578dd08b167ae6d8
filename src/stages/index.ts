/**
 * Stage implementations by name. Each lives in its own module here and
 * declares its version, the configuration keys and files it reads, the tools
 * it runs and its `run` function; `src/pipeline/pipeline.ts` places it in the
 * graph. A stage absent from this table is not implemented yet.
 */
import type { StageDefinition } from "../graph-runner/stage.js";
import type { StageName } from "../pipeline/pipeline.js";

export type StageImplementation = Omit<StageDefinition, "name" | "description" | "upstream">;

export const implementedStages: Partial<Record<StageName, StageImplementation>> = {};
