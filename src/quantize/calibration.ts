/**
 * Activation ranges from calibration images: run the float model with every
 * tensor dumped and record, per activation tensor, either the min / max over
 * all values ("minmax") or the symmetric percentiles ("percentile": the
 * (100-p)th and pth percentile, nearest rank), which ignores outliers.
 */
import { runFloat } from "../interpreter/run.js";
import type { Model } from "../model-ir/types.js";

export interface CalibrationOptions {
  /** @default "minmax" */
  method?: "minmax" | "percentile";
  /** Upper percentile for "percentile", in (50, 100]. @default 99.99 */
  percentile?: number;
}

export interface Range {
  min: number;
  max: number;
}

/** Calibrated range of every activation tensor (graph inputs and op outputs). */
export function calibrateRanges(
  model: Model,
  inputs: readonly Float32Array[],
  options: CalibrationOptions = {},
): Map<string, Range> {
  if (inputs.length === 0) throw new Error("calibration needs at least one input");
  const method = options.method ?? "minmax";
  const percentile = options.percentile ?? 99.99;
  if (!(percentile > 50 && percentile <= 100))
    throw new Error(`percentile ${percentile} not in (50, 100]`);
  const ranges = new Map<string, Range>();
  const samples = new Map<string, Float32Array[]>();
  for (const input of inputs) {
    const { tensors } = runFloat(model, input, { dump: true });
    for (const [name, values] of tensors ?? []) {
      if (method === "percentile") {
        const list = samples.get(name) ?? [];
        list.push(values);
        samples.set(name, list);
        continue;
      }
      const r = ranges.get(name) ?? {
        min: Number.POSITIVE_INFINITY,
        max: Number.NEGATIVE_INFINITY,
      };
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as number;
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
      }
      ranges.set(name, r);
    }
  }
  for (const [name, list] of samples) {
    const total = list.reduce((n, a) => n + a.length, 0);
    const all = new Float32Array(total);
    let at = 0;
    for (const a of list) {
      all.set(a, at);
      at += a.length;
    }
    all.sort();
    ranges.set(name, {
      min: nearestRank(all, 100 - percentile),
      max: nearestRank(all, percentile),
    });
  }
  return ranges;
}

/** Nearest-rank percentile of sorted values. */
export function nearestRank(sorted: Float32Array, p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}
