/**
 * The `report` stage: report.json (schemas/report.schema.json) from the
 * outputs of quantize, sparsenas, finetune, codegen, compile-target and
 * verify-target,
 * checked against its schema. The CLI prints its summary after every build
 * (cached or not).
 *
 * Beside it, report.html (src/report/render-html.ts): the same figures as a
 * self-contained page with plots drawn at build time, which also reads
 * codegen's arena plan, quantize's confusion matrices and, when the build
 * searched, sparsenas's search-log.jsonl and pareto.json. Its templates
 * (templates/report/) are file inputs: editing one reruns this stage.
 *
 * Predictions: codegen's resource estimate (codegen.json) is always set
 * beside the measured flash, SRAM and instructions; a prediction sparsenas
 * writes into sparsenas.json (under `resourceEstimate`, see
 * src/report/predictions.ts) is shown beside it when present.
 */

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CodegenSummary } from "../codegen/generate.js";
import type { BoardProfile } from "../config/types.js";
import type { StageContext } from "../graph-runner/stage.js";
import { templatesDir } from "../project-paths.js";
import { byteCount, integer, percent } from "../report/number-format.js";
import type { ConfusionData, PageInputs, SearchLogRecord } from "../report/page-data.js";
import type { BuildReport } from "../report/types.js";
import { CODEGEN_SUMMARY } from "./codegen.js";
import type { StageFactory } from "./index.js";

export const REPORT_FILE = "report.json";
export const REPORT_HTML = "report.html";

export const createReportStage: StageFactory = () => ({
  implementation: import.meta.url,
  // Of space-search, only its report: where the space came from.
  upstreamOutputs: { "space-search": ["space-search.json"] },
  // board.compiler: whether each prediction's tables were measured with these flags.
  configKeys: ["name", "board.name", "board.clock_hz", "board.compiler"],
  fileInputs: () => [join(templatesDir, "report")],
  async run(context) {
    const [
      { assembleReport },
      { validateReport },
      { predictionFromEstimate, readPrediction },
      { assemblePageData },
      { renderReportHtml },
    ] = await Promise.all([
      import("../report/assemble-report.js"),
      import("../report/validate-report.js"),
      import("../report/predictions.js"),
      import("../report/page-data.js"),
      import("../report/render-html.js"),
    ]);
    const json = async (stage: string, file: string) =>
      JSON.parse(await readFile(upstreamPath(context, stage, file), "utf8")) as never;
    const quantize = (await json("quantize", "quantize.json")) as {
      accuracy: never;
      confusion?: ConfusionData;
    };
    const finetune = (await json("finetune", "finetune.json")) as { layers: never };
    const sparsenas = (await json("sparsenas", "sparsenas.json")) as Record<string, unknown>;
    const codegen = (await json("codegen", CODEGEN_SUMMARY)) as CodegenSummary;
    if (codegen.estimate === undefined)
      throw new Error("codegen.json has no resource estimate (codegen ran without its tables)");
    const board = {
      name: context.config["board.name"] as string,
      compiler: context.config["board.compiler"] as BoardProfile["compiler"],
    };
    const searched = readPrediction("sparsenas", sparsenas, board);
    const graph = (await json("quantize", "model-int8.json")) as {
      tensors: { name: string; shape: number[] }[];
      ops: { name: string; outputs: string[] }[];
    };
    const shapes = new Map(graph.tensors.map((tensor) => [tensor.name, tensor.shape]));
    const report = assembleReport({
      recipe: context.config.name as string,
      board: {
        name: context.config["board.name"] as string,
        clock_hz: context.config["board.clock_hz"] as number,
      },
      accuracy: quantize.accuracy,
      prunedLayers: finetune.layers,
      codegen,
      outputShapes: new Map(
        graph.ops.map((op) => [op.name, shapes.get(op.outputs[0] ?? "") ?? []]),
      ),
      link: await json("compile-target", "compile-target.json"),
      run: await json("verify-target", "verify-target.json"),
      predictions: [
        predictionFromEstimate("codegen", codegen.estimate, board),
        ...(searched === undefined ? [] : [searched]),
      ],
      ...spaceOrigin(
        (await json("space-search", "space-search.json")) as {
          mode: string;
          chosen?: { index: number; reason: string };
          candidates?: unknown[];
        },
      ),
    });
    const problems = await validateReport(report);
    if (problems.length > 0)
      throw new Error(`report.json does not match its schema:\n${problems.join("\n")}`);
    await writeFile(join(context.outDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);

    const sparsenasFiles = context.upstream.get("sparsenas")?.files;
    // sparsenas's SEARCH_LOG and PARETO_FRONT, named here: importing that
    // module would make the search's code part of this stage's identity.
    const searchSummary = sparsenas.search as PageInputs["search"] | undefined;
    const searchLog =
      searchSummary !== undefined && sparsenasFiles?.has("search-log.jsonl")
        ? (await readFile(upstreamPath(context, "sparsenas", "search-log.jsonl"), "utf8"))
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => JSON.parse(line) as SearchLogRecord)
        : undefined;
    const pareto =
      searchSummary !== undefined && sparsenasFiles?.has("pareto.json")
        ? ((await json("sparsenas", "pareto.json")) as { index: number }[])
        : undefined;
    const page = assemblePageData({
      report,
      codegen,
      quantize,
      ...(searchSummary === undefined ? {} : { search: searchSummary }),
      ...(searchLog === undefined ? {} : { searchLog }),
      ...(pareto === undefined ? {} : { pareto }),
    });
    const { html, warnings } = await renderReportHtml(page);
    await writeFile(join(context.outDir, REPORT_HTML), html);
    for (const warning of warnings) context.progress(`${REPORT_HTML}: ${warning}`);
    // The CLI prints the full summary after the build, cached or not.
    context.progress(
      `INT8 accuracy ${percent(report.accuracy.int8)}, flash ${byteCount(report.memory.flash.used_bytes)}, SRAM ${byteCount(report.memory.sram.used_bytes)}, ${integer(report.performance.instructions_per_inference)} instructions per inference`,
    );
  },
});

function upstreamPath(context: StageContext, stage: string, file: string): string {
  const upstream = context.upstream.get(stage);
  if (upstream === undefined)
    throw new Error(`the report stage needs the ${stage} stage's outputs`);
  return upstream.path(file);
}

/** The report's `space` when supernas chose the search space (space-search.json, named here: importing that stage would make its code this one's). */
function spaceOrigin(spaceSearch: {
  mode: string;
  chosen?: { index: number; reason: string };
  candidates?: unknown[];
}): { space?: BuildReport["space"] } {
  if (spaceSearch.mode !== "chosen" || spaceSearch.chosen === undefined) return {};
  return {
    space: {
      chosen_by: "supernas",
      candidate: spaceSearch.chosen.index,
      candidates: spaceSearch.candidates?.length ?? 0,
      reason: spaceSearch.chosen.reason,
    },
  };
}
