/**
 * A realistic report page's data: assemblePageData's result for a real
 * build of the search-pipeline test's recipe (16x16 images; a searched
 * MobileNetV2 + MobileViT network of 43 layers on stm32f746; 18 candidates),
 * so the page tests need no build. Regenerate it by building that recipe and
 * passing its report.json, codegen.json, quantize.json, sparsenas.json,
 * search-log.jsonl and pareto.json to assemblePageData.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ReportPageData } from "../../src/report/page-data.js";

const FIXTURE = fileURLToPath(
  new URL("../../../test/report/fixtures/search-recipe-page.json", import.meta.url),
);

/** A fresh copy each call (tests edit it). */
export function searchRecipePage(): ReportPageData {
  return JSON.parse(readFileSync(FIXTURE, "utf8")) as ReportPageData;
}

/** The plots a page of this build has, by id, with their titles, in page order. */
export const SEARCH_RECIPE_PLOTS: readonly { id: string; title: string }[] = [
  { id: "layer-macs", title: "Multiply-accumulates per layer" },
  { id: "layer-instructions", title: "Instructions per layer: measured vs predicted" },
  { id: "layer-sparsity", title: "Weight sparsity and block size per layer" },
  { id: "arena-timeline", title: "Activation arena: buffer lifetimes and offsets" },
  { id: "flash-breakdown", title: "Flash breakdown" },
  { id: "accuracy", title: "Accuracy: float vs INT8" },
  { id: "confusion-matrix", title: "Confusion matrix (INT8)" },
  { id: "search-flash", title: "Search: accuracy vs predicted flash" },
  { id: "search-instructions", title: "Search: accuracy vs predicted instructions" },
];

/** Each plot figure of a page: its id and the markup inside it. */
export function plotFigures(html: string): { id: string; inner: string }[] {
  return [
    ...html.matchAll(/<figure class="plot" id="plot-([^"]+)" data-plot="\1">([\s\S]*?)<\/figure>/g),
  ].map((match) => ({ id: match[1] as string, inner: match[2] as string }));
}
