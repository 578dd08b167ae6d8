/** Runs the CLI in this process on a test workspace, capturing what it prints. */
import { runCli } from "../../src/cli/main.js";
import { createFakeStages, type FakeStageSpec } from "./fake-stages.js";
import type { TestWorkspace } from "./workspace.js";

export interface CliRun {
  code: number;
  /** stdout lines, paths made workspace-relative. */
  out: string;
  /** stderr lines, paths made workspace-relative. */
  err: string;
}

/** `stages` null: the real TinyFormer pipeline. */
export async function runCliIn(
  ws: TestWorkspace,
  args: string[],
  stages: FakeStageSpec[] | null,
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["-C", ws.root, ...args], {
    ...(stages ? { createStages: () => createFakeStages({ stages, logFile: ws.logFile }) } : {}),
    output: { out: (line) => out.push(line), err: (line) => err.push(line) },
  });
  // Paths print relative to the process's directory; make them workspace-relative.
  const clean = (lines: string[]) => lines.join("\n").replaceAll(`${ws.root}/`, "");
  return { code, out: clean(out), err: clean(err) };
}
