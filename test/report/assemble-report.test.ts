import assert from "node:assert/strict";
import { test } from "node:test";
import { assembleReport, type ReportInputs } from "../../src/report/assemble-report.js";
import { validateReport } from "../../src/report/validate-report.js";

const INPUTS: ReportInputs = {
  recipe: "default",
  board: { name: "stm32f746", clock_hz: 216_000_000 },
  accuracy: { float: 0.309, int8: 0.316, images: 1000, split: "test" },
  prunedLayers: [
    {
      name: "stem",
      target: 0,
      achieved: 0,
      blockSize: null,
      blocks: 0,
      prunedBlocks: 0,
      weights: 432,
      denseReason: "first-conv layer",
    },
    {
      name: "block.expand",
      target: 0.5,
      achieved: 0.5,
      blockSize: 16,
      blocks: 32,
      prunedBlocks: 16,
      weights: 512,
    },
    {
      name: "classifier",
      target: 0,
      achieved: 0,
      blockSize: null,
      blocks: 0,
      prunedBlocks: 0,
      weights: 320,
      denseReason: "classifier",
    },
  ],
  codegen: {
    arena: { bytes: 50_944, lowerBoundBytes: 50_944, alignment: 16 },
    totals: { layers: 4, macs: 1_000_000, weightBytes: 1100, sparseLayers: 1 },
    layers: [
      {
        index: 0,
        op: "stem",
        type: "conv2d",
        kernel: "tf_conv_kxk_s8",
        macs: 442_368,
        weightBytes: 432,
        scratchBytes: 0,
        outputOffset: 0,
        inPlace: false,
      },
      {
        index: 1,
        op: "block.expand",
        type: "conv2d",
        kernel: "tf_conv_1x1_sparse_s8",
        macs: 524_288,
        weightBytes: 336,
        scratchBytes: 0,
        outputOffset: 0,
        inPlace: false,
      },
      {
        index: 2,
        op: "gap",
        type: "global_avg_pool",
        kernel: "tf_global_avg_pool_s8",
        macs: 0,
        weightBytes: 0,
        scratchBytes: 0,
        outputOffset: 0,
        inPlace: false,
      },
      {
        index: 3,
        op: "classifier",
        type: "linear",
        kernel: "tf_linear_s8",
        macs: 320,
        weightBytes: 320,
        scratchBytes: 0,
        outputOffset: 0,
        inPlace: false,
      },
    ],
  },
  outputShapes: new Map([
    ["stem", [1, 32, 32, 16]],
    ["block.expand", [1, 32, 32, 32]],
    ["gap", [1, 32]],
    ["classifier", [1, 10]],
  ]),
  link: {
    board: "stm32f746",
    sections: { text_bytes: 20_000, rodata_bytes: 60_000, data_bytes: 100, bss_bytes: 53_000 },
    flash: { used_bytes: 80_100, budget_bytes: 983_040, margin_bytes: 902_940 },
    sram: { used_bytes: 53_100, budget_bytes: 311_296, margin_bytes: 258_196 },
  },
  run: {
    images: 5,
    instructions_per_inference: 2_160_000,
    layer_instructions: [1_400_000, 700_000, 20_000, 3_800],
  },
  predictions: [
    {
      source: "codegen",
      flashBytes: 81_000,
      sramBytes: 53_100,
      instructions: 2_052_000,
      layerInstructions: new Map([
        ["stem", 1_330_000],
        ["block.expand", 686_000],
        ["gap", 20_200],
        ["classifier", 3_700],
      ]),
      tablesMatchBoard: true,
    },
    {
      source: "sparsenas",
      flashBytes: 79_299,
      sramBytes: 53_100,
      instructions: 2_376_000,
      tablesMatchBoard: false,
    },
  ],
};

test("report.json from the stages' outputs: totals, executed MACs, latency, per-layer rows; valid against the schema", async () => {
  const report = assembleReport(INPUTS);
  assert.deepEqual(report.model, {
    parameters: 1264,
    nonzero_parameters: 1264 - 256,
    macs: 1_000_000,
    executed_macs: 442_368 + 262_144 + 0 + 320,
  });
  assert.equal(report.performance.estimated_latency_ms, 10);
  assert.deepEqual(report.layers[1], {
    name: "block.expand",
    kind: "conv2d",
    output_shape: [1, 32, 32, 32],
    macs: 524_288,
    sparsity: 0.5,
    block_size: 16,
    kernel: "tf_conv_1x1_sparse_s8",
    weight_bytes: 336,
    instructions: 700_000,
    predicted_instructions: 686_000,
  });
  // Each prediction beside the measured figures, codegen's first.
  assert.deepEqual(
    report.predictions.map((p) => [
      p.source,
      Math.round(1e4 * p.flash_error) / 1e4,
      p.sram_error,
      Math.round(1e4 * p.instructions_error) / 1e4,
      p.tables_match_board,
    ]),
    [
      ["codegen", 0.0112, 0, -0.05, true],
      ["sparsenas", -0.01, 0, 0.1, false],
    ],
  );
  assert.equal(report.layers[0]?.block_size, undefined);
  assert.equal(report.memory.arena_bytes, 50_944);
  assert.deepEqual(await validateReport(report), []);
  assert.notDeepEqual(await validateReport({ ...report, layers: [{ name: "x" }] }), []);
});
