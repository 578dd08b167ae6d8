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
  /** Measures it (after `describeBackend`, when that succeeded). */
  measureBackend?: () => Promise<DoctorCheck>;
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [{ name: "node", ok: true, detail: process.version }];
  if (options.describeBackend !== undefined) {
    const backend = await options.describeBackend();
    checks.push(backend);
    if (backend.ok && options.measureBackend !== undefined)
      checks.push(await options.measureBackend());
  }
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

/** Batch and timed steps of `doctor`'s measurement: about a second on wasm. */
const SPEED_BATCH = 32;
const SPEED_STEPS = 2;

/**
 * A short measured ResNet-8 training and inference rate on the backend
 * training would use (`describeTrainingBackend` loads it first), so users see
 * what their machine does; not on the pure-JS CPU backend, where one step
 * takes minutes.
 */
export async function measureTrainingSpeed(choice: BackendPreference): Promise<DoctorCheck> {
  const [{ createTrainingBackend }, { measureThroughput }] = await Promise.all([
    import("../training/backend.js"),
    import("../training/throughput.js"),
  ]);
  try {
    const backend = await createTrainingBackend({ backend: choice });
    if (backend.name === "cpu") {
      return {
        name: "ml speed",
        ok: true,
        detail: "not measured on the pure-JavaScript CPU backend (minutes per step)",
      };
    }
    const { train, infer } = measureThroughput("resnet", {
      batch: SPEED_BATCH,
      steps: SPEED_STEPS,
    });
    return {
      name: "ml speed",
      ok: true,
      detail: `ResNet-8 32x32, batch ${SPEED_BATCH}, one thread: train ${train.toFixed(0)} images/s, infer ${infer.toFixed(0)} images/s on ${backend.name} (training_workers spreads training over threads)`,
    };
  } catch (error) {
    return {
      name: "ml speed",
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
