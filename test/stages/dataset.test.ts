import assert from "node:assert/strict";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { DatasetManifest } from "../../src/datasets/artifacts.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import { packageRoot } from "../../src/project-paths.js";
import { createDatasetStage } from "../../src/stages/dataset.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const subset = join(packageRoot, "data", "cifar10-subset");
const recipe = (extra = "") => `seed: 5
dataset:
  format: cifar10-binary
  path: ${subset}
  train_limit: 100
  test_limit: 40
  validation_fraction: 0.2
  input_resolution_px: 16
${extra}search_space:
  stages: [{ block: mbv2, channels: 8 }]
`;

const stages = () => [
  {
    name: "dataset",
    description: "dataset",
    upstream: [],
    ...createDatasetStage({ backend: "auto" }),
  },
];

async function build(ws: TestWorkspace) {
  const events: BuildEvent[] = [];
  const result = await buildProject(await openProject({ cwd: ws.root, createStages: stages }), {
    onEvent: (event) => events.push(event),
  });
  return { result, events };
}

describe("dataset stage", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace(recipe());
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  test("splits, resizes and packs the recipe's images", async () => {
    const { result } = await build(ws);
    assert.deepEqual(result.outcomes, { dataset: "built" });
    const manifest = JSON.parse(
      await ws.read("build/test/dataset/manifest.json"),
    ) as DatasetManifest;
    assert.deepEqual(manifest.image, { height: 16, width: 16, channels: 3 });
    // Stratified: a fifth of each class, rounded per class.
    assert.equal(
      (manifest.splits.train?.count ?? 0) + (manifest.splits.validation?.count ?? 0),
      100,
    );
    assert.ok(Math.abs((manifest.splits.validation?.count ?? 0) - 20) <= 5);
    assert.equal(manifest.splits.test?.count, 40);
    assert.equal(manifest.seed, 5);
    assert.equal(manifest.classNames[0], "airplane");
  });

  test("a wrong checksum in the recipe fails the stage and names the file", async () => {
    await ws.write(
      "recipes/test.yaml",
      recipe(`  sha256: { data_batch_1.bin: "${"0".repeat(64)}" }\n`),
    );
    const { result, events } = await build(ws);
    assert.deepEqual(result.outcomes, { dataset: "failed" });
    const failure = events.find((event) => event.type === "stage-failed");
    assert.match(failure?.type === "stage-failed" ? failure.error : "", /data_batch_1\.bin/);
  });

  test("an empty test_batch.bin fails the stage naming the file, before any accuracy of 0 / 0", async () => {
    const copy = join(ws.root, "cifar-empty-test");
    await ws.write("cifar-empty-test/test_batch.bin", "");
    await copyFile(join(subset, "batches.meta.txt"), join(copy, "batches.meta.txt"));
    const train = await readFile(join(subset, "data_batch_1.bin"));
    await writeFile(join(copy, "data_batch_1.bin"), train.subarray(0, 100 * 3073));
    await ws.write("recipes/test.yaml", recipe().replace(subset, copy));
    const { result, events } = await build(ws);
    assert.deepEqual(result.outcomes, { dataset: "failed" });
    const failure = events.find((event) => event.type === "stage-failed");
    assert.match(
      failure?.type === "stage-failed" ? failure.error : "",
      /cifar-empty-test\/test_batch\.bin: empty file, expected 3073-byte CIFAR-10 records/,
    );
  });
});
