/** Plot: each layer's instructions as measured under QEMU beside the resource evaluator's prediction. */
import type { BuildReport } from "../types.js";
import {
  COLORS,
  CONFIG,
  GROUPED_ROW_STEP,
  integer,
  PLOT_WIDTH,
  type Plot,
  percent,
  title,
} from "./plot.js";

export function layerInstructionsPlot(report: BuildReport): Plot {
  const MEASURED = "measured (QEMU)";
  const predictor = report.predictions[0]?.source ?? "codegen";
  const PREDICTED = `predicted (${predictor})`;
  const values = report.layers.flatMap((layer, index) => [
    ...(layer.instructions === undefined
      ? []
      : [{ layer: layer.name, index, series: MEASURED, instructions: layer.instructions }]),
    ...(layer.predicted_instructions === undefined
      ? []
      : [
          {
            layer: layer.name,
            index,
            series: PREDICTED,
            instructions: layer.predicted_instructions,
          },
        ]),
  ]);
  const measured = report.performance.instructions_per_inference;
  const prediction = report.predictions[0];
  const heading = "Instructions per layer: measured vs predicted";
  return {
    id: "layer-instructions",
    title: heading,
    caption:
      "Each layer's instructions on the target: counted under QEMU in the profile build (one image), and predicted by the cost model without compiling.",
    spec: {
      description: heading,
      title: title(
        heading,
        `${integer(measured)} instructions per inference measured` +
          (prediction === undefined
            ? ""
            : `, ${integer(prediction.instructions_per_inference)} predicted by ${prediction.source} (${prediction.instructions_error >= 0 ? "+" : ""}${percent(prediction.instructions_error)})`),
      ),
      config: CONFIG,
      width: PLOT_WIDTH,
      height: { step: GROUPED_ROW_STEP },
      data: { values },
      mark: { type: "bar" },
      encoding: {
        y: {
          field: "layer",
          type: "nominal",
          sort: report.layers.map((layer) => layer.name),
          title: "layer",
        },
        yOffset: { field: "series", type: "nominal", sort: [MEASURED, PREDICTED] },
        x: {
          field: "instructions",
          type: "quantitative",
          title: "instructions per inference",
          axis: { format: "~s" },
        },
        color: {
          field: "series",
          type: "nominal",
          title: null,
          scale: { domain: [MEASURED, PREDICTED], range: [COLORS.measured, COLORS.predicted] },
        },
      },
    },
  };
}
