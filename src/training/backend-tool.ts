/**
 * The TensorFlow.js backend as a "tool" of the training stages: its identity
 * (e.g. `wasm@4.22.0+simd+grad1`) is part of their cache keys, because a
 * different backend trains to different weights.
 *
 * Finding out which backend loads means loading TensorFlow.js (about a
 * second), so the answer is memoised by the graph runner against the stat of
 * the packages that decide it and our own kernel revision; a no-op build
 * never loads tfjs.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ProbedTool } from "../graph-runner/tool-probe.js";
import { type BackendChoice, WASM_GRADIENT_KERNELS_REVISION } from "./backend.js";

const DECIDING_PACKAGES = [
  "@tensorflow/tfjs-core",
  // Registers the gradient functions training relies on.
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-node",
];

/**
 * `trainingWorkers` > 1 (data-parallel training, src/data-parallel/) trains
 * different bytes, so it joins the identity as `+workers<N>`; one worker
 * leaves the identity, and so every existing cache key, as it was.
 */
export function createBackendTool(choice: BackendChoice, trainingWorkers = 1): ProbedTool {
  const workers = trainingWorkers > 1 ? `+workers${trainingWorkers}` : "";
  return {
    kind: "probe",
    name: "ml-backend",
    stampFiles: () => DECIDING_PACKAGES.flatMap(packageStampFiles),
    stampText: `choice=${choice} wasm-gradient-kernels=${WASM_GRADIENT_KERNELS_REVISION}${workers === "" ? "" : ` training-workers=${trainingWorkers}`}`,
    async probe() {
      const { createTrainingBackend } = await import("./backend.js");
      return (await createTrainingBackend({ backend: choice })).version + workers;
    },
    installHint:
      "Run ./scripts/setup.sh (npm ci) to install TensorFlow.js; set `backend:` in the recipe or tinyformer.yaml to force one.",
  };
}

/** package.json of a package, plus its native binding directory for tfjs-node; absent packages count as absent. */
function packageStampFiles(name: string): string[] {
  const require = createRequire(import.meta.url);
  try {
    const manifest = require.resolve(`${name}/package.json`);
    return name === "@tensorflow/tfjs-node"
      ? [manifest, join(dirname(manifest), "lib")]
      : [manifest];
  } catch {
    return [`absent:${name}`];
  }
}
