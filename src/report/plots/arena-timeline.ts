/**
 * Plot: the activation arena over the inference. Each buffer is a box from
 * the layer that writes it to the last that reads it, at its offset and
 * size; a step line sums the bytes live at each layer (its highest point is
 * the lower bound no plan can beat), and rules mark the arena's size (the
 * peak: the highest buffer end) and that bound.
 */
import { liveBytesByOp } from "../../memory-planner/live-bytes.js";
import type { ReportPageData } from "../page-data.js";
import { CONFIG, integer, type Plot, title, WIDE_PLOT_WIDTH } from "./plot.js";

const KINDS = { input: "model input", activation: "activation", scratch: "kernel scratch" };
const LIVE = "bytes live at the layer";

export function arenaTimelinePlot(data: Pick<ReportPageData, "arena" | "report">): Plot {
  const { arena, report } = data;
  const layers = report.layers.length;
  const boxes = arena.buffers.map((buffer) => ({
    buffer: buffer.id,
    kind: KINDS[buffer.kind],
    from: buffer.firstOp - 0.45,
    to: buffer.lastOp + 0.45,
    offset: buffer.offset,
    end: buffer.offset + buffer.bytes,
  }));
  const live = liveBytesByOp({
    arenaBytes: arena.bytes,
    lowerBoundBytes: arena.lowerBoundBytes,
    alignment: arena.alignment,
    buffers: arena.buffers,
  });
  // step-after from each layer's left edge; one more point closes the last step.
  const liveSteps = [
    ...live.map((bytes, op) => ({ x: op - 0.5, bytes })),
    ...(live.length === 0 ? [] : [{ x: live.length - 0.5, bytes: live[live.length - 1] }]),
  ];
  const equal = arena.bytes === arena.lowerBoundBytes;
  const rules = [
    {
      bytes: arena.bytes,
      label: equal
        ? `arena ${integer(arena.bytes)} B = its lower bound`
        : `arena ${integer(arena.bytes)} B (peak: highest buffer end)`,
      dash: "solid",
      align: "right",
      x: layers - 0.5,
    },
    ...(equal
      ? []
      : [
          {
            bytes: arena.lowerBoundBytes,
            label: `lower bound ${integer(arena.lowerBoundBytes)} B (most bytes live at once)`,
            dash: "dashed",
            align: "left",
            x: -0.5,
          },
        ]),
  ];
  const ticks = Array.from({ length: layers }, (_, i) => i);
  const xScale = { domain: [-0.5, Math.max(0, layers - 0.5)], nice: false, zero: false };
  const colorScale = {
    domain: [KINDS.input, KINDS.activation, KINDS.scratch, LIVE],
    range: ["#9467bd", "#6baed6", "#fdae6b", "#222222"],
  };
  const heading = "Activation arena: buffer lifetimes and offsets";
  return {
    id: "arena-timeline",
    title: heading,
    caption:
      "Every tensor and kernel scratch buffer in the arena, from the layer that writes it to the last layer that reads it (x), at its offset and size (y). The line sums the bytes live at each layer: its top is the lower bound no plan can go below.",
    spec: {
      description: heading,
      title: title(
        heading,
        `${arena.buffers.length} buffers; arena ${integer(arena.bytes)} B, lower bound ${integer(arena.lowerBoundBytes)} B, offsets aligned to ${arena.alignment} B`,
      ),
      config: CONFIG,
      width: WIDE_PLOT_WIDTH,
      height: 300,
      layer: [
        {
          data: { values: boxes },
          mark: { type: "rect", opacity: 0.85, stroke: "white", strokeWidth: 0.5 },
          encoding: {
            x: {
              field: "from",
              type: "quantitative",
              title: "layer index (execution order; names in the layer table)",
              scale: xScale,
              axis: { values: ticks, format: "d", grid: false },
            },
            x2: { field: "to" },
            y: {
              field: "offset",
              type: "quantitative",
              title: "arena offset (bytes)",
              axis: { format: ",d" },
            },
            y2: { field: "end" },
            color: { field: "kind", type: "nominal", title: "buffer", scale: colorScale },
          },
        },
        {
          data: { values: liveSteps },
          mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
          encoding: {
            x: { field: "x", type: "quantitative", scale: xScale },
            y: { field: "bytes", type: "quantitative" },
            color: { datum: LIVE, type: "nominal", scale: colorScale },
          },
        },
        {
          data: { values: rules },
          mark: { type: "rule", color: "#d62728", strokeWidth: 1 },
          encoding: {
            y: { field: "bytes", type: "quantitative" },
            strokeDash: {
              field: "dash",
              type: "nominal",
              scale: {
                domain: ["solid", "dashed"],
                range: [
                  [1, 0],
                  [4, 3],
                ],
              },
              legend: null,
            },
          },
        },
        ...rules.map((rule) => ({
          data: { values: [rule] },
          mark: {
            type: "text" as const,
            align: rule.align as "left" | "right",
            dy: -5,
            fontSize: 10,
            color: "#d62728",
          },
          encoding: {
            x: { field: "x", type: "quantitative" as const, scale: xScale },
            y: { field: "bytes", type: "quantitative" as const },
            text: { field: "label", type: "nominal" as const },
          },
        })),
      ],
    },
  };
}
