/**
 * Plots: the search's candidates, validation accuracy against predicted
 * flash or instructions. Candidates on the search's Pareto front (accuracy,
 * flash, instructions) are marked and those best in this plane joined; the
 * chosen one is labelled. Candidates rejected over a budget have no
 * accuracy and are only counted.
 */
import type { SearchData, SearchPoint } from "../page-data.js";
import { COLORS, CONFIG, integer, PLOT_WIDTH, type Plot, title } from "./plot.js";

const CANDIDATE = "candidate";
const FRONT = "on the Pareto front";
const CHOSEN = "chosen";

type Axis = "flash" | "instructions";

const AXES: Record<
  Axis,
  { value: (p: SearchPoint) => number; title: string; budget: (s: SearchData) => number | null }
> = {
  flash: {
    value: (p) => p.flashBytes,
    title: "predicted flash (bytes)",
    budget: (s) => s.budgets.flashBytes,
  },
  instructions: {
    value: (p) => p.instructions,
    title: "predicted instructions per inference",
    budget: (s) => s.budgets.instructions,
  },
};

/** Front members no other member beats in this plane, by increasing cost: the trade-off line. */
function staircase(points: readonly { cost: number; accuracy: number }[]) {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy);
  const line: { cost: number; accuracy: number }[] = [];
  for (const point of sorted)
    if (line.length === 0 || point.accuracy > (line[line.length - 1]?.accuracy ?? 0))
      line.push(point);
  return line;
}

export function searchPlot(search: SearchData, axis: Axis): Plot {
  const { value, title: axisTitle, budget } = AXES[axis];
  const front = new Set(search.front);
  const evaluated = search.candidates.filter((p) => p.accuracy !== null);
  const points = evaluated.map((p) => ({
    index: p.index,
    cost: value(p),
    accuracy: 100 * (p.accuracy as number),
    status: p.index === search.chosen ? CHOSEN : front.has(p.index) ? FRONT : CANDIDATE,
    // Drawn in this order: the front over the rest, the chosen one on top.
    layer: (p.index === search.chosen ? 2 : front.has(p.index) ? 1 : 0) * 1e9 + p.index,
    generation: p.generation,
  }));
  const line = staircase(points.filter((p) => p.status !== CANDIDATE));
  const chosen = points.filter((p) => p.status === CHOSEN);
  const rejected = search.candidates.length - evaluated.length;
  const limit = budget(search);
  const heading =
    axis === "flash"
      ? "Search: accuracy vs predicted flash"
      : "Search: accuracy vs predicted instructions";
  const statusScale = {
    domain: [CANDIDATE, FRONT, CHOSEN],
    range: [COLORS.neutral, COLORS.front, COLORS.highlight],
  };
  return {
    id: `search-${axis}`,
    title: heading,
    caption: `Each candidate the search evaluated: its accuracy on ${integer(search.validationImages)} validation images (float, pruned one-shot) against the resource evaluator's ${axis === "flash" ? "flash" : "instructions per inference"}. Green: the Pareto front over accuracy, flash and instructions; the line joins those best in this plane.`,
    spec: {
      description: heading,
      title: title(
        heading,
        `${integer(evaluated.length)} candidates evaluated` +
          (rejected > 0 ? `, ${integer(rejected)} rejected over a budget (not shown)` : "") +
          (limit === null ? "" : `; budget ${integer(limit)}${axis === "flash" ? " B" : ""}`),
      ),
      config: CONFIG,
      width: PLOT_WIDTH,
      height: 260,
      layer: [
        {
          data: { values: line },
          mark: { type: "line", color: COLORS.front, strokeWidth: 1.5, interpolate: "step-after" },
          encoding: {
            x: { field: "cost", type: "quantitative" },
            y: { field: "accuracy", type: "quantitative" },
          },
        },
        {
          data: { values: points },
          mark: { type: "point", filled: true, opacity: 0.85 },
          encoding: {
            x: {
              field: "cost",
              type: "quantitative",
              title: axisTitle,
              scale: { zero: false, padding: 12 },
              axis: { format: "~s" },
            },
            y: {
              field: "accuracy",
              type: "quantitative",
              title: "validation accuracy (%)",
              scale: { zero: false, padding: 12 },
            },
            color: { field: "status", type: "nominal", title: null, scale: statusScale },
            shape: {
              field: "status",
              type: "nominal",
              title: null,
              scale: { domain: statusScale.domain, range: ["circle", "circle", "diamond"] },
            },
            size: { condition: { test: `datum.status === "${CHOSEN}"`, value: 140 }, value: 50 },
            order: { field: "layer", type: "quantitative" },
          },
        },
        {
          data: { values: chosen },
          mark: {
            type: "text",
            align: "left",
            dx: 7,
            dy: -7,
            fontSize: 10,
            color: COLORS.highlight,
          },
          encoding: {
            x: { field: "cost", type: "quantitative" },
            y: { field: "accuracy", type: "quantitative" },
            text: { value: `chosen (candidate ${search.chosen})` },
          },
        },
      ],
    },
  };
}
