/** Plot: each layer's weight sparsity, coloured by the block size it was pruned in. */
import type { BuildReport } from "../types.js";
import { CONFIG, PLOT_WIDTH, type Plot, percent, ROW_STEP, title } from "./plot.js";

const BLOCKS = ["block of 1", "block of 4", "block of 8", "block of 16", "not pruned"];
const BLOCK_COLORS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#bdbdbd"];

export function layerSparsityPlot(report: BuildReport): Plot {
  const values = report.layers.map((layer, index) => ({
    layer: layer.name,
    index,
    sparsity: 100 * layer.sparsity,
    block: layer.block_size === undefined ? "not pruned" : `block of ${layer.block_size}`,
    kernel: layer.kernel,
  }));
  const { parameters, nonzero_parameters: nonzero } = report.model;
  const heading = "Weight sparsity and block size per layer";
  return {
    id: "layer-sparsity",
    title: heading,
    caption:
      "The share of each layer's weights pruned to zero, and the size of the blocks (consecutive weights of a row) they were pruned in; layers without a block size were left dense.",
    spec: {
      description: heading,
      title: title(
        heading,
        `${percent(parameters === 0 ? 0 : 1 - nonzero / parameters)} of ${parameters.toLocaleString("en-US")} weights pruned`,
      ),
      config: CONFIG,
      width: PLOT_WIDTH,
      height: { step: ROW_STEP },
      data: { values },
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            y: {
              field: "layer",
              type: "nominal",
              sort: report.layers.map((layer) => layer.name),
              title: "layer",
            },
            x: {
              field: "sparsity",
              type: "quantitative",
              title: "weights pruned (%)",
              scale: { domain: [0, 100] },
            },
            color: {
              field: "block",
              type: "nominal",
              title: "pruned in",
              scale: { domain: BLOCKS, range: BLOCK_COLORS },
            },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 3, fontSize: 9, color: "#333" },
          encoding: {
            y: { field: "layer", type: "nominal", sort: report.layers.map((layer) => layer.name) },
            x: { field: "sparsity", type: "quantitative" },
            text: { field: "sparsity", type: "quantitative", format: ".1f" },
          },
        },
      ],
    },
  };
}
