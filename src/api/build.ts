/** `tinyformer build`: plan or run a project's pipeline. */
import { join } from "node:path";
import { writeFileAtomic } from "../graph-runner/atomic-write.js";
import type { BuildEvent, BuildResult } from "../graph-runner/events.js";
import { planBuild, type StagePlan } from "../graph-runner/plan.js";
import { type BuildOptions, build } from "../graph-runner/runner.js";
import { createRunnerContext, type RunnerContext } from "../graph-runner/runner-context.js";
import { type Project, requireStage } from "./project.js";
import { openRemoteCache } from "./remote-cache.js";

export interface BuildProjectOptions {
  /** @default the workspace's `jobs` */
  jobs?: number;
  force?: readonly string[];
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
  /** Reuse a context across builds (watch mode); created from the cache dir otherwise. */
  context?: RunnerContext;
}

/** What the runner needs for this project, shared by build, plan and watch. */
export function runnerOptionsFor(
  project: Project,
  context: RunnerContext,
  options: Pick<BuildProjectOptions, "jobs" | "force">,
): BuildOptions {
  for (const name of options.force ?? []) requireStage(project, name);
  return {
    context,
    stages: project.stages,
    config: project.recipe.config,
    workspaceRoot: project.workspace.root,
    scope: project.scope,
    outputDir: project.outputDir,
    jobs: options.jobs ?? project.workspace.config.jobs,
    force: options.force ?? [],
  };
}

/** The runner's state for a project's cache directory, with the workspace's remote cache. */
export async function createProjectContext(project: Project): Promise<RunnerContext> {
  const remote = await openRemoteCache(project.workspace);
  return createRunnerContext(project.workspace.cacheDir, remote === undefined ? {} : { remote });
}

export async function buildProject(
  project: Project,
  options: BuildProjectOptions = {},
): Promise<BuildResult> {
  const context = options.context ?? (await createProjectContext(project));
  const keys: Record<string, string> = {};
  const result = await build({
    ...runnerOptionsFor(project, context, options),
    ...(options.signal ? { signal: options.signal } : {}),
    onEvent: (event) => {
      // The stages whose outputs are now in the folder: restored, built or downloaded.
      if (
        event.type === "stage-cached" ||
        event.type === "stage-done" ||
        event.type === "stage-downloaded"
      ) {
        keys[event.stage] = event.key;
      }
      options.onEvent?.(event);
    },
  });
  await writeBuildInfo(project, result, keys);
  return result;
}

/** What `build/<recipe>/build-info.json` records: which configuration the folder holds. */
export interface BuildInfo {
  recipe: string;
  overrides: readonly string[];
  ok: boolean;
  /** Cache key of every stage whose outputs are in the folder. */
  keys: Record<string, string>;
}

/**
 * Records next to the outputs which recipe, overrides and stage keys they
 * come from, so a folder can be matched to a configuration (and `status`
 * compared with it) without guessing.
 */
async function writeBuildInfo(
  project: Project,
  result: BuildResult,
  keys: Record<string, string>,
): Promise<void> {
  if (Object.keys(keys).length === 0) return;
  const info: BuildInfo = {
    recipe: project.scope,
    overrides: project.overrides,
    ok: result.ok,
    // Sorted: stages finish in varying order when they run at once.
    keys: Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  await writeFileAtomic(
    join(project.outputDir, BUILD_INFO_FILE),
    `${JSON.stringify(info, null, 2)}\n`,
  );
}

export const BUILD_INFO_FILE = "build-info.json";

export interface DryRunJson {
  stages: { name: string; action: StagePlan["action"]; reason: string }[];
}

/** `build --dry-run=json`: what a build would do, running nothing. */
export async function planProject(
  project: Project,
  options: Pick<BuildProjectOptions, "force"> = {},
): Promise<StagePlan[]> {
  const context = await createProjectContext(project);
  return planBuild(runnerOptionsFor(project, context, options));
}

export function renderDryRunJson(plans: readonly StagePlan[]): DryRunJson {
  return { stages: plans.map(({ name, action, reason }) => ({ name, action, reason })) };
}
