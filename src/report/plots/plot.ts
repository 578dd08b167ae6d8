/**
 * What every plot of report.html shares: its shape (an id, a title and a
 * Vega-Lite specification with inline data) and the page's look.
 */
import type { TopLevelSpec } from "vega-lite";

export interface Plot {
  /** Stable, unique on the page: names the figure and prefixes the SVG's ids. */
  id: string;
  /** Drawn at the top of the plot, and the figure's accessible name. */
  title: string;
  /** One or two sentences under the plot: what it shows and how to read it. */
  caption: string;
  spec: TopLevelSpec;
}

/** Plot width in pixels (the page is about 800 wide). */
export const PLOT_WIDTH = 520;

/** Height of one row of a per-layer bar chart. */
export const ROW_STEP = 14;

/** Height of each bar of a per-layer chart with two bars a layer. */
export const GROUPED_ROW_STEP = 8;

/** Width of the plots without a column of layer names. */
export const WIDE_PLOT_WIDTH = 720;

export const COLORS = {
  measured: "#1f77b4",
  predicted: "#ff7f0e",
  float: "#9ecae1",
  int8: "#3182bd",
  neutral: "#9e9e9e",
  highlight: "#d62728",
  front: "#2ca02c",
};

/** Settings every specification carries: fonts, sizes, no interactivity. */
export const CONFIG = {
  font: "Helvetica, Arial, sans-serif",
  background: "white",
  padding: 8,
  title: { anchor: "start" as const, fontSize: 14, subtitleFontSize: 11, subtitleColor: "#555" },
  axis: { labelFontSize: 10, titleFontSize: 11, labelLimit: 360 },
  legend: { labelFontSize: 10, titleFontSize: 11, orient: "bottom" as const, labelLimit: 500 },
  view: { stroke: null },
};

/** A title with a subtitle line. */
export function title(text: string, subtitle?: string) {
  return subtitle === undefined ? { text } : { text, subtitle };
}

export { integer, percent } from "../number-format.js";
