import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { packageRoot } from "../../src/project-paths.js";
import { renderReportSummary } from "../../src/report/render-summary.js";
import type { BuildReport } from "../../src/report/types.js";

const REPORT: BuildReport = {
  format: "tinyformer-report-2",
  recipe: "default",
  board: "stm32f746",
  accuracy: { float: 0.582, int8: 0.579, images: 1000, split: "test" },
  model: {
    parameters: 312_448,
    nonzero_parameters: 156_224,
    macs: 12_300_000,
    executed_macs: 7_100_000,
  },
  memory: {
    flash: { used_bytes: 412_340, budget_bytes: 983_040, margin_bytes: 570_700 },
    sram: { used_bytes: 330_000, budget_bytes: 311_296, margin_bytes: -18_704 },
    sections: { text_bytes: 10_212, rodata_bytes: 400_128, data_bytes: 2_000, bss_bytes: 328_000 },
    arena_bytes: 81_920,
    arena_lower_bound_bytes: 77_824,
  },
  performance: {
    instructions_per_inference: 14_200_000,
    clock_hz: 216_000_000,
    estimated_latency_ms: 65.74,
  },
  predictions: [
    {
      source: "codegen",
      flash_bytes: 410_000,
      sram_bytes: 330_000,
      instructions_per_inference: 13_900_000,
      flash_error: -2340 / 412_340,
      sram_error: 0,
      instructions_error: -300_000 / 14_200_000,
      tables_match_board: true,
    },
    {
      source: "sparsenas",
      flash_bytes: 420_000,
      sram_bytes: 331_000,
      instructions_per_inference: 15_000_000,
      flash_error: 7660 / 412_340,
      sram_error: 1000 / 330_000,
      instructions_error: 800_000 / 14_200_000,
      tables_match_board: false,
    },
  ],
  layers: [
    {
      name: "stem",
      kind: "conv2d",
      output_shape: [32, 32, 16],
      macs: 442_368,
      sparsity: 0,
      kernel: "tf_conv_kxk_s8",
      weight_bytes: 448,
      instructions: 1_531_989,
      predicted_instructions: 1_500_000,
    },
    {
      name: "stage1.expand",
      kind: "conv2d",
      output_shape: [16, 16, 64],
      macs: 262_144,
      sparsity: 0.75,
      block_size: 8,
      kernel: "tf_conv_1x1_sparse_s8",
      weight_bytes: 312,
    },
  ],
};

test("the report schema accepts what the report type describes", () => {
  const schema = JSON.parse(
    readFileSync(join(packageRoot, "schemas", "report.schema.json"), "utf8"),
  );
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
  assert.equal(validate(REPORT), true, JSON.stringify(validate.errors));
  assert.equal(validate({ ...REPORT, accuracy: { ...REPORT.accuracy, int8: 1.5 } }), false);
});

test("a space supernas chose gets a line after speed, and the schema accepts it", () => {
  const space = {
    chosen_by: "supernas" as const,
    candidate: 3,
    candidates: 12,
    reason: "the most compute in its feasible sub-networks",
  };
  const lines = renderReportSummary({ ...REPORT, space });
  assert.equal(
    lines[5],
    "  space    chosen by supernas: candidate 3 of 12 (the most compute in its feasible sub-networks)",
  );
  assert.ok(lines[4]?.startsWith("  speed "));
  assert.ok(!renderReportSummary(REPORT).some((line) => line.startsWith("  space ")));
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(
    JSON.parse(readFileSync(join(packageRoot, "schemas", "report.schema.json"), "utf8")),
  );
  assert.equal(validate({ ...REPORT, space }), true, JSON.stringify(validate.errors));
  assert.equal(validate({ ...REPORT, space: { ...space, chosen_by: "recipe" } }), false);
});

test("the terminal summary: headline numbers, an over-budget region called out, predictions beside them, a layer table", () => {
  assert.deepEqual(renderReportSummary(REPORT), [
    "  accuracy float 58.2 %, INT8 57.9 % (1,000 test images)",
    "  model    312,448 conv/linear weights, 156,224 non-zero (50.0 % pruned); 12.30 M MACs, 7.10 M executed",
    "  flash    412,340 / 983,040 B (margin 570,700 B): text 10,212, rodata 400,128, data 2,000",
    "  SRAM     330,000 / 311,296 B (OVER by 18,704 B): bss 328,000, data 2,000; arena 81,920 (lower bound 77,824)",
    "  speed    14.20 M instructions per inference, estimated 65.7 ms at 216 MHz",
    "  predicted flash 410,000 B (-0.6 %), SRAM 330,000 B (+0.0 %), 13.90 M instructions (-2.1 %) by codegen",
    "  predicted flash 420,000 B (+1.9 %), SRAM 331,000 B (+0.3 %), 15.00 M instructions (+5.6 %) by sparsenas (tables measured on another board or flags)",
    "  layer          kind    output       MACs  sparsity  block  kernel                 bytes     instr.  predicted",
    "  stem           conv2d  32x32x16  442,368     0.0 %      -  tf_conv_kxk_s8           448  1,531,989     -2.1 %",
    "  stage1.expand  conv2d  16x16x64  262,144    75.0 %      8  tf_conv_1x1_sparse_s8    312          -          -",
  ]);
});

test("with more than five layers the summary shows the five costliest; --layers shows them all", () => {
  const [template] = REPORT.layers;
  assert.ok(template !== undefined);
  const layers = Array.from({ length: 7 }, (_, i) => ({
    ...template,
    name: `layer${i}`,
    instructions: [50, 700, 300, 10, 900, 200, 400][i] as number,
  }));
  const report = { ...REPORT, layers };
  const names = (lines: string[]) =>
    lines.flatMap((line) =>
      /^ {2}(layer\d)\s/.exec(line)?.[1] ? [/^ {2}(layer\d)/.exec(line)?.[1]] : [],
    );
  const compact = renderReportSummary(report);
  assert.ok(
    compact.includes("  costliest 5 of 7 layers (all of them: tinyformer report --layers)"),
  );
  assert.deepEqual(names(compact), ["layer4", "layer1", "layer6", "layer2", "layer5"]);
  assert.deepEqual(names(renderReportSummary(report, { allLayers: true })), [
    "layer0",
    "layer1",
    "layer2",
    "layer3",
    "layer4",
    "layer5",
    "layer6",
  ]);
});
