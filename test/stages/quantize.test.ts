/** The quantize stage between the real dataset stage and a float model standing in for finetune. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import { loadDatasetArtifacts } from "../../src/datasets/artifacts.js";
import { argmax, floatImage } from "../../src/evaluation/evaluation-images.js";
import { runFloat, runInt8 } from "../../src/interpreter/run.js";
import { loadModel } from "../../src/model-ir/io.js";
import { packageRoot } from "../../src/project-paths.js";
import { quantizeInput } from "../../src/quantize/quantize-model.js";
import type { QuantizeReport } from "../../src/stages/quantize.js";
import { createSampleModelPipeline } from "../helpers/sample-model-pipeline.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const RECIPE = `seed: 3
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 48
  test_limit: 24
  validation_fraction: 0.25
search_space:
  stages: [{ block: mbv2, channels: 8 }]
quantization:
  calibration_images: 16
`;

const stages = () => createSampleModelPipeline(["quantize"]);

describe("quantize stage", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  test("writes the INT8 IR and float / INT8 accuracy; a recipe key it reads reruns it alone", async () => {
    const project = await openProject({ cwd: ws.root, createStages: stages });
    const result = await buildProject(project);
    assert.deepEqual(result.outcomes, { dataset: "built", finetune: "built", quantize: "built" });
    const report = JSON.parse(await ws.read("build/test/quantize/quantize.json")) as QuantizeReport;
    assert.equal(report.accuracy.images, 24);
    assert.equal(report.accuracy.split, "test");
    assert.ok(report.accuracy.float >= 0 && report.accuracy.float <= 1);
    // Same random network, same images: INT8 decisions follow the float ones closely.
    assert.ok(
      Math.abs(report.accuracy.int8 - report.accuracy.float) <= 0.25,
      JSON.stringify(report.accuracy),
    );
    // The confusion matrices count every evaluated image; their diagonals are the accuracies.
    for (const model of ["float", "int8"] as const) {
      const matrix = report.confusion[model];
      assert.equal(matrix.length, report.confusion.classNames.length);
      const total = matrix.flat().reduce((sum, n) => sum + n, 0);
      const correct = matrix.reduce((sum, row, i) => sum + (row[i] ?? 0), 0);
      assert.equal(total, report.accuracy.images);
      assert.equal(correct / total, report.accuracy[model]);
    }
    assert.equal(report.calibration.images, 16);
    assert.ok(report.layers.length > 10);
    assert.ok(
      report.layers.every((layer) => layer.cosine > 0.9),
      "every layer tracks its float twin",
    );
    const graph = JSON.parse(await ws.read("build/test/quantize/model-int8.json")) as {
      precision: string;
    };
    assert.equal(graph.precision, "int8");

    // The INT8 figures are the interpreter's (the C engine's) image by image;
    // the float ones the interpreter's float forward's up to float rounding.
    const dataset = await loadDatasetArtifacts(join(ws.root, "build/test/dataset"));
    const test = dataset.splits.test;
    assert.ok(test !== undefined);
    const load = async (path: string) => {
      const loaded = await loadModel(join(ws.root, path));
      assert.ok(loaded.ok);
      return loaded.model;
    };
    const int8Model = await load("build/test/quantize/model-int8");
    const floatModel = await load("build/test/finetune/model");
    const set = {
      images: test.images,
      count: report.accuracy.images,
      pixels: test.height * test.width * test.channels,
      channels: test.channels,
      normalization: project.recipe.recipe.dataset.normalization,
    };
    const int8Matrix = report.confusion.classNames.map(() =>
      report.confusion.classNames.map(() => 0),
    );
    let floatCorrect = 0;
    for (let i = 0; i < set.count; i++) {
      const label = test.labels[i] as number;
      const input = floatImage(set, i);
      const predicted = argmax(runInt8(int8Model, quantizeInput(int8Model, input)).outputs[0]);
      (int8Matrix[label] as number[])[predicted] =
        ((int8Matrix[label] as number[])[predicted] as number) + 1;
      if (argmax(runFloat(floatModel, input).outputs[0]) === label) floatCorrect++;
    }
    assert.deepEqual(report.confusion.int8, int8Matrix);
    assert.ok(Math.abs(floatCorrect / set.count - report.accuracy.float) <= 1 / set.count);

    const events: string[] = [];
    const again = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages,
        overrides: ["quantization.activation_range=percentile"],
      }),
      { onEvent: (event) => event.type === "stage-start" && events.push(event.stage) },
    );
    assert.deepEqual(events, ["quantize"]);
    assert.equal(again.outcomes.dataset, "cached");
    const percentile = JSON.parse(
      await readFile(join(ws.root, "build/test/quantize/quantize.json"), "utf8"),
    ) as QuantizeReport;
    assert.equal(percentile.calibration.method, "percentile");
  });
});
