/**
 * The `codegen` stage: renders the INT8 model IR from `quantize` into the
 * SparseEngine C program (src/codegen): tf_model.h (API), tf_model.c
 * (arena, constants, one kernel call per layer), the kernels it uses and
 * their headers, and codegen.json (arena vs. live-set lower bound and
 * every buffer's offset, size and lifetime; kernel,
 * MACs and weight bytes per layer, and the resource evaluator's estimate of
 * flash, SRAM and instructions: src/resources).
 *
 * Inputs:  quantize/model-int8.json + model-int8.bin; templates/c/include,
 *          kernels, model, cost-model.json and footprint.json: editing one
 *          reruns codegen
 * Outputs: tf_model.h, tf_model.c, include/*.h, kernels/*.c, codegen.json
 */

import { join } from "node:path";
import { CODEGEN_SUMMARY_FILE } from "../codegen/summary-file.js";
import type { StageContext } from "../graph-runner/stage.js";
import { byteCount } from "../report/number-format.js";
import { cTemplatesDir } from "../toolchain/c-sources.js";
import type { StageFactory } from "./index.js";
import { INT8_MODEL_STEM } from "./quantize.js";

export const CODEGEN_SUMMARY = CODEGEN_SUMMARY_FILE;

export const createCodegenStage: StageFactory = () => ({
  implementation: import.meta.url,
  // Recorded in codegen.json beside the board the cost model was measured
  // on; the kernels choose their DSP or portable path from the target flags.
  // The resource estimate codegen.json carries is the tables' board's: the
  // report checks it against the board (a board edit must not rerun codegen
  // and, through codegen.json, the host build).
  configKeys: ["board.core", "board.dsp"],
  fileInputs: () =>
    ["include", "kernels", "model", "cost-model.json", "footprint.json"].map((p) =>
      join(cTemplatesDir, p),
    ),
  async run(context) {
    const [
      { loadModel },
      { generateModelCode, writeGeneratedFiles },
      { loadCostModel },
      { loadFootprintTable },
    ] = await Promise.all([
      import("../model-ir/index.js"),
      import("../codegen/index.js"),
      import("../sparse-engine/cost-model.js"),
      import("../resources/footprint-table.js"),
    ]);
    const quantized = await linkUpstream(context, "quantize");
    const loaded = await loadModel(join(quantized, INT8_MODEL_STEM));
    if (!loaded.ok) {
      const issues = loaded.issues.map((issue) => `  ${issue.path}: ${issue.message}`);
      throw new Error(`quantize produced an invalid INT8 model:\n${issues.join("\n")}`);
    }
    const program = await generateModelCode(loaded.model, {
      costModel: loadCostModel(join(cTemplatesDir, "cost-model.json")),
      footprint: loadFootprintTable(join(cTemplatesDir, "footprint.json")),
      target: {
        core: context.config["board.core"] as string,
        dsp: context.config["board.dsp"] as boolean,
      },
    });
    await writeGeneratedFiles(context.outDir, program.files);
    const { arena, totals } = program.summary;
    context.progress(
      `${totals.layers} layers (${totals.sparseLayers} sparse), arena ${byteCount(arena.bytes)} ` +
        `(lower bound ${byteCount(arena.lowerBoundBytes)}), weights ${byteCount(totals.weightBytes)}`,
      { arenaBytes: arena.bytes, lowerBoundBytes: arena.lowerBoundBytes },
    );
  },
});

export async function linkUpstream(context: StageContext, stage: string): Promise<string> {
  const upstream = context.upstream.get(stage);
  if (upstream === undefined)
    throw new Error(`the ${context.stage} stage needs the ${stage} stage's outputs`);
  return upstream.linkInto(join(context.scratchDir, stage));
}
