/** Plot: each layer's instructions as measured under QEMU beside the resource evaluator's prediction. */
import type { BuildReport } from "../types.js";
import { layerPairBarsSpec } from "./layer-pair-bars.js";
import { COLORS, integer, type Plot, percent } from "./plot.js";

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
    spec: layerPairBarsSpec({
      report,
      heading,
      subtitle:
        `${integer(measured)} instructions per inference measured` +
        (prediction === undefined
          ? ""
          : `, ${integer(prediction.instructions_per_inference)} predicted by ${prediction.source} (${prediction.instructions_error >= 0 ? "+" : ""}${percent(prediction.instructions_error)})`),
      values,
      field: "instructions",
      axisTitle: "instructions per inference",
      series: [MEASURED, PREDICTED],
      colors: [COLORS.measured, COLORS.predicted],
    }),
  };
}
