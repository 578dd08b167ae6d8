/**
 * A per-layer bar chart with two bars a layer, in network order: the shape
 * of the MACs plot (all vs executed) and of the instructions plot (measured
 * vs predicted).
 */
import type { TopLevelSpec } from "vega-lite";
import type { BuildReport } from "../types.js";
import { CONFIG, GROUPED_ROW_STEP, PLOT_WIDTH, title } from "./plot.js";

export interface LayerPairBars {
  report: BuildReport;
  heading: string;
  subtitle: string;
  /** One row per bar: `{ layer, index, series, [field]: value }`. */
  values: Record<string, unknown>[];
  /** The numeric field of `values`, drawn on the x axis. */
  field: string;
  axisTitle: string;
  /** The two series, in the order their bars are drawn, and their colours. */
  series: readonly [string, string];
  colors: readonly [string, string];
}

export function layerPairBarsSpec(options: LayerPairBars): TopLevelSpec {
  return {
    description: options.heading,
    title: title(options.heading, options.subtitle),
    config: CONFIG,
    width: PLOT_WIDTH,
    height: { step: GROUPED_ROW_STEP },
    data: { values: options.values },
    mark: { type: "bar" },
    encoding: {
      y: {
        field: "layer",
        type: "nominal",
        sort: options.report.layers.map((layer) => layer.name),
        title: "layer",
      },
      yOffset: { field: "series", type: "nominal", sort: [...options.series] },
      x: {
        field: options.field,
        type: "quantitative",
        title: options.axisTitle,
        axis: { format: "~s" },
      },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: [...options.series], range: [...options.colors] },
      },
    },
  };
}
