/** Plot: each layer's multiply-accumulates, all of them beside those its kernel executes. */
import type { BuildReport, LayerReport } from "../types.js";
import { layerPairBarsSpec } from "./layer-pair-bars.js";
import { COLORS, integer, type Plot } from "./plot.js";

/** MACs the layer's kernel runs: a sparse kernel skips pruned blocks (as report.json counts). */
export function executedMacs(layer: LayerReport): number {
  return layer.kernel.includes("sparse")
    ? Math.round(layer.macs * (1 - layer.sparsity))
    : layer.macs;
}

export function layerMacsPlot(report: BuildReport): Plot {
  const ALL = "all MACs";
  const EXECUTED = "executed by its kernel";
  const values = report.layers.flatMap((layer, index) => [
    { layer: layer.name, index, series: ALL, macs: layer.macs },
    { layer: layer.name, index, series: EXECUTED, macs: executedMacs(layer) },
  ]);
  const heading = "Multiply-accumulates per layer";
  return {
    id: "layer-macs",
    title: heading,
    caption:
      "The work each layer does per inference: every multiply-accumulate of the dense layer, and those its kernel runs.",
    spec: layerPairBarsSpec({
      report,
      heading,
      subtitle: `${integer(report.model.macs)} MACs in all, ${integer(report.model.executed_macs)} executed`,
      values,
      field: "macs",
      axisTitle: "multiply-accumulates per inference (MACs)",
      series: [ALL, EXECUTED],
      colors: [COLORS.float, COLORS.int8],
    }),
  };
}
