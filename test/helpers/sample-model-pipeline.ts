/**
 * The real pipeline's stages from quantize on, fed by a fixed float model (a
 * small MobileViT-style sample) standing in for the trained and pruned one,
 * so tests of the later stages need no training.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StageDefinition } from "../../src/graph-runner/stage.js";
import { renderModelJson } from "../../src/model-ir/io.js";
import { createPipeline } from "../../src/pipeline/pipeline.js";
import { buildMobileVitSample } from "../support/sample-models.js";

const sampleFinetune: StageDefinition = {
  name: "finetune",
  description: "a fixed float model standing in for the searched one",
  upstream: [],
  implementation: import.meta.url,
  configKeys: [],
  async run(context) {
    const model = buildMobileVitSample({ dim: 32, heads: 2, layers: 1, resolution: 32 });
    await writeFile(join(context.outDir, "model.json"), renderModelJson(model));
    await writeFile(join(context.outDir, "model.bin"), model.blob);
  },
};

/** `dataset`, the sample `finetune`, and the named real stages (which must depend on nothing else). */
export function createSampleModelPipeline(stages: readonly string[]): StageDefinition[] {
  const keep = new Set(["dataset", ...stages]);
  return [
    ...createPipeline({ backend: "auto" }).filter((stage) => stage.name === "dataset"),
    sampleFinetune,
    ...createPipeline({ backend: "auto" }).filter(
      (stage) => keep.has(stage.name) && stage.name !== "dataset",
    ),
  ];
}
