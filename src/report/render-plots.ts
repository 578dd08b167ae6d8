/**
 * Vega-Lite specifications → SVG text, in Node, at build time: compiled by
 * vega-lite, run by vega's headless view, serialised by its SVG renderer.
 * The SVG is made ready to inline in a page: its ids (clip paths,
 * gradients) are renumbered under the plot's id, so they neither collide
 * with another plot's nor depend on what this process rendered before, and
 * the namespace declarations an HTML parser does not need are dropped.
 * Text is measured by vega's estimate, never by a canvas (whose fonts
 * differ between machines), so the same plot gives the same bytes anywhere.
 * Warnings of either library are returned, not printed.
 */
import type { LoggerInterface } from "vega";
import type { Plot } from "./plots/plot.js";

interface VegaTextMetrics {
  canvas?: (use: boolean) => void;
}

export interface RenderedPlot {
  svg: string;
  /** What vega-lite or vega warned about (a dropped encoding, an empty scale, ...). */
  warnings: string[];
}

/** One plot's SVG element, as text. */
export async function renderPlotSvg(plot: Plot): Promise<RenderedPlot> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  // Not in vega's typings: switch text measurement to the estimate (no canvas).
  (vega as unknown as { textMetrics?: VegaTextMetrics }).textMetrics?.canvas?.(false);
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const compiled = vegaLite.compile(plot.spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger });
  try {
    const svg = scopeSvg(await view.toSVG(), plot.id).replace(
      /^<svg /,
      `<svg role="img" aria-label="${escapeAttribute(plot.title)}" `,
    );
    return { svg, warnings };
  } finally {
    view.finalize();
  }
}

function escapeAttribute(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}

/** A logger that keeps warnings and errors as lines and drops the rest. */
function collectingLogger(lines: string[]): LoggerInterface {
  let level = 2;
  const keep = (...args: readonly unknown[]) => {
    lines.push(args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "));
  };
  const logger = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error(...args: readonly unknown[]) {
      keep(...args);
      return logger;
    },
    warn(...args: readonly unknown[]) {
      keep(...args);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as LoggerInterface;
}

/**
 * Renumbers the SVG's ids as `<prefix>-1`, `<prefix>-2`, … in order of
 * first appearance (references through `url(#…)` and `href="#…"` follow),
 * and drops the root's namespace declarations.
 */
export function scopeSvg(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\sid="([^"]+)"/g)) {
    const id = match[1] as string;
    if (!ids.has(id)) ids.set(id, `${prefix}-${ids.size + 1}`);
  }
  const renamed = (id: string) => ids.get(id) ?? id;
  return svg
    .replace(/^<svg xmlns="[^"]*"( xmlns:xlink="[^"]*")?/, "<svg")
    .replace(/(\sid=")([^"]+)"/g, (_, head: string, id: string) => `${head}${renamed(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${renamed(id)})`)
    .replace(/(href=")#([^"]+)"/g, (_, head: string, id: string) => `${head}#${renamed(id)}"`);
}
