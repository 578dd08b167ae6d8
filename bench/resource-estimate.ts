/**
 * `npm run bench -- resource-estimate`: how long one resource estimate
 * (src/resources/estimate-resources.ts) takes, as the search calls it: the
 * int8 model of a candidate in (quantization excluded), flash, SRAM and
 * instructions out, on the showcase candidates (test/support/calibration/sample-candidates.ts),
 * pruned and dense; the tables loaded once, as the search does.
 *
 * Last stdout line: {"models": [{"name", "parameters", "layers", "median_ms",
 * "max_ms"}], "median_ms"} over 20 estimates of each after one warm-up.
 */
import { performance } from "node:perf_hooks";
import { product } from "../src/model-ir/shapes.js";
import type { Model } from "../src/model-ir/types.js";
import { estimateResources, loadResourceTables } from "../src/resources/estimate-resources.js";
import {
  createSampleCandidate,
  SHOWCASE_CANDIDATES,
} from "../test/support/calibration/sample-candidates.js";

/** Weights of the conv and linear layers, pruned ones included. */
function parameters(model: Model): number {
  const shapes = new Map(model.graph.tensors.map((t) => [t.name, t.shape]));
  return model.graph.ops
    .filter((op) => op.type === "conv2d" || op.type === "linear")
    .reduce((sum, op) => sum + product(shapes.get(op.inputs[1] ?? "") ?? []), 0);
}

export async function main(): Promise<void> {
  const tables = loadResourceTables();
  const results = [];
  for (const spec of SHOWCASE_CANDIDATES) {
    const model = await createSampleCandidate(spec);
    estimateResources(model, { tables });
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      estimateResources(model, { tables });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 100) / 100;
    results.push({
      name: spec.name,
      parameters: parameters(model),
      layers: model.graph.ops.length,
      median_ms: round(times[10] as number),
      max_ms: round(times[times.length - 1] as number),
    });
    process.stderr.write(`${spec.name}: ${JSON.stringify(results[results.length - 1])}\n`);
  }
  const medians = results.map((r) => r.median_ms).sort((a, b) => a - b);
  const median = medians[Math.floor(medians.length / 2)];
  process.stdout.write(`${JSON.stringify({ models: results, median_ms: median })}\n`);
}
