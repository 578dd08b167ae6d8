/**
 * codegen → compile-host → verify-host after the real dataset and quantize
 * stages, with a fixed float model standing in for finetune.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { CodegenSummary } from "../../src/codegen/index.js";
import { packageRoot } from "../../src/project-paths.js";
import { createCodegenStage } from "../../src/stages/codegen.js";
import type { VerifyHostReport } from "../../src/stages/verify-host.js";
import { createSampleModelPipeline } from "../helpers/sample-model-pipeline.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const RECIPE = `seed: 3
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 24
  test_limit: 8
  validation_fraction: 0.25
search_space:
  stages: [{ block: mbv2, channels: 8 }]
quantization:
  calibration_images: 4
  evaluation_images: 4
verification:
  host_images: 6
`;

const stages = () =>
  createSampleModelPipeline(["quantize", "codegen", "compile-host", "verify-host"]);

test("codegen reads the kernel library and the model templates, so editing them reruns it", () => {
  const inputs = createCodegenStage({ backend: "auto" }).fileInputs?.({}) ?? [];
  for (const dir of ["include", "kernels", "model", "cost-model.json", "footprint.json"])
    assert.ok(inputs.includes(join(packageRoot, "templates", "c", dir)), dir);
});

describe("codegen, compile-host and verify-host stages", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  test("generate, compile and verify the quantized model; verification keys rerun verify-host alone", async () => {
    const project = await openProject({ cwd: ws.root, createStages: stages });
    const result = await buildProject(project);
    assert.equal(result.outcomes["verify-host"], "built", JSON.stringify(result.outcomes));
    const summary = JSON.parse(await ws.read("build/test/codegen/codegen.json")) as CodegenSummary;
    assert.ok(summary.arena.bytes >= summary.arena.lowerBoundBytes);
    assert.deepEqual(summary.target, {
      core: "cortex-m7",
      dsp: true,
      costModelMeasuredOn: "stm32f746",
    });
    // The resource estimate on the arena codegen planned, with the tables'
    // board (the report checks it against the recipe's board).
    assert.equal(summary.estimate?.arenaBytes, summary.arena.bytes);
    assert.equal(summary.estimate?.tables.costModel.board, "stm32f746");
    assert.equal(summary.estimate?.tables.footprint.matchesBoard, null);
    assert.match(await ws.read("build/test/codegen/tf_model.h"), /#define TF_MODEL_ARENA_SIZE \d+/);
    assert.match(await ws.read("build/test/codegen/kernels/tf_unfold_s8.c"), /tf_unfold_s8/);
    const report = JSON.parse(
      await ws.read("build/test/verify-host/verify-host.json"),
    ) as VerifyHostReport;
    assert.deepEqual(report, { images: 6, split: "test", equal: true, outputBytes: 10 });

    const events: string[] = [];
    const again = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages,
        overrides: ["verification.host_images=3"],
      }),
      { onEvent: (event) => event.type === "stage-start" && events.push(event.stage) },
    );
    assert.deepEqual(events, ["verify-host"]);
    assert.equal(again.outcomes["compile-host"], "cached");
    const fewer = JSON.parse(
      await ws.read("build/test/verify-host/verify-host.json"),
    ) as VerifyHostReport;
    assert.equal(fewer.images, 3);
  });
});
