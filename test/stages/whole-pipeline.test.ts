/**
 * All ten real stages on a tiny recipe (16x16 images, a few hundred of them,
 * one epoch each): the model is trained, pruned, quantized, generated,
 * verified byte for byte on the host and under QEMU, linked against the
 * board's budgets and reported, with codegen's resource prediction beside
 * the measured figures. Then the invalidation precision of a board
 * edit: shrinking the SRAM budget reruns only what reads the memory map.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import { packageRoot } from "../../src/project-paths.js";
import type { BuildReport } from "../../src/report/types.js";
import { validateReport } from "../../src/report/validate-report.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const RECIPE = `seed: 3
backend: wasm
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 256
  test_limit: 64
  validation_fraction: 0.25
  input_resolution_px: 16
search_space:
  stem: { channels: 8, stride: 1 }
  stages:
    - { block: mbv2, depth: 1, channels: 16, expansion: 2, kernel_size: 3, stride: 2 }
sparsity:
  global_target: 0.5
training:
  supernas: { epochs: 1, batch_size: 32, learning_rate: 0.01 }
  sparsenas: { epochs: 1, batch_size: 32, learning_rate: 0.005, ramp_fraction: 0.5 }
quantization:
  calibration_images: 16
verification:
  host_images: 8
  target_images: 2
`;

describe("the whole pipeline on a tiny recipe", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  const build = async () => {
    const started: string[] = [];
    const failures: string[] = [];
    const result = await buildProject(await openProject({ cwd: ws.root }), {
      onEvent: (event: BuildEvent) => {
        if (event.type === "stage-start") started.push(event.stage);
        if (event.type === "stage-failed") failures.push(`${event.stage}: ${event.error}`);
      },
    });
    return { result, started, failures };
  };

  test("every stage runs, the C is bit-exact on host and target, and the report is valid", async () => {
    const { result, failures } = await build();
    assert.deepEqual(failures, []);
    assert.ok(
      Object.values(result.outcomes).every((outcome) => outcome === "built"),
      JSON.stringify(result.outcomes),
    );
    const report = JSON.parse(await ws.read("build/test/report/report.json")) as BuildReport;
    assert.deepEqual(await validateReport(report), []);
    assert.equal(report.board, "stm32f746");
    assert.ok(report.performance.instructions_per_inference > 0);
    assert.ok(report.memory.flash.used_bytes > 0 && report.memory.flash.margin_bytes > 0);
    assert.ok(report.memory.sram.used_bytes >= (report.memory.arena_bytes ?? 0));
    assert.ok(report.model.nonzero_parameters < report.model.parameters);
    assert.ok(report.layers.some((layer) => layer.kernel.includes("sparse")));
    // Codegen's prediction for this trained, pruned model beside the measurements.
    const [codegen] = report.predictions;
    assert.equal(codegen?.source, "codegen");
    assert.equal(codegen?.tables_match_board, true);
    assert.equal(codegen?.sram_error, 0);
    assert.ok(Math.abs(codegen?.flash_error ?? 1) <= 0.02, JSON.stringify(codegen));
    assert.ok(Math.abs(codegen?.instructions_error ?? 1) <= 0.1, JSON.stringify(codegen));
    assert.ok(report.layers.every((layer) => layer.instructions !== undefined));
  });

  test("a smaller SRAM budget reruns compile-target and what follows it, nothing else", async () => {
    const board = await ws.read("boards/stm32f746.yaml");
    await ws.write(
      "boards/stm32f746.yaml",
      board.replace("reserved_bytes: 16384", "reserved_bytes: 20480"),
    );
    const { started, failures } = await build();
    assert.deepEqual(failures, []);
    assert.deepEqual(started, ["compile-target", "verify-target", "report"]);
    const report = JSON.parse(await ws.read("build/test/report/report.json")) as BuildReport;
    assert.equal(report.memory.sram.budget_bytes, 327_680 - 20_480);
  });
});
