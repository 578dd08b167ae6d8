/**
 * `tinyformer watch`: rebuild a project whenever its recipe, anything it
 * extends, its board profile, the workspace file or a declared stage input
 * changes. Changing `cache_dir` or `output_dir` needs a restart.
 */
import { resolve } from "node:path";
import { ConfigError, renderDiagnostic } from "../config/diagnostic.js";
import { loadWorkspace } from "../config/load-workspace.js";
import type { BuildEvent, BuildResult } from "../graph-runner/events.js";
import { createRunnerContext } from "../graph-runner/runner-context.js";
import { selectStageConfig } from "../graph-runner/stage-inputs.js";
import {
  type CreateFileWatcher,
  type WatchEvent,
  type WatchLoad,
  watchPipeline,
} from "../graph-runner/watch.js";
import { runnerOptionsFor } from "./build.js";
import { type OpenProjectOptions, openProject, type Project } from "./project.js";
import { openRemoteCache } from "./remote-cache.js";

export interface WatchProjectOptions extends OpenProjectOptions {
  jobs?: number;
  signal: AbortSignal;
  onEvent: (event: BuildEvent | WatchEvent) => void;
  /** After each build (finished or superseded), with the project it built: for a summary. */
  onBuildDone?: (project: Project, result: BuildResult) => void;
  debounceMs?: number;
  createWatcher?: CreateFileWatcher;
}

export async function watchProject(options: WatchProjectOptions): Promise<void> {
  const cwd = options.cwd ?? process.cwd();
  const workspace = await loadWorkspace(cwd);
  const remote = await openRemoteCache(workspace);
  const context = await createRunnerContext(
    workspace.cacheDir,
    remote === undefined ? {} : { remote },
  );
  let lastGoodPaths: string[] = [];
  let current: Project | undefined;

  const load = async (): Promise<WatchLoad> => {
    const fallbackPaths = [
      workspace.file,
      ...(options.recipe !== undefined ? [resolve(cwd, options.recipe)] : []),
      ...lastGoodPaths,
    ];
    let project: Project;
    try {
      project = await openProject(options);
    } catch (error) {
      if (!(error instanceof ConfigError)) {
        return {
          ok: false,
          problems: [String(error instanceof Error ? error.message : error)],
          watchPaths: fallbackPaths,
        };
      }
      const failedFiles = error.diagnostics
        .map((d) => resolve(cwd, d.source.name))
        .filter((f) => !f.includes("<"));
      return {
        ok: false,
        problems: error.diagnostics.map(renderDiagnostic),
        watchPaths: [...fallbackPaths, ...failedFiles],
      };
    }
    const build = runnerOptionsFor(project, context, {
      ...(options.jobs ? { jobs: options.jobs } : {}),
    });
    const inputPaths = project.stages.flatMap((stage) =>
      (stage.fileInputs?.(selectStageConfig(project.recipe.config, stage)) ?? []).map((path) =>
        resolve(project.workspace.root, path),
      ),
    );
    lastGoodPaths = [workspace.file, ...project.recipe.configFiles, ...inputPaths];
    current = project;
    return { ok: true, build, watchPaths: lastGoodPaths };
  };

  await watchPipeline({
    context,
    load,
    ignoredDirs: [workspace.cacheDir, workspace.outputDir],
    onEvent: (event) => {
      options.onEvent(event);
      if (event.type === "build-done" && current !== undefined) {
        options.onBuildDone?.(current, event.result);
      }
    },
    signal: options.signal,
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    ...(options.createWatcher !== undefined ? { createWatcher: options.createWatcher } : {}),
  });
}
