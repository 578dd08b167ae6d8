/** What the training stages share, and which keys the search reads. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SearchSpace } from "../../src/blocks/search-space.js";
import { isFixedSearchSpace } from "../../src/blocks/search-space.js";
import { SEARCH_BOARD_KEYS } from "../../src/stages/search-board-keys.js";
import { createSparsenasStage } from "../../src/stages/sparsenas.js";
import {
  createEpochBudget,
  resolveAugmentation,
  resolveOptimizer,
} from "../../src/stages/training-support.js";

const SEARCH: SearchSpace = {
  stem: { channels: [8, 16], stride: 1 },
  stages: [
    { block: "mbv2", depth: 1, channels: 16, expansion: [2, 4], kernel_size: 3, stride: 2 },
    { block: "resnet", depth: [1], channels: 24, kernel_size: 3, stride: 1 },
  ],
  head: { dropout: 0 },
};

const CONFIG = {
  search_space: SEARCH,
  seed: 1,
  "dataset.normalization": { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  "dataset.augmentation": { random_crop_padding_px: 4, horizontal_flip: true },
};

describe("training stages", () => {
  test("a space is fixed when every field has one choice (a one-element list is one choice)", () => {
    assert.equal(isFixedSearchSpace(SEARCH), false);
    assert.equal(
      isFixedSearchSpace({
        ...SEARCH,
        stem: { channels: [8], stride: 1 },
        stages: [SEARCH.stages[1] as SearchSpace["stages"][number]],
      }),
      true,
    );
  });

  test("sparsenas reads the search settings and board budgets only when it searches", () => {
    const { conditionalConfigKeys } = createSparsenasStage({ backend: "wasm" });
    assert.ok(conditionalConfigKeys);
    const fixedSpace = { ...SEARCH, stem: { channels: 8, stride: 1 }, stages: [SEARCH.stages[1]] };
    const sparsity = (global_target: number | number[]) => ({
      global_target,
      per_layer: {},
      block_sizes: [4],
      keep_dense: [],
    });
    assert.deepEqual(
      conditionalConfigKeys({ ...CONFIG, search_space: fixedSpace, sparsity: sparsity(0.5) }),
      [],
    );
    for (const config of [
      { ...CONFIG, sparsity: sparsity(0.5) },
      { ...CONFIG, search_space: fixedSpace, sparsity: sparsity([0.5, 0.75]) },
    ]) {
      assert.deepEqual(conditionalConfigKeys(config), ["search", ...SEARCH_BOARD_KEYS]);
    }
    assert.ok(SEARCH_BOARD_KEYS.includes("board.memory"));
  });

  test("recipe training keys map onto the loop's options", () => {
    assert.deepEqual(resolveOptimizer({ optimizer: "sgd", momentum: 0.8, weight_decay: 1e-4 }), {
      kind: "sgd",
      momentum: 0.8,
      weightDecay: 1e-4,
    });
    assert.deepEqual(resolveOptimizer({ optimizer: "adam", momentum: 0.8, weight_decay: 0 }), {
      kind: "adam",
      weightDecay: 0,
    });
    assert.equal(resolveAugmentation({ random_crop_padding_px: 0, horizontal_flip: false }), false);
    assert.deepEqual(resolveAugmentation({ random_crop_padding_px: 2, horizontal_flip: false }), {
      padding: 2,
      horizontalFlip: false,
    });
  });

  test("budget_minutes stops after the first epoch that ends past it; 0 means no limit", async () => {
    const none = createEpochBudget(0, 5);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(none.stopAfterEpoch({ epoch: 0, loss: 1, accuracy: 0 }), false);
    const tiny = createEpochBudget(1e-6, 5); // 60 µs
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(tiny.stopAfterEpoch({ epoch: 0, loss: 1, accuracy: 0 }), true);
    assert.equal(tiny.stopped(), true);
    const last = createEpochBudget(1e-6, 2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(
      last.stopAfterEpoch({ epoch: 1, loss: 1, accuracy: 0 }),
      false,
      "the last epoch ends anyway",
    );
    assert.equal(last.stopped(), false);
    const generous = createEpochBudget(10, 5);
    assert.equal(generous.stopAfterEpoch({ epoch: 0, loss: 1, accuracy: 0 }), false);
  });
});
