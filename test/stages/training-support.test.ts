/** The fixed-network check and the wall-time budget the training stages share. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SearchSpace } from "../../src/blocks/search-space.js";
import type { StageContext } from "../../src/graph-runner/stage.js";
import { createSparsenasStage } from "../../src/stages/sparsenas.js";
import { createSupernasStage } from "../../src/stages/supernas.js";
import {
  createEpochBudget,
  findMultiChoiceFields,
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

/** A context whose every member but `config` fails loudly: the check must come first. */
function contextWith(config: Record<string, unknown>): StageContext {
  const fail = () => {
    throw new Error("the stage touched more than its configuration");
  };
  return new Proxy({ config } as unknown as StageContext, {
    get: (target, key) => (key === "config" ? target.config : fail()),
  });
}

const CONFIG = {
  search_space: SEARCH,
  seed: 1,
  "dataset.normalization": { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  "dataset.augmentation": { random_crop_padding_px: 4, horizontal_flip: true },
};

describe("training stages: fixed network only", () => {
  test("lists every field with several choices (a one-element list is one choice)", () => {
    assert.deepEqual(findMultiChoiceFields(SEARCH), [
      "search_space.stem.channels: 8, 16",
      "search_space.stages[0].expansion: 2, 4",
    ]);
  });

  for (const [name, create] of [
    ["supernas", createSupernasStage],
    ["sparsenas", createSparsenasStage],
  ] as const) {
    test(`${name} rejects a search over several choices, naming the fields`, async () => {
      const { run } = create({ backend: "wasm" });
      assert.ok(run);
      await assert.rejects(run(contextWith(CONFIG)), {
        message: `${name}: search over several choices is not implemented yet; give these search_space fields a single value:
  search_space.stem.channels: 8, 16
  search_space.stages[0].expansion: 2, 4`,
      });
    });
  }

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
