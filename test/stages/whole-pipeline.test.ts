/**
 * All ten real stages on a tiny recipe (16x16 images, a few hundred of them,
 * one epoch each): the model is trained, pruned, quantized, generated,
 * verified byte for byte on the host and under QEMU, linked against the
 * board's budgets and reported, with codegen's resource prediction beside
 * the measured figures. Then the invalidation precision of a board
 * edit: shrinking the SRAM budget reruns only what reads the memory map.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import type { BuildReport } from "../../src/report/types.js";
import { validateReport } from "../../src/report/validate-report.js";
import { createTestWorkspace, type TestWorkspace, TINY_RECIPE } from "../helpers/workspace.js";
import { plotFigures, SEARCH_RECIPE_PLOTS } from "../report/page-fixture.js";

describe("the whole pipeline on a tiny recipe", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(TINY_RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  const build = async () => {
    const started: string[] = [];
    const failures: string[] = [];
    const progress: string[] = [];
    const result = await buildProject(await openProject({ cwd: ws.root }), {
      onEvent: (event: BuildEvent) => {
        if (event.type === "stage-start") started.push(event.stage);
        if (event.type === "stage-failed") failures.push(`${event.stage}: ${event.error}`);
        if (event.type === "stage-progress") progress.push(`${event.stage}: ${event.message}`);
      },
    });
    return { result, started, failures, progress };
  };

  test("every stage runs, the C is bit-exact on host and target, and the report is valid", async () => {
    const { result, failures, progress } = await build();
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
    // report.html beside it: every plot but the search's, which a fixed network has none of.
    const html = await ws.read("build/test/report/report.html");
    assert.deepEqual(
      plotFigures(html).map((figure) => figure.id),
      SEARCH_RECIPE_PLOTS.map((plot) => plot.id).filter((id) => !id.startsWith("search-")),
    );
    assert.match(html, /No search plots: this build did not search/);
    assert.deepEqual(
      progress.filter((line) => line.startsWith("report: report.html")),
      [],
      "no plot warnings",
    );
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
