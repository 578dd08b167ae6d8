/**
 * The terminal summary printed after every build: the report's headline
 * numbers, each prediction beside them, then the costliest layers (all of
 * them with `tinyformer report --layers`), each with its measured
 * instructions and the prediction's error. Pure: report in, lines out.
 */
import { integer, millions, percent, signedPercent } from "./number-format.js";
import type { BuildReport, LayerReport, PredictionReport, RegionUse } from "./types.js";

/** One prediction beside the measured figures: the values and their errors. */
function prediction(p: PredictionReport): string {
  const tables =
    p.tables_match_board === false ? " (tables measured on another board or flags)" : "";
  return (
    `  predicted flash ${integer(p.flash_bytes)} B (${signedPercent(p.flash_error)}), ` +
    `SRAM ${integer(p.sram_bytes)} B (${signedPercent(p.sram_error)}), ` +
    `${millions(p.instructions_per_inference)} instructions (${signedPercent(p.instructions_error)}) by ${p.source}${tables}`
  );
}

function region(name: string, use: RegionUse): string {
  const verdict =
    use.margin_bytes >= 0
      ? `margin ${integer(use.margin_bytes)} B`
      : `OVER by ${integer(-use.margin_bytes)} B`;
  return `  ${name.padEnd(9)}${integer(use.used_bytes)} / ${integer(use.budget_bytes)} B (${verdict})`;
}

/** How many layers the default summary shows: the costliest, by measured instructions. */
export const SUMMARY_LAYERS = 5;

export interface SummaryOptions {
  /** Every layer in network order, instead of the costliest few. */
  allLayers?: boolean;
}

export function renderReportSummary(report: BuildReport, options: SummaryOptions = {}): string[] {
  const { accuracy, model, memory, performance } = report;
  const sparsity = model.parameters === 0 ? 0 : 1 - model.nonzero_parameters / model.parameters;
  const lines = [
    `  accuracy float ${percent(accuracy.float)}, INT8 ${percent(accuracy.int8)} (${integer(accuracy.images)} ${accuracy.split} images)`,
    `  model    ${integer(model.parameters)} conv/linear weights, ${integer(model.nonzero_parameters)} non-zero (${percent(sparsity)} pruned); ${millions(model.macs)} MACs, ${millions(model.executed_macs)} executed`,
    `${region("flash", memory.flash)}: text ${integer(memory.sections.text_bytes)}, rodata ${integer(memory.sections.rodata_bytes)}, data ${integer(memory.sections.data_bytes)}`,
    `${region("SRAM", memory.sram)}: bss ${integer(memory.sections.bss_bytes)}, data ${integer(memory.sections.data_bytes)}${
      memory.arena_bytes === undefined
        ? ""
        : `; arena ${integer(memory.arena_bytes)} (lower bound ${integer(memory.arena_lower_bound_bytes ?? 0)})`
    }`,
    `  speed    ${millions(performance.instructions_per_inference)} instructions per inference, estimated ${performance.estimated_latency_ms.toFixed(1)} ms at ${(performance.clock_hz / 1e6).toFixed(0)} MHz`,
  ];
  const space =
    report.space === undefined
      ? []
      : [
          `  space    chosen by supernas: candidate ${report.space.candidate} of ${report.space.candidates} (${report.space.reason})`,
        ];
  return [
    ...lines,
    ...space,
    ...report.predictions.map(prediction),
    ...(options.allLayers ? renderLayerTable(report.layers) : renderCostliestLayers(report.layers)),
  ];
}

/** The few layers that cost the most instructions (MACs when nothing was measured), costliest first. */
function renderCostliestLayers(layers: readonly LayerReport[]): string[] {
  if (layers.length <= SUMMARY_LAYERS) return renderLayerTable(layers);
  const cost = (layer: LayerReport) => layer.instructions ?? layer.macs;
  const costliest = [...layers].sort((a, b) => cost(b) - cost(a)).slice(0, SUMMARY_LAYERS);
  return [
    `  costliest ${SUMMARY_LAYERS} of ${layers.length} layers (all of them: tinyformer report --layers)`,
    ...renderLayerTable(costliest),
  ];
}

const COLUMNS: { title: string; align: "left" | "right"; cell: (layer: LayerReport) => string }[] =
  [
    { title: "layer", align: "left", cell: (l) => l.name },
    { title: "kind", align: "left", cell: (l) => l.kind },
    { title: "output", align: "left", cell: (l) => l.output_shape.join("x") },
    { title: "MACs", align: "right", cell: (l) => integer(l.macs) },
    { title: "sparsity", align: "right", cell: (l) => percent(l.sparsity) },
    {
      title: "block",
      align: "right",
      cell: (l) => (l.block_size === undefined ? "-" : String(l.block_size)),
    },
    { title: "kernel", align: "left", cell: (l) => l.kernel },
    { title: "bytes", align: "right", cell: (l) => integer(l.weight_bytes) },
    {
      title: "instr.",
      align: "right",
      cell: (l) => (l.instructions === undefined ? "-" : integer(l.instructions)),
    },
    {
      title: "predicted",
      align: "right",
      cell: (l) =>
        l.instructions === undefined ||
        l.predicted_instructions === undefined ||
        l.instructions === 0
          ? "-"
          : signedPercent((l.predicted_instructions - l.instructions) / l.instructions),
    },
  ];

function renderLayerTable(layers: readonly LayerReport[]): string[] {
  const rows = layers.map((layer) => COLUMNS.map((column) => column.cell(layer)));
  const widths = COLUMNS.map((column, i) =>
    Math.max(column.title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, i) =>
        COLUMNS[i]?.align === "right"
          ? cell.padStart(widths[i] as number)
          : cell.padEnd(widths[i] as number),
      )
      .join("  ")
      .trimEnd()}`;
  return [line(COLUMNS.map((column) => column.title)), ...rows.map(line)];
}
