/**
 * The `report` stage: report.json (schemas/report.schema.json) from the
 * outputs of quantize, sparsenas, finetune, codegen, compile-target and
 * verify-target,
 * checked against its schema. The CLI prints its summary after every build
 * (cached or not).
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
import { CODEGEN_SUMMARY } from "./codegen.js";
import type { StageFactory } from "./index.js";

export const REPORT_FILE = "report.json";

export const createReportStage: StageFactory = () => ({
  implementation: import.meta.url,
  // board.compiler: whether each prediction's tables were measured with these flags.
  configKeys: ["name", "board.name", "board.clock_hz", "board.compiler"],
  async run(context) {
    const [{ assembleReport }, { validateReport }, { predictionFromEstimate, readPrediction }] =
      await Promise.all([
        import("../report/assemble-report.js"),
        import("../report/validate-report.js"),
        import("../report/predictions.js"),
      ]);
    const json = async (stage: string, file: string) =>
      JSON.parse(await readFile(upstreamPath(context, stage, file), "utf8")) as never;
    const quantize = (await json("quantize", "quantize.json")) as { accuracy: never };
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
    });
    const problems = await validateReport(report);
    if (problems.length > 0)
      throw new Error(`report.json does not match its schema:\n${problems.join("\n")}`);
    await writeFile(join(context.outDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    // The CLI prints the full summary after the build, cached or not.
    context.progress(
      `INT8 accuracy ${(100 * report.accuracy.int8).toFixed(1)} %, flash ${report.memory.flash.used_bytes} B, SRAM ${report.memory.sram.used_bytes} B, ${report.performance.instructions_per_inference} instructions per inference`,
    );
  },
});

function upstreamPath(context: StageContext, stage: string, file: string): string {
  const upstream = context.upstream.get(stage);
  if (upstream === undefined)
    throw new Error(`the report stage needs the ${stage} stage's outputs`);
  return upstream.path(file);
}
