/**
 * report.html: one self-contained page (inline CSS and SVG; no script, no
 * external resource) with the headline numbers, each prediction beside the
 * measured figures, the plots (src/report/plots/, drawn to SVG at build
 * time) and the layer table. The markup and style are the templates in
 * templates/report/; this module formats the numbers and fills them in.
 * Deterministic: the same data gives the same bytes.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { templatesDir } from "../project-paths.js";
import type { ReportPageData } from "./page-data.js";
import { reportPlots } from "./plots/index.js";
import { executedMacs } from "./plots/layer-macs.js";
import { renderPlotSvg } from "./render-plots.js";
import type { LayerReport, RegionUse } from "./types.js";

/** templates/report: report.html.hbs and report.css. */
export const reportTemplatesDir = join(templatesDir, "report");

const integer = (n: number) => Math.round(n).toLocaleString("en-US");
const percent = (fraction: number) => `${(100 * fraction).toFixed(1)} %`;
const signedPercent = (fraction: number) => {
  const text = (100 * fraction).toFixed(1);
  if (text === "0.0" || text === "-0.0") return "0.0 %";
  return `${fraction > 0 ? "+" : ""}${text} %`;
};

function regionFigure(label: string, use: RegionUse) {
  const share = use.budget_bytes === 0 ? 1 : use.used_bytes / use.budget_bytes;
  return {
    label,
    value: `${integer(use.used_bytes)} B`,
    detail:
      use.margin_bytes >= 0
        ? `of ${integer(use.budget_bytes)} B budget (${percent(share)}; margin ${integer(use.margin_bytes)} B)`
        : `of ${integer(use.budget_bytes)} B budget: OVER by ${integer(-use.margin_bytes)} B`,
    share: `${Math.min(100, 100 * share).toFixed(1)}%`,
    over: use.margin_bytes < 0,
  };
}

const LAYER_COLUMNS: {
  title: string;
  numeric?: boolean;
  cell: (layer: LayerReport, index: number) => string;
}[] = [
  { title: "#", numeric: true, cell: (_, i) => String(i) },
  { title: "layer", cell: (l) => l.name },
  { title: "kind", cell: (l) => l.kind },
  { title: "output", cell: (l) => l.output_shape.join("×") },
  { title: "MACs", numeric: true, cell: (l) => integer(l.macs) },
  { title: "executed", numeric: true, cell: (l) => integer(executedMacs(l)) },
  { title: "sparsity", numeric: true, cell: (l) => percent(l.sparsity) },
  {
    title: "block",
    numeric: true,
    cell: (l) => (l.block_size === undefined ? "–" : String(l.block_size)),
  },
  { title: "kernel", cell: (l) => l.kernel },
  { title: "weight bytes", numeric: true, cell: (l) => integer(l.weight_bytes) },
  {
    title: "instructions",
    numeric: true,
    cell: (l) => (l.instructions === undefined ? "–" : integer(l.instructions)),
  },
  {
    title: "predicted",
    numeric: true,
    cell: (l) =>
      l.predicted_instructions === undefined
        ? "–"
        : l.instructions === undefined || l.instructions === 0
          ? integer(l.predicted_instructions)
          : `${integer(l.predicted_instructions)} (${signedPercent((l.predicted_instructions - l.instructions) / l.instructions)})`,
  },
];

/** The page's values, formatted (what the template shows). */
function pageView(data: ReportPageData) {
  const { report } = data;
  const { accuracy, model, memory, performance } = report;
  const pruned = model.parameters === 0 ? 0 : 1 - model.nonzero_parameters / model.parameters;
  return {
    recipe: report.recipe,
    board: report.board,
    model:
      `${integer(model.parameters)} convolution and linear weights, ${integer(model.nonzero_parameters)} non-zero (${percent(pruned)} pruned); ` +
      `${integer(model.macs)} MACs per inference, ${integer(model.executed_macs)} executed; ${report.layers.length} layers`,
    space:
      report.space === undefined
        ? ""
        : `candidate ${report.space.candidate} of ${report.space.candidates}, ${report.space.reason}`,
    headline: [
      regionFigure("Flash", memory.flash),
      regionFigure("SRAM", memory.sram),
      {
        label: "Instructions per inference",
        value: integer(performance.instructions_per_inference),
        detail: `about ${performance.estimated_latency_ms.toFixed(1)} ms at ${(performance.clock_hz / 1e6).toFixed(0)} MHz: an estimate at one instruction per cycle, not a bound`,
        share: "",
        over: false,
      },
      {
        label: "Accuracy (INT8)",
        value: percent(accuracy.int8),
        detail: `float ${percent(accuracy.float)}; ${integer(accuracy.images)} ${accuracy.split} images`,
        share: "",
        over: false,
      },
    ],
    measured: {
      flash: `${integer(memory.flash.used_bytes)} B`,
      sram: `${integer(memory.sram.used_bytes)} B`,
      instructions: integer(performance.instructions_per_inference),
    },
    predictions: report.predictions.map((p) => ({
      source: p.source,
      flash: `${integer(p.flash_bytes)} B (${signedPercent(p.flash_error)})`,
      sram: `${integer(p.sram_bytes)} B (${signedPercent(p.sram_error)})`,
      instructions: `${integer(p.instructions_per_inference)} (${signedPercent(p.instructions_error)})`,
      tables:
        p.tables_match_board === null
          ? "unknown"
          : p.tables_match_board
            ? "yes"
            : "no: another board or flags",
    })),
    layerColumns: LAYER_COLUMNS.map(({ title, numeric }) => ({ title, numeric: numeric ?? false })),
    layerRows: report.layers.map((layer, index) =>
      LAYER_COLUMNS.map((column) => ({
        text: column.cell(layer, index),
        numeric: column.numeric ?? false,
      })),
    ),
  };
}

/** The whole page, and what the plotting libraries warned about (plot id: warning). */
export async function renderReportHtml(
  data: ReportPageData,
): Promise<{ html: string; warnings: string[] }> {
  const [{ default: Handlebars }, template, css] = await Promise.all([
    import("handlebars"),
    readFile(join(reportTemplatesDir, "report.html.hbs"), "utf8"),
    readFile(join(reportTemplatesDir, "report.css"), "utf8"),
  ]);
  const { plots, omitted } = reportPlots(data);
  // One after another: vega's renderer keeps per-process counters.
  const rendered: { id: string; caption: string; svg: string }[] = [];
  const warnings: string[] = [];
  for (const plot of plots) {
    const { svg, warnings: plotWarnings } = await renderPlotSvg(plot);
    rendered.push({ id: plot.id, caption: plot.caption, svg });
    warnings.push(...plotWarnings.map((warning) => `${plot.id}: ${warning}`));
  }
  const page = Handlebars.create().compile(template, { strict: true });
  const html = page({ ...pageView(data), css: css.trimEnd(), plots: rendered, omitted });
  return { html, warnings };
}
