/** Builds a test workspace in-process with fake stages and records the events. */
import { buildProject, planProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { BuildEvent, BuildResult } from "../../src/graph-runner/events.js";
import type { StagePlan } from "../../src/graph-runner/plan.js";
import { createFakeStages, type FakeStageSpec } from "./fake-stages.js";
import type { TestWorkspace } from "./workspace.js";

export interface HarnessRun {
  result: BuildResult;
  events: BuildEvent[];
  /** Stages that ran (not cached) in this build, in start order. */
  ran: string[];
}

export function createHarness(workspace: TestWorkspace, stages: FakeStageSpec[]) {
  const createStages = () => createFakeStages({ stages, logFile: workspace.logFile });
  return {
    async build(
      options: { overrides?: string[]; force?: string[]; signal?: AbortSignal; jobs?: number } = {},
    ): Promise<HarnessRun> {
      const project = await openProject({
        cwd: workspace.root,
        createStages,
        overrides: options.overrides ?? [],
      });
      const events: BuildEvent[] = [];
      const result = await buildProject(project, {
        force: options.force ?? [],
        ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
        onEvent: (event) => events.push(event),
      });
      const ran = events.flatMap((event) => (event.type === "stage-start" ? [event.stage] : []));
      return { result, events, ran };
    },
    async plan(options: { overrides?: string[] } = {}): Promise<StagePlan[]> {
      const project = await openProject({
        cwd: workspace.root,
        createStages,
        overrides: options.overrides ?? [],
      });
      return planProject(project);
    },
    createStages,
  };
}
