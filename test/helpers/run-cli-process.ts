/** Runs the CLI over a fake pipeline in a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FakeStageSpec } from "./fake-stages.js";
import type { TestWorkspace } from "./workspace.js";

const fakeCli = join(dirname(fileURLToPath(import.meta.url)), "fake-cli.js");

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnFakeCli(
  workspace: TestWorkspace,
  stages: FakeStageSpec[],
  args: string[],
): { child: ChildProcess; done: Promise<ProcessResult> } {
  const child = spawn(process.execPath, [fakeCli, ...args], {
    cwd: workspace.root,
    env: {
      ...process.env,
      TINYFORMER_FAKE_PIPELINE: JSON.stringify({ stages, logFile: workspace.logFile }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<ProcessResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export async function runFakeCli(
  workspace: TestWorkspace,
  stages: FakeStageSpec[],
  args: string[],
): Promise<ProcessResult> {
  return spawnFakeCli(workspace, stages, args).done;
}

export async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting for condition");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
