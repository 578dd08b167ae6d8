/**
 * Plot: float vs INT8 accuracy on the evaluation split, over all images and,
 * when quantize recorded its confusion matrices, per class.
 */
import type { ReportPageData } from "../page-data.js";
import { COLORS, CONFIG, integer, PLOT_WIDTH, type Plot, percent, title } from "./plot.js";

const FLOAT = "float";
const INT8 = "INT8";
const ALL = "all classes";

/** Per class: images and correct predictions (the diagonal), classes with no image left out. */
function perClass(matrix: readonly (readonly number[])[], names: readonly string[]) {
  return names.flatMap((name, i) => {
    const row = matrix[i] ?? [];
    const images = row.reduce((sum, n) => sum + n, 0);
    return images === 0 ? [] : [{ name, images, correct: row[i] ?? 0 }];
  });
}

export function accuracyPlot(data: Pick<ReportPageData, "report" | "confusion">): Plot {
  const { accuracy } = data.report;
  const label = (name: string, images: number) => `${name} (${integer(images)})`;
  const allLabel = label(ALL, accuracy.images);
  const values = [
    { group: allLabel, model: FLOAT, accuracy: 100 * accuracy.float },
    { group: allLabel, model: INT8, accuracy: 100 * accuracy.int8 },
  ];
  const order = [allLabel];
  if (data.confusion !== undefined) {
    const { classNames } = data.confusion;
    const float = perClass(data.confusion.float, classNames);
    const int8 = new Map(perClass(data.confusion.int8, classNames).map((c) => [c.name, c]));
    for (const c of float) {
      const group = label(c.name, c.images);
      order.push(group);
      values.push({ group, model: FLOAT, accuracy: (100 * c.correct) / c.images });
      const q = int8.get(c.name);
      if (q !== undefined)
        values.push({ group, model: INT8, accuracy: (100 * q.correct) / q.images });
    }
  }
  const heading = "Accuracy: float vs INT8";
  return {
    id: "accuracy",
    title: heading,
    caption:
      data.confusion === undefined
        ? `Top-1 accuracy of the float model and of the INT8 model (which the generated C reproduces byte for byte) on ${integer(accuracy.images)} ${accuracy.split} images.`
        : `Top-1 accuracy of the float model and of the INT8 model (which the generated C reproduces byte for byte) on ${integer(accuracy.images)} ${accuracy.split} images, over all of them and per true class (images per class in brackets).`,
    spec: {
      description: heading,
      title: title(
        heading,
        `float ${percent(accuracy.float)}, INT8 ${percent(accuracy.int8)} on ${integer(accuracy.images)} ${accuracy.split} images`,
      ),
      config: CONFIG,
      width: PLOT_WIDTH,
      height: 220,
      data: { values },
      encoding: {
        x: {
          field: "group",
          type: "nominal",
          sort: order,
          title: `class (${accuracy.split} images)`,
          axis: { labelAngle: -35 },
        },
        xOffset: { field: "model", type: "nominal", sort: [FLOAT, INT8] },
        y: {
          field: "accuracy",
          type: "quantitative",
          title: "top-1 accuracy (%)",
          scale: { domain: [0, 100] },
        },
      },
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            color: {
              field: "model",
              type: "nominal",
              title: "model",
              scale: { domain: [FLOAT, INT8], range: [COLORS.float, COLORS.int8] },
            },
          },
        },
        {
          mark: { type: "text", dy: -4, fontSize: 8, color: "#333", baseline: "bottom" },
          encoding: { text: { field: "accuracy", type: "quantitative", format: ".0f" } },
        },
      ],
    },
  };
}
