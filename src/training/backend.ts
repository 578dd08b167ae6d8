/**
 * Chooses and initialises the TensorFlow.js backend that trains models.
 *
 *   auto:  tfjs-node (native TensorFlow)  ->  wasm (+ our gradient kernels)  ->  cpu (loud warning)
 *   forced (recipe or --backend): exactly that backend, or an error saying why it cannot load.
 *
 * Everything TensorFlow.js is loaded with dynamic `import()` inside
 * `createTrainingBackend`, so importing this module costs nothing: a no-op
 * build must not pay the ~1 s it takes to load tfjs.
 */
import { createRequire } from "node:module";
import type * as TfCore from "@tensorflow/tfjs-core";

/** What a recipe or `--backend` may ask for. */
export type BackendChoice = "auto" | "tfjs-node" | "wasm" | "cpu";

/** The backends we can actually end up on. */
export type TrainingBackendName = Exclude<BackendChoice, "auto">;

export const backendChoices: readonly BackendChoice[] = ["auto", "tfjs-node", "wasm", "cpu"];

/**
 * Bumped whenever a kernel in `./kernels/` changes its numerics, so cached
 * training results made with the old kernels are not reused.
 */
export const WASM_GRADIENT_KERNELS_REVISION = 1;

export interface BackendOptions {
  /** @default "auto" */
  readonly backend?: BackendChoice;
  /**
   * Threads for the wasm backend where multithreaded wasm works (it does not
   * in Node 20 today: the backend then runs single-threaded). Part of the
   * version string because it can change float summation order.
   * @default 1
   */
  readonly wasmThreads?: number;
  /** Receives warnings (e.g. falling back to the pure-JS CPU backend). */
  readonly onWarning?: (message: string) => void;
  /**
   * The order "auto" tries backends in; drop one to never use it (say, a
   * tfjs-node install known to be broken).
   * @default ["tfjs-node", "wasm", "cpu"]
   */
  readonly autoOrder?: readonly TrainingBackendName[];
}

export interface BackendIdentity {
  /** Which backend runs the kernels. */
  readonly name: TrainingBackendName;
  /**
   * Everything about the backend that can change a trained result, e.g.
   * `wasm@4.22.0+simd+grad1`; part of every training stage's cache key.
   */
  readonly version: string;
}

export interface TrainingBackend extends BackendIdentity {
  /** The tfjs-core module, ready to use with this backend active. */
  readonly tf: typeof TfCore;
  /** Why auto selection passed over faster backends (empty when forced or on tfjs-node). */
  readonly fallbackReasons: readonly string[];
}

/** tfjs's own name for each backend. */
const tfjsBackendName: Record<TrainingBackendName, string> = {
  "tfjs-node": "tensorflow",
  wasm: "wasm",
  cpu: "cpu",
};

let active: TrainingBackend | undefined;

/** The backend `createTrainingBackend` last activated, if any. */
export function getActiveBackendIdentity(): BackendIdentity | undefined {
  return active === undefined ? undefined : { name: active.name, version: active.version };
}

/** Parses a user-supplied backend name; `undefined` when it is not one. */
export function parseBackendChoice(value: string): BackendChoice | undefined {
  return (backendChoices as readonly string[]).includes(value)
    ? (value as BackendChoice)
    : undefined;
}

/**
 * Loads tfjs, registers gradients (and, on wasm, our gradient kernels) and
 * activates the requested backend. Calling it again with the same choice
 * returns the backend already active.
 */
export async function createTrainingBackend(
  options: BackendOptions = {},
): Promise<TrainingBackend> {
  const choice = options.backend ?? "auto";
  if (active !== undefined && (choice === "auto" || choice === active.name)) {
    const tf = active.tf;
    if (tf.getBackend() !== tfjsBackendName[active.name]) {
      await tf.setBackend(tfjsBackendName[active.name]);
    }
    return active;
  }
  const tf = await loadTfCore();
  const order = choice === "auto" ? (options.autoOrder ?? ["tfjs-node", "wasm", "cpu"]) : [choice];
  const fallbackReasons: string[] = [];
  for (const name of order) {
    try {
      const version = await activate(tf, name, options);
      if (name === "cpu" && choice === "auto") {
        const why =
          fallbackReasons.length > 0 ? fallbackReasons.join("; ") : "no faster backend allowed";
        options.onWarning?.(
          "WARNING: training on the pure-JavaScript CPU backend, 50-100x slower than WebAssembly " +
            `(${why}). Install @tensorflow/tfjs-node or fix the wasm backend.`,
        );
      }
      active = { name, version, tf, fallbackReasons };
      return active;
    } catch (error) {
      const reason = `${name}: ${error instanceof Error ? error.message : String(error)}`;
      if (choice !== "auto") {
        throw new Error(`cannot use the requested TensorFlow.js backend ${reason}`);
      }
      fallbackReasons.push(reason);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded (${fallbackReasons.join("; ")})`);
}

async function loadTfCore(): Promise<typeof TfCore> {
  const tf = await import("@tensorflow/tfjs-core");
  // The union package is what registers tfjs's gradient functions (and the
  // CPU backend) for Node: tfjs-core's own Node bundle ships without them.
  await import("@tensorflow/tfjs");
  // Silences tfjs's console banners ("looks like you are running in Node");
  // our own warnings go through onWarning instead.
  tf.env().set("PROD", true);
  return tf;
}

async function activate(
  tf: typeof TfCore,
  name: TrainingBackendName,
  options: BackendOptions,
): Promise<string> {
  switch (name) {
    case "tfjs-node": {
      // A variable specifier keeps TypeScript from requiring the (optional,
      // usually absent) package at compile time.
      const specifier = "@tensorflow/tfjs-node";
      try {
        await import(specifier);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") {
          throw new Error(
            "not installed (an optional dependency: its native library downloads from outside the npm registry)",
          );
        }
        throw error;
      }
      await setBackendOrThrow(tf, "tensorflow");
      return `tfjs-node@${packageVersion(specifier)}`;
    }
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const { registerWasmGradientKernels } = await import("./kernels/register.js");
      registerWasmGradientKernels();
      const threads = options.wasmThreads ?? 1;
      const threadsWork = (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true;
      if (threadsWork && threads > 1) wasm.setThreadsCount(threads);
      await setBackendOrThrow(tf, "wasm");
      const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
      const threadCount = threadsWork ? wasm.getThreadsCount() : 1;
      return (
        `wasm@${wasm.version_wasm}` +
        (simd ? "+simd" : "") +
        (threadCount > 1 ? `+threads${threadCount}` : "") +
        `+grad${WASM_GRADIENT_KERNELS_REVISION}`
      );
    }
    case "cpu": {
      await setBackendOrThrow(tf, "cpu");
      return `cpu@${packageVersion("@tensorflow/tfjs-backend-cpu")}`;
    }
    default:
      return unreachable(name);
  }
}

async function setBackendOrThrow(tf: typeof TfCore, name: string): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend('${name}') failed to initialise`);
  }
  await tf.ready();
}

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  const manifest = require(`${name}/package.json`) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

function unreachable(value: never): never {
  throw new Error(`unexpected backend ${String(value)}`);
}
