import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { WeightLayerInfo, WeightLayerRole } from "../../src/blocks/types.js";
import {
  chooseBlockSize,
  resolvePruningPlan,
  type SparsityConfig,
} from "../../src/pruning/plan.js";

function fakeLayer(name: string, role: WeightLayerRole, rowLength: number): WeightLayerInfo {
  return {
    name,
    kind: "conv2d",
    role,
    prunable: role === "hidden",
    irShape: [4, rowLength],
    rowLength,
    variable: undefined as never,
    readWeight: () => new Float32Array(4 * rowLength),
    writeWeight: () => {},
  };
}

const LAYERS = [
  fakeLayer("stem", "first-conv", 27),
  fakeLayer("stage0.block0.expand", "hidden", 16),
  fakeLayer("stage0.block0.depthwise", "hidden", 9),
  fakeLayer("stage0.block0.project", "hidden", 24),
  fakeLayer("classifier", "classifier", 24),
];

const SPARSITY: SparsityConfig = {
  global_target: 0.5,
  per_layer: {},
  block_sizes: [1, 4, 8, 16],
  keep_dense: ["stem", "classifier"],
};

describe("pruning plan", () => {
  test("largest allowed block size dividing the row length", () => {
    assert.equal(chooseBlockSize(16, [1, 4, 8, 16]), 16);
    assert.equal(chooseBlockSize(24, [1, 4, 8, 16]), 8);
    assert.equal(chooseBlockSize(9, [1, 4, 8, 16]), 1);
    assert.equal(chooseBlockSize(9, [4, 8]), undefined);
  });

  test("global target, per-layer overrides, keep_dense and non-prunable layers", () => {
    const plan = resolvePruningPlan(LAYERS, {
      ...SPARSITY,
      per_layer: { "stage0.block0.project": 0.8 },
      keep_dense: ["stem", "classifier", "stage0.block0.depthwise"],
    });
    assert.deepEqual(
      plan.map((layer) => [layer.name, layer.target, layer.blockSize]),
      [
        ["stem", 0, undefined],
        ["stage0.block0.expand", 0.5, 16],
        ["stage0.block0.depthwise", 0, undefined],
        ["stage0.block0.project", 0.8, 8],
        ["classifier", 0, undefined],
      ],
    );
    assert.equal(plan[2]?.denseReason, "listed in sparsity.keep_dense");
  });

  test("non-prunable layers stay dense even when keep_dense is empty", () => {
    const plan = resolvePruningPlan(LAYERS, { ...SPARSITY, keep_dense: [] });
    assert.equal(plan[0]?.blockSize, undefined);
    assert.equal(plan[4]?.blockSize, undefined);
    assert.equal(plan[1]?.target, 0.5);
  });

  test("a layer no allowed block size divides stays dense and says why", () => {
    const plan = resolvePruningPlan(LAYERS, { ...SPARSITY, block_sizes: [16] });
    assert.equal(plan[1]?.blockSize, 16);
    assert.equal(plan[3]?.blockSize, undefined);
    assert.match(
      plan[3]?.denseReason ?? "",
      /no allowed block size \(16\) divides its row length 24/,
    );
  });

  test("unknown names and per-layer targets on dense layers are errors, all listed", () => {
    assert.throws(
      () =>
        resolvePruningPlan(LAYERS, {
          ...SPARSITY,
          per_layer: { "stage0.block0.expnd": 0.5, classifier: 0.3 },
          keep_dense: ["stem", "head"],
        }),
      (error: Error) => {
        const lines = error.message.split("\n");
        assert.equal(lines.length, 3);
        assert.match(lines[0] ?? "", /^sparsity.keep_dense: head is not a layer of the network/);
        assert.match(lines[1] ?? "", /^sparsity.per_layer: stage0.block0.expnd is not a layer/);
        assert.match(lines[2] ?? "", /^sparsity.per_layer: classifier stays dense/);
        return true;
      },
    );
  });
});
