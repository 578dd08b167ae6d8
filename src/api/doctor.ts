/**
 * `tinyformer doctor`: what this machine has for each part of the pipeline,
 * with versions, and how to install what is missing.
 */
import type { BackendPreference } from "../config/types.js";
import { ToolMissingError, ToolProbe } from "../graph-runner/tool-probe.js";
import { DOCTOR_TOOLS } from "../toolchain/tools.js";

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** Version line, or what is wrong and how to fix it. */
  detail: string;
}

export interface DoctorOptions {
  /** Reports the TensorFlow.js backend that training would use. */
  describeBackend?: () => Promise<DoctorCheck>;
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [{ name: "node", ok: true, detail: process.version }];
  if (options.describeBackend !== undefined) checks.push(await options.describeBackend());
  const probe = new ToolProbe(undefined);
  for (const tool of DOCTOR_TOOLS) {
    try {
      const identity = await probe.identify(tool);
      checks.push({ name: tool.name, ok: true, detail: `${identity.version} (${identity.path})` });
    } catch (error) {
      if (!(error instanceof ToolMissingError)) throw error;
      checks.push({ name: tool.name, ok: false, detail: error.message });
    }
  }
  return checks;
}

/** Loads TensorFlow.js the way training would and reports the backend it lands on. */
export async function describeTrainingBackend(choice: BackendPreference): Promise<DoctorCheck> {
  const { createTrainingBackend } = await import("../training/backend.js");
  try {
    const warnings: string[] = [];
    const backend = await createTrainingBackend({
      backend: choice,
      onWarning: (w) => warnings.push(w),
    });
    const passedOver =
      backend.fallbackReasons.length > 0
        ? ` (passed over: ${backend.fallbackReasons.join("; ")})`
        : "";
    return {
      name: "ml backend",
      ok: backend.name !== "cpu" || choice === "cpu",
      detail: `${backend.version}${passedOver}`,
    };
  } catch (error) {
    return {
      name: "ml backend",
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

/** The workspace's remote cache, when `cwd` is in a workspace that has one. */
export async function describeRemoteCache(cwd: string): Promise<DoctorCheck[]> {
  const { loadWorkspace } = await import("../config/load-workspace.js");
  const { openRemoteCache } = await import("./remote-cache.js");
  let remote: Awaited<ReturnType<typeof openRemoteCache>>;
  try {
    remote = await openRemoteCache(await loadWorkspace(cwd));
  } catch (error) {
    if (error instanceof Error && error.name === "WorkspaceNotFoundError") return [];
    return [{ name: "remote cache", ok: false, detail: (error as Error).message }];
  }
  return remote === undefined ? [] : remote.probe();
}
