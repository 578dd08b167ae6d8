/**
 * Opens a project: the workspace, the recipe to build (named, or the
 * workspace default) and the pipeline it runs through. Every command starts
 * here, so every command sees the same configuration and reports the same
 * errors for it.
 */
import { isAbsolute, join, relative, sep } from "node:path";
import type { LoadedRecipe } from "../config/load-recipe.js";
import type { Workspace } from "../config/load-workspace.js";
import { loadProjectConfig } from "../config/project-config.js";
import type { BackendPreference } from "../config/types.js";
import type { StageDefinition } from "../graph-runner/stage.js";
import { createPipeline, type PipelineOptions } from "../pipeline/pipeline.js";
import { redisUrlFromEnvironment } from "../queue/settings.js";
import { checkSearchFeasibility } from "../search/feasibility-check.js";

export interface OpenProjectOptions {
  /** Where to look for tinyformer.yaml (walking up). @default process.cwd() */
  cwd?: string;
  /** Recipe file, relative to `cwd`. @default the workspace's default_recipe */
  recipe?: string;
  /** `--set KEY=VALUE` arguments. */
  overrides?: readonly string[];
  /** Force a TensorFlow.js backend (`--backend`); else the recipe's, else the workspace's. */
  backend?: BackendPreference;
  /** Data-parallel training replicas (`--training-workers`); else the workspace's `training_workers`. */
  trainingWorkers?: number;
  /** The stages to run; tests and benchmarks pass their own. @default the TinyFormer pipeline */
  createStages?: (options: PipelineOptions) => StageDefinition[];
}

export interface Project {
  workspace: Workspace;
  recipe: LoadedRecipe;
  stages: StageDefinition[];
  /**
   * Identifies this recipe's last-build records (for `status` and `why`,
   * whatever overrides that build had): its path relative to the workspace root.
   */
  scope: string;
  /** `<output_dir>/<recipe name>`; its build-info.json says which overrides and keys it holds. */
  outputDir: string;
  /** The `--set` overrides this project was opened with. */
  overrides: readonly string[];
}

export async function openProject(options: OpenProjectOptions = {}): Promise<Project> {
  const { workspace, recipe } = await loadProjectConfig({
    cwd: options.cwd ?? process.cwd(),
    ...(options.recipe !== undefined ? { recipe: options.recipe } : {}),
    overrides: options.overrides ?? [],
    lateChecks: [checkSearchFeasibility],
  });
  const backend = options.backend ?? recipe.recipe.backend ?? workspace.config.backend;
  const stages = (options.createStages ?? createPipeline)({
    backend,
    trainingWorkers: options.trainingWorkers ?? workspace.config.training_workers,
    searchWorkers: workspace.config.search_workers,
    ...(workspace.config.evaluation_workers > 0
      ? { evaluationWorkers: workspace.config.evaluation_workers }
      : {}),
    ...(workspace.config.executor === "queue"
      ? { searchExecutor: "queue" as const, redisUrl: redisUrlFromEnvironment() }
      : {}),
  });
  const overrides = options.overrides ?? [];
  return {
    workspace,
    recipe,
    stages,
    scope: scopeOf(workspace.root, recipe.file),
    outputDir: join(workspace.outputDir, recipe.name),
    overrides,
  };
}

function scopeOf(root: string, file: string): string {
  const fromRoot = relative(root, file);
  return isAbsolute(fromRoot) ? file : fromRoot.split(sep).join("/");
}

/** Throws a clear error for a stage name the pipeline does not have. */
export function requireStage(project: Project, name: string): StageDefinition {
  const stage = project.stages.find((candidate) => candidate.name === name);
  if (stage === undefined) {
    throw new UnknownStageError(
      name,
      project.stages.map((s) => s.name),
    );
  }
  return stage;
}

export class UnknownStageError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`unknown stage "${name}"; stages are: ${known.join(", ")}`);
    this.name = "UnknownStageError";
  }
}
