/**
 * The space-search stage in the real pipeline (dataset → space-search →
 * supernas), on a tiny recipe: a `supernas` section gets a space chosen and
 * written as JSON, as a YAML block that pastes into a recipe, and with every
 * candidate's score; pasting it in place of the section hands the training
 * the same bytes, so the supernet is not retrained; a budget edit that keeps
 * the choice reruns only the scoring.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import { projectStatus } from "../../src/api/status.js";
import type { SearchSpaceConfig } from "../../src/config/types.js";
import { createPipelineThrough } from "../../src/pipeline/pipeline.js";
import { packageRoot } from "../../src/project-paths.js";
import type { SpaceSearchReport } from "../../src/stages/space-search.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const HEAD = `seed: 2
backend: wasm
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 128
  test_limit: 32
  validation_fraction: 0.25
  input_resolution_px: 16
`;
const TAIL = `sparsity:
  global_target: [0.25, 0.5]
  block_sizes: [1, 4]
training:
  supernas: { epochs: 1, batch_size: 32, learning_rate: 0.01 }
`;
const SECTION = `supernas:
  candidates: 3
  samples_per_space: 4
  choices_per_field: 1
  stem: { channels: [8, 12] }
  stages:
    - { blocks: [mbv2, resnet], channels: [8, 12, 16], stride: 2 }
`;

const stages = () => createPipelineThrough({ backend: "wasm" }, "supernas");

describe("space-search stage", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(`${HEAD}${SECTION}${TAIL}`);
  });
  after(async () => {
    await ws.cleanup();
  });
  const build = async (overrides: string[] = []) =>
    buildProject(await openProject({ cwd: ws.root, createStages: stages, overrides }));

  test("chooses a space, writes it three ways; pasted into the recipe, the supernet is reused", async () => {
    const first = await build();
    assert.deepEqual(first.outcomes, {
      dataset: "built",
      "space-search": "built",
      supernas: "built",
    });
    const chosen = JSON.parse(
      await ws.read("build/test/space-search/search-space.json"),
    ) as SearchSpaceConfig;
    const report = JSON.parse(
      await ws.read("build/test/space-search/space-search.json"),
    ) as SpaceSearchReport;
    assert.equal(report.mode, "chosen");
    assert.equal(report.candidates?.length, 3);
    const best = Math.max(...(report.candidates ?? []).map((c) => c.score.score));
    const picked = report.candidates?.[report.chosen?.index ?? -1];
    assert.equal(picked?.score.score, best);
    assert.deepEqual(picked?.space, chosen);
    const status = await projectStatus(await openProject({ cwd: ws.root, createStages: stages }));
    assert.deepEqual(status.space, {
      candidate: report.chosen?.index,
      candidates: 3,
      reason: report.chosen?.reason,
      file: "build/test/space-search/search-space.yaml",
    });
    const yaml = await ws.read("build/test/space-search/search-space.yaml");
    assert.match(yaml, /^# Chosen by supernas: candidate space \d of 3,$/m);
    assert.deepEqual(parse(yaml), { search_space: chosen });

    // The user pastes the block in place of the section: same space, same training.
    await ws.write("recipes/test.yaml", `${HEAD}${yaml}${TAIL}`);
    const pasted = await build();
    assert.equal(pasted.outcomes["space-search"], "built");
    assert.equal(pasted.outcomes.supernas, "cached");
    const given = JSON.parse(
      await ws.read("build/test/space-search/space-search.json"),
    ) as SpaceSearchReport;
    assert.equal(given.mode, "given");
    const after = await projectStatus(await openProject({ cwd: ws.root, createStages: stages }));
    assert.equal(after.space, undefined, "the recipe gives its space now");
  });

  test("a budget edit that keeps the choice reruns the scoring only", async () => {
    await ws.write("recipes/test.yaml", `${HEAD}${SECTION}${TAIL}`);
    assert.equal((await build()).outcomes["space-search"], "cached");
    const edited = await build(["search.latency_budget_instructions=900000000"]);
    assert.equal(edited.outcomes["space-search"], "built");
    assert.equal(edited.outcomes.supernas, "cached");
  });
});
