/**
 * Plot: what fills the device program's flash, as far as the build knows
 * it: each layer's weights (exact: the arrays codegen emits), the other
 * constants of the layers (biases, multipliers, lookup tables, shapes),
 * the rest of the read-only data, the code and the initial values of
 * .data, which sum to the linker's flash figure.
 */
import type { ReportPageData } from "../page-data.js";
import { CONFIG, integer, PLOT_WIDTH, type Plot, percent, ROW_STEP, title } from "./plot.js";

const GROUPS = ["weights", "other constants", "other read-only data", "code", "initialised data"];
const GROUP_COLORS = ["#3182bd", "#9ecae1", "#fdd0a2", "#e6550d", "#a1d99b"];

export interface FlashPart {
  part: string;
  group: (typeof GROUPS)[number];
  bytes: number;
}

/** The parts, largest groups' details first; bytes sum to the measured flash. */
export function flashParts(
  data: Pick<ReportPageData, "report" | "layerConstantBytes">,
): FlashPart[] {
  const { report, layerConstantBytes } = data;
  const { sections } = report.memory;
  const weights = report.layers
    .filter((layer) => layer.weight_bytes > 0)
    .map(
      (layer): FlashPart => ({
        part: `weights: ${layer.name}`,
        group: "weights",
        bytes: layer.weight_bytes,
      }),
    );
  const weightBytes = weights.reduce((sum, part) => sum + part.bytes, 0);
  // The layers' other arrays, from codegen's estimate (exact sizes of what it emits, aligned).
  const constantBytes = report.layers.reduce(
    (sum, layer) => sum + Math.max(layer.weight_bytes, layerConstantBytes[layer.name] ?? 0),
    0,
  );
  const otherConstants = Math.min(constantBytes - weightBytes, sections.rodata_bytes - weightBytes);
  const rest = sections.rodata_bytes - weightBytes - Math.max(0, otherConstants);
  return [
    ...weights,
    ...(otherConstants > 0
      ? [
          {
            part: "layer constants besides weights",
            group: "other constants",
            bytes: otherConstants,
          },
        ]
      : []),
    ...(rest > 0
      ? [
          {
            part: "other read-only data (kernels, library)",
            group: "other read-only data",
            bytes: rest,
          },
        ]
      : []),
    { part: "code (.text)", group: "code", bytes: sections.text_bytes },
    ...(sections.data_bytes > 0
      ? [{ part: "initial values of .data", group: "initialised data", bytes: sections.data_bytes }]
      : []),
  ];
}

export function flashBreakdownPlot(
  data: Pick<ReportPageData, "report" | "layerConstantBytes">,
): Plot {
  const { flash } = data.report.memory;
  const values = flashParts(data);
  const heading = "Flash breakdown";
  return {
    id: "flash-breakdown",
    title: heading,
    caption:
      "What the device program keeps in flash, from the link (code, read-only data, .data) and codegen (each layer's weight array and its other constants). The parts add up to the flash used.",
    spec: {
      description: heading,
      title: title(
        heading,
        `${integer(flash.used_bytes)} B used of a ${integer(flash.budget_bytes)} B budget (${percent(flash.budget_bytes === 0 ? 0 : flash.used_bytes / flash.budget_bytes)})`,
      ),
      config: CONFIG,
      width: PLOT_WIDTH,
      height: { step: ROW_STEP + 2 },
      data: { values },
      encoding: {
        y: {
          field: "part",
          type: "nominal",
          sort: values.map((value) => value.part),
          title: null,
        },
        x: { field: "bytes", type: "quantitative", title: "flash (bytes)", axis: { format: ",d" } },
      },
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            color: {
              field: "group",
              type: "nominal",
              title: "part of",
              scale: { domain: GROUPS, range: GROUP_COLORS },
            },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 3, fontSize: 9, color: "#333" },
          encoding: { text: { field: "bytes", type: "quantitative", format: ",d" } },
        },
      ],
    },
  };
}
