/**
 * The library entry point (`import { openProject, buildProject } from
 * "tinyformer"`): everything the command line does, as typed functions. The
 * CLI in src/cli/ is a thin layer over exactly these.
 *
 * ```ts
 * import { buildProject, openProject } from "tinyformer";
 * const project = await openProject({ cwd: "path/to/workspace" });
 * const result = await buildProject(project, { onEvent: (event) => console.log(event.type) });
 * ```
 */

export { ConfigError, type Diagnostic, renderDiagnostic } from "../config/diagnostic.js";
export type { BuildEvent, BuildResult, StageOutcome } from "../graph-runner/events.js";
export type { StagePlan } from "../graph-runner/plan.js";
export type { BuildReport } from "../report/types.js";
export {
  type BuildProjectOptions,
  buildProject,
  type DryRunJson,
  planProject,
  renderDryRunJson,
} from "./build.js";
export {
  cleanWorkspace,
  type GcCacheOptions,
  gcCache,
  listWorkspaceCache,
  verifyWorkspaceCache,
} from "./cache.js";
export {
  type DoctorCheck,
  describeRemoteCache,
  describeTrainingBackend,
  measureTrainingSpeed,
  runDoctor,
} from "./doctor.js";
export {
  DEFAULT_BOARD,
  INIT_DATASETS,
  type InitDataset,
  InitError,
  type InitFile,
  type InitResult,
  type InitWorkspaceOptions,
  initWorkspace,
  renderInitSummary,
  shippedBoards,
} from "./init.js";
export {
  type OpenProjectOptions,
  openProject,
  type Project,
  UnknownStageError,
} from "./project.js";
export { createSigningKeyFiles, openRemoteCache, RemoteCacheConfigError } from "./remote-cache.js";
export { explainStage, projectStatus, type StatusJson, type WhyReport } from "./status.js";
export { type ConfigFileKind, type ValidationResult, validateFiles } from "./validate.js";
export { type WatchProjectOptions, watchProject } from "./watch.js";
export { startWorker, type WorkerOptions } from "./worker.js";
