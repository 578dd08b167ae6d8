/**
 * The reference networks, built by the block library: their shapes
 * (parameter counts, layer names, logits), a training step on wasm with a
 * finite gradient for every parameter (this is how the missing gradient
 * kernels were found: any op without a wasm gradient kernel throws here), and
 * a few SGD steps on one batch that lower its loss with no tensor left behind.
 * ResNet-8 and MobileNetV2 are the networks the shipped recipes train, so the
 * benchmark measures what a user's build runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { runTrainingStep } from "../../src/training/loop.js";
import { createOptimizer } from "../../src/training/optimizers.js";
import {
  createReferenceNetwork,
  type ReferenceNetworkName,
  referenceNetworkNames,
  referenceSearchSpace,
} from "../../src/training/reference-networks.js";
import { shippedRecipesDirectory } from "../support/paths.js";

let tf: typeof TfCore;
before(async () => {
  tf = (await createTrainingBackend({ backend: "wasm" })).tf;
});

/**
 * Trainable parameters and batch-norm running statistics. ResNet-8: convs
 * 432 + 2 * 2,304 + 4,608 + 9,216 + 512 + 18,432 + 36,864 + 2,048 = 76,720,
 * classifier 64 * 10 + 10 = 650, batch norm gamma and beta over
 * 16 + 2 * 16 + 3 * 32 + 3 * 64 = 336 channels = 672 (and as many running
 * statistics). MobileNetV2 x0.35 and the MobileViT-style network: the
 * textbook shapes with a last 1x1 conv (408,938 / 14,080 and 229,274 / 1,840)
 * minus that conv and its batch norm (112 -> 1280 and 48 -> 192), with the
 * classifier reading 112 and 48 channels instead (see the module comment).
 */
const EXPECTED_PARAMETERS: Record<ReferenceNetworkName, { trainable: number; state: number }> = {
  resnet: { trainable: 78_042, state: 672 },
  mbv2: { trainable: 408_938 - 145_920 - 12_810 + 1_130, state: 14_080 - 2_560 },
  mobilevit: { trainable: 229_274 - 9_600 - 1_930 + 490, state: 1_840 - 384 },
};

function sizeOf(variables: readonly TfCore.Variable[]): number {
  return variables.reduce((total, variable) => total + variable.size, 0);
}

function randomBatch(batch: number, seed: number): { x: TfCore.Tensor4D; y: TfCore.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomNormal([batch, 32, 32, 3], 0, 1, "float32", seed) as TfCore.Tensor4D,
    y: tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => (i * 3) % 10),
        "int32",
      ),
      10,
    ) as TfCore.Tensor2D,
  }));
}

describe("reference networks", () => {
  for (const [name, file] of [
    ["resnet", "resnet-cifar10.yaml"],
    ["mbv2", "mobilenetv2-cifar10.yaml"],
  ] as const) {
    test(`${name} has the search space of recipes/${file}`, async () => {
      const path = join(shippedRecipesDirectory, file);
      const { recipe } = await loadRecipe(path, {
        workspaceRoot: join(shippedRecipesDirectory, ".."),
      });
      assert.deepEqual(referenceSearchSpace(name), recipe.search_space);
    });
  }

  test("ResNet-8 is the MLPerf Tiny shape: stem, three basic blocks, classifier", () => {
    const network = createReferenceNetwork("resnet", { classes: 10, seed: 1 });
    try {
      assert.deepEqual(
        network.layers().map((layer) => `${layer.name} ${layer.irShape.join("x")}`),
        [
          "stem 16x3x3x3",
          "stage0.block0.conv1 16x3x3x16",
          "stage0.block0.conv2 16x3x3x16",
          "stage1.block0.conv1 32x3x3x16",
          "stage1.block0.conv2 32x3x3x32",
          "stage1.block0.shortcut 32x1x1x16",
          "stage2.block0.conv1 64x3x3x32",
          "stage2.block0.conv2 64x3x3x64",
          "stage2.block0.shortcut 64x1x1x32",
          "classifier 10x64",
        ],
      );
    } finally {
      network.parameters.dispose();
    }
  });

  for (const name of referenceNetworkNames) {
    test(`${name}: parameter counts, and a training step on wasm with finite gradients for every parameter`, () => {
      const network = createReferenceNetwork(name, { classes: 10, seed: 1 });
      try {
        assert.deepEqual(
          {
            trainable: sizeOf(network.parameters.trainable),
            state: sizeOf(network.parameters.state),
          },
          EXPECTED_PARAMETERS[name],
        );
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const { x, y } = randomBatch(2, 5);
          const { value, grads } = tf.variableGrads(
            () =>
              tf.losses.softmaxCrossEntropy(
                y,
                network.apply(x, { training: true }),
              ) as TfCore.Scalar,
            network.parameters.trainable,
          );
          assert.ok(Number.isFinite(value.dataSync()[0]));
          for (const variable of network.parameters.trainable) {
            const gradient = grads[variable.name];
            assert.ok(gradient !== undefined, `no gradient for ${variable.name}`);
            assert.deepEqual(gradient.shape, variable.shape);
            assert.ok(
              tf.all(tf.isFinite(gradient)).dataSync()[0] === 1,
              `non-finite gradient for ${variable.name}`,
            );
          }
          const logits = network.apply(x, { training: false });
          assert.deepEqual(logits.shape, [2, 10]);
          assert.ok(tf.all(tf.isFinite(logits)).dataSync()[0] === 1, "finite logits");
        });
        assert.equal(tf.memory().numTensors, before);
      } finally {
        network.parameters.dispose();
      }
    });

    test(`${name}: SGD steps on one batch lower its loss, with memory flat across steps`, () => {
      const network = createReferenceNetwork(name, { classes: 10, seed: 2 });
      const optimizer = createOptimizer(
        { kind: "sgd", momentum: 0.9 },
        network.parameters.trainable,
      );
      const { x, y } = randomBatch(8, 6);
      try {
        const step = () =>
          runTrainingStep({
            network,
            optimizer,
            images: x,
            labels: y,
            learningRate: 0.02,
            labelSmoothing: 0,
          }).loss;
        const losses = [step()];
        // The first step creates the optimizer's momentum slots.
        const tensors = tf.memory().numTensors;
        // Ten steps: from PyTorch's initialisation MobileNetV2 needs more than
        // five to memorise the batch at this rate.
        for (let i = 0; i < 9; i++) {
          losses.push(step());
          assert.equal(tf.memory().numTensors, tensors, `tensors after step ${i + 2}`);
        }
        const [first = Number.NaN] = losses;
        const last = losses.at(-1) ?? Number.NaN;
        assert.ok(last < 0.8 * first, `loss went ${losses.map((l) => l.toFixed(3)).join(" -> ")}`);
      } finally {
        tf.dispose([x, y]);
        optimizer.dispose();
        network.parameters.dispose();
      }
    });
  }
});
