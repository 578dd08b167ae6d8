/**
 * dataset → supernas → sparsenas → finetune → quantize with the real stages on a tiny
 * fixed network (16x16 images, a few hundred of them, one epoch each), and
 * the invalidation precision of the training stages' keys.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { StageDefinition } from "../../src/graph-runner/stage.js";
import { readTensorData } from "../../src/model-ir/blob.js";
import { loadModel } from "../../src/model-ir/io.js";
import type { Model } from "../../src/model-ir/types.js";
import { createPipelineThrough } from "../../src/pipeline/pipeline.js";
import type { FinetuneReport } from "../../src/stages/finetune.js";
import type { QuantizeReport } from "../../src/stages/quantize.js";
import type { SupernasReport } from "../../src/stages/supernas.js";
import { createTestWorkspace, type TestWorkspace, TINY_RECIPE } from "../helpers/workspace.js";

/** The tiny recipe, with one layer pruned harder than the rest. */
const RECIPE = TINY_RECIPE.replace(
  "  global_target: 0.5\n",
  "  global_target: 0.5\n  per_layer: { stage0.block0.project: 0.75 }\n",
);

const stages = (): StageDefinition[] => createPipelineThrough({ backend: "wasm" }, "quantize");

async function loadValid(stem: string): Promise<Model> {
  const loaded = await loadModel(stem);
  if (!loaded.ok) assert.fail(JSON.stringify(loaded.issues));
  return loaded.model;
}

/** Indices of the all-zero blocks of a weight. */
function zeroBlocks(values: ArrayLike<number>, blockSize: number): number[] {
  const zero: number[] = [];
  for (let block = 0; block * blockSize < values.length; block++) {
    let all = true;
    for (let i = block * blockSize; i < (block + 1) * blockSize; i++)
      if (values[i] !== 0) all = false;
    if (all) zero.push(block);
  }
  return zero;
}

describe("training stages, end to end", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  test("trains, prunes exactly and quantizes; a sparsity edit reruns sparsenas, finetune and quantize only; retraining cuts off early", async () => {
    const progress: Record<string, unknown>[] = [];
    const result = await buildProject(await openProject({ cwd: ws.root, createStages: stages }), {
      onEvent: (event) => {
        if (event.type === "stage-progress" && event.stage === "supernas" && event.data)
          progress.push(event.data);
      },
    });
    assert.deepEqual(result.outcomes, {
      dataset: "built",
      "space-search": "built",
      supernas: "built",
      sparsenas: "built",
      finetune: "built",
      quantize: "built",
    });

    const supernas = JSON.parse(
      await ws.read("build/test/supernas/supernas.json"),
    ) as SupernasReport;
    assert.equal(supernas.backend.name, "wasm");
    assert.deepEqual(supernas.epochs, { planned: 1, completed: 1 });
    assert.equal(supernas.history.length, 1);
    assert.ok(supernas.parameters > 500);
    assert.ok(supernas.validationAccuracy !== null && supernas.validationAccuracy >= 0);
    assert.ok(ws.exists("build/test/supernas/checkpoint/checkpoint.json"));
    const epochEvent = progress.find((data) => "validationAccuracy" in data);
    assert.ok(epochEvent, "an epoch progress event with validation accuracy");
    assert.ok(progress.some((data) => typeof data.imagesPerSecond === "number"));

    const finetune = JSON.parse(
      await ws.read("build/test/finetune/finetune.json"),
    ) as FinetuneReport;
    const { before: accuracyBefore, after: accuracyAfter } = finetune.validationAccuracy;
    assert.ok(accuracyBefore !== null && accuracyAfter !== null);
    const pruned = finetune.layers.filter((layer) => layer.blockSize !== null);
    assert.deepEqual(
      pruned.map((layer) => [layer.name, layer.target, layer.blockSize]),
      [
        ["stage0.block0.expand", 0.5, 8],
        ["stage0.block0.depthwise", 0.5, 1],
        ["stage0.block0.project", 0.75, 16],
      ],
    );
    for (const layer of pruned) {
      assert.equal(layer.prunedBlocks, Math.round(layer.target * layer.blocks), layer.name);
      assert.equal(layer.achieved, layer.prunedBlocks / layer.blocks, layer.name);
    }
    for (const name of ["stem", "classifier"])
      assert.equal(finetune.layers.find((layer) => layer.name === name)?.blockSize, null);

    // The float model carries the zeros and block sizes; INT8 keeps every pruned block zero.
    const floatModel = await loadValid(join(ws.root, "build/test/finetune/model"));
    const int8Model = await loadValid(join(ws.root, "build/test/quantize/model-int8"));
    assert.equal(int8Model.graph.precision, "int8");
    for (const layer of pruned) {
      const blockSize = layer.blockSize as number;
      const floatTensor = floatModel.graph.tensors.find((t) => t.name === `${layer.name}.weight`);
      assert.ok(floatTensor);
      assert.equal(floatTensor.sparsity?.blockSize, blockSize);
      const floatZero = zeroBlocks(readTensorData(floatModel, floatTensor), blockSize);
      assert.equal(floatZero.length, layer.prunedBlocks, layer.name);
      const int8Tensor = int8Model.graph.tensors.find((t) => t.name === `${layer.name}.weight`);
      assert.ok(int8Tensor);
      assert.equal(int8Tensor.data?.encoding, "block-rle");
      const int8Zero = new Set(zeroBlocks(readTensorData(int8Model, int8Tensor), blockSize));
      assert.ok(
        floatZero.every((block) => int8Zero.has(block)),
        layer.name,
      );
    }
    const quantize = JSON.parse(
      await ws.read("build/test/quantize/quantize.json"),
    ) as QuantizeReport;
    assert.equal(quantize.accuracy.images, 64);
    assert.ok(quantize.accuracy.float >= 0 && quantize.accuracy.int8 >= 0);

    const started: string[] = [];
    const again = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages,
        overrides: ["sparsity.global_target=0.25"],
      }),
      { onEvent: (event) => event.type === "stage-start" && started.push(event.stage) },
    );
    assert.deepEqual(started, ["sparsenas", "finetune", "quantize"]);
    assert.equal(again.outcomes.dataset, "cached");
    assert.equal(again.outcomes.supernas, "cached");
    const repruned = JSON.parse(
      await ws.read("build/test/finetune/finetune.json"),
    ) as FinetuneReport;
    assert.equal(repruned.layers.find((l) => l.name === "stage0.block0.expand")?.target, 0.25);

    // Retraining gives byte-identical outputs (no timings in them): early cutoff below.
    const retrained = await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages,
        overrides: ["sparsity.global_target=0.25"],
      }),
      { force: ["supernas"] },
    );
    assert.equal(retrained.outcomes.supernas, "built");
    assert.equal(retrained.outcomes.sparsenas, "cached");
    assert.equal(retrained.outcomes.finetune, "cached");
    assert.equal(retrained.outcomes.quantize, "cached");
  });
});
