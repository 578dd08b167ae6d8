/**
 * The plots of report.html, in page order, for what the build has: the
 * search plots only when it searched, the confusion matrix only when
 * quantize recorded one. `omitted` says what is left out and why.
 */
import type { ReportPageData } from "../page-data.js";
import { accuracyPlot } from "./accuracy.js";
import { arenaTimelinePlot } from "./arena-timeline.js";
import { confusionMatrixPlot } from "./confusion-matrix.js";
import { flashBreakdownPlot } from "./flash-breakdown.js";
import { layerInstructionsPlot } from "./layer-instructions.js";
import { layerMacsPlot } from "./layer-macs.js";
import { layerSparsityPlot } from "./layer-sparsity.js";
import type { Plot } from "./plot.js";
import { searchPlot } from "./search-candidates.js";

export type { Plot } from "./plot.js";

export function reportPlots(data: ReportPageData): { plots: Plot[]; omitted: string[] } {
  const plots = [
    layerMacsPlot(data.report),
    layerInstructionsPlot(data.report),
    layerSparsityPlot(data.report),
    arenaTimelinePlot(data),
    flashBreakdownPlot(data),
    accuracyPlot(data),
  ];
  const omitted: string[] = [];
  if (data.confusion !== undefined) plots.push(confusionMatrixPlot(data.report, data.confusion));
  else omitted.push("No confusion matrix: quantize recorded no per-class counts.");
  if (data.search !== undefined)
    plots.push(searchPlot(data.search, "flash"), searchPlot(data.search, "instructions"));
  else
    omitted.push(
      "No search plots: this build did not search (its search space and sparsity have no choices).",
    );
  return { plots, omitted };
}
