/** Plot: the INT8 model's confusion matrix on the evaluation split (quantize's counts). */
import type { ConfusionData, ReportPageData } from "../page-data.js";
import { CONFIG, integer, type Plot, title } from "./plot.js";

export function confusionMatrixPlot(
  report: ReportPageData["report"],
  confusion: ConfusionData,
): Plot {
  const names = confusion.classNames;
  const values = names.flatMap((actual, i) =>
    names.map((predicted, j) => ({
      actual,
      predicted,
      images: confusion.int8[i]?.[j] ?? 0,
      correct: i === j,
    })),
  );
  const total = values.reduce((sum, cell) => sum + cell.images, 0);
  const most = Math.max(1, ...values.map((cell) => cell.images));
  const heading = "Confusion matrix (INT8)";
  return {
    id: "confusion-matrix",
    title: heading,
    caption:
      "How the INT8 model classifies each true class: the images of a row spread over the predicted classes; the diagonal is correct.",
    spec: {
      description: heading,
      title: title(heading, `${integer(total)} ${report.accuracy.split} images`),
      config: CONFIG,
      width: { step: 32 },
      height: { step: 22 },
      data: { values },
      encoding: {
        x: {
          field: "predicted",
          type: "nominal",
          sort: names,
          title: "predicted class",
          axis: { labelAngle: -35 },
        },
        y: { field: "actual", type: "nominal", sort: names, title: "true class" },
      },
      layer: [
        {
          mark: { type: "rect", stroke: "white", strokeWidth: 1 },
          encoding: {
            color: {
              field: "images",
              type: "quantitative",
              title: "images",
              scale: { domain: [0, most], range: ["#f7fbff", "#08519c"] },
            },
          },
        },
        {
          transform: [{ filter: "datum.images > 0" }],
          mark: { type: "text", fontSize: 9 },
          encoding: {
            text: { field: "images", type: "quantitative" },
            color: {
              condition: { test: `datum.images > ${most / 2}`, value: "white" },
              value: "#222",
            },
          },
        },
      ],
    },
  };
}
