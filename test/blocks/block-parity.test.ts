/**
 * Each block, exported on its own, computes what its tfjs forward computes
 * in inference mode (batch norm folded with the running statistics), within
 * max |diff| <= 1e-4 relative to the output scale. Batch 2 so that the
 * MobileViT patch order across images is exercised too.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createBasicBlock } from "../../src/blocks/basic-block.js";
import { createClassifierHead } from "../../src/blocks/classifier-head.js";
import { createInvertedResidual } from "../../src/blocks/inverted-residual.js";
import { createExportContext } from "../../src/blocks/ir-export.js";
import { createMobileVitBlock } from "../../src/blocks/mobilevit-block.js";
import { createStem } from "../../src/blocks/stem.js";
import type { ActiveBlock, Block } from "../../src/blocks/types.js";
import { createModelBuilder } from "../../src/model-ir/builder.js";
import { ParameterSet } from "../../src/training/layers.js";
import { assertIrMatches, loadTf, randomImages, randomizeState } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

/** Runs `bind(params)` in tfjs and through the exported IR on the same random input. */
function checkParity(
  what: string,
  inputShape: [number, number, number, number],
  create: (params: ParameterSet) => ActiveBlock<TfCore.Tensor4D, TfCore.Tensor>,
): void {
  const params = new ParameterSet(5);
  try {
    const block = create(params);
    randomizeState(tf, params, 9);
    const input = randomImages(inputShape, 3);
    const expected = tf.tidy(() =>
      block.apply(tf.tensor4d(input, inputShape), { training: false }).dataSync(),
    );
    const builder = createModelBuilder(what);
    const context = createExportContext(builder, block.layers());
    builder.output(block.exportTo(context, builder.input("x", inputShape)));
    assertIrMatches(builder.finish(), input, expected, what);
  } finally {
    params.dispose();
  }
}

function bound<C>(block: Block<C>, choice: C): ActiveBlock {
  return block.bind(choice);
}

describe("block export parity (IR float == tfjs inference)", () => {
  test("stem: 3x3 conv + BN + ReLU6, stride 2", () => {
    checkParity("stem", [2, 9, 9, 3], (params) =>
      bound(
        createStem(params, "stem", {
          inChannels: 3,
          maxChannels: 8,
          stride: 2,
          activation: "relu6",
        }),
        { channels: 8 },
      ),
    );
  });

  test("mbv2: expansion 4, residual (stride 1, same channels)", () => {
    checkParity("mbv2-residual", [2, 6, 6, 8], (params) =>
      bound(
        createInvertedResidual(params, "b", {
          maxInChannels: 8,
          maxOutChannels: 8,
          maxExpansion: 4,
          maxKernel: 3,
          stride: 1,
        }),
        { inChannels: 8, outChannels: 8, expansion: 4, kernelSize: 3 },
      ),
    );
  });

  test("mbv2: 5x5 depthwise, stride 2, channel change (no residual)", () => {
    checkParity("mbv2-stride", [2, 7, 7, 6], (params) =>
      bound(
        createInvertedResidual(params, "b", {
          maxInChannels: 6,
          maxOutChannels: 10,
          maxExpansion: 2,
          maxKernel: 5,
          stride: 2,
        }),
        { inChannels: 6, outChannels: 10, expansion: 2, kernelSize: 5 },
      ),
    );
  });

  test("mbv2: expansion 1 has no expand layer", () => {
    checkParity("mbv2-t1", [1, 5, 5, 8], (params) => {
      const block = bound(
        createInvertedResidual(params, "b", {
          maxInChannels: 8,
          maxOutChannels: 8,
          maxExpansion: 1,
          maxKernel: 3,
          stride: 1,
        }),
        { inChannels: 8, outChannels: 8, expansion: 1, kernelSize: 3 },
      );
      assert.deepEqual(
        block.layers().map((l) => l.name),
        ["b.depthwise", "b.project"],
      );
      return block;
    });
  });

  test("resnet: identity shortcut", () => {
    checkParity("resnet-identity", [2, 6, 6, 8], (params) =>
      bound(
        createBasicBlock(params, "r", {
          maxInChannels: 8,
          maxOutChannels: 8,
          maxKernel: 3,
          stride: 1,
          projection: false,
        }),
        { inChannels: 8, outChannels: 8, kernelSize: 3 },
      ),
    );
  });

  test("resnet: 1x1 projection shortcut with stride 2", () => {
    checkParity("resnet-projection", [2, 8, 8, 6], (params) => {
      const block = bound(
        createBasicBlock(params, "r", {
          maxInChannels: 6,
          maxOutChannels: 12,
          maxKernel: 3,
          stride: 2,
          projection: true,
        }),
        { inChannels: 6, outChannels: 12, kernelSize: 3 },
      );
      assert.deepEqual(
        block.layers().map((l) => l.name),
        ["r.conv1", "r.conv2", "r.shortcut"],
      );
      return block;
    });
  });

  test("mobilevit: patch 2, two transformer layers, 2 heads", () => {
    checkParity("mobilevit-p2", [2, 4, 4, 8], (params) =>
      bound(
        createMobileVitBlock(params, "v", {
          maxChannels: 8,
          maxEmbedDim: 12,
          maxMlpRatio: 2,
          maxDepth: 2,
          patchSize: 2,
          height: 4,
          width: 4,
        }),
        { channels: 8, embedDim: 12, heads: 2, mlpRatio: 2, depth: 2 },
      ),
    );
  });

  test("mobilevit: patch 1 (every pixel a token), 1 head", () => {
    checkParity("mobilevit-p1", [2, 3, 3, 4], (params) =>
      bound(
        createMobileVitBlock(params, "v", {
          maxChannels: 4,
          maxEmbedDim: 8,
          maxMlpRatio: 3,
          maxDepth: 1,
          patchSize: 1,
          height: 3,
          width: 3,
        }),
        { channels: 4, embedDim: 8, heads: 1, mlpRatio: 3, depth: 1 },
      ),
    );
  });

  test("classifier head: global average pool + linear", () => {
    const params = new ParameterSet(2);
    const head = createClassifierHead(params, "classifier", {
      maxInChannels: 6,
      classes: 5,
      dropout: 0.5,
      seed: 1,
    }).bind({ inChannels: 6 });
    randomizeState(tf, params, 4);
    const shape: [number, number, number, number] = [2, 3, 3, 6];
    const input = randomImages(shape, 8);
    const x = tf.tensor4d(input, shape);
    const expected = tf.tidy(() => head.apply(x, { training: false }).dataSync());
    // Dropout is active only while training, and draws a new mask per call.
    const trainA = tf.tidy(() => head.apply(x, { training: true }).dataSync());
    const trainB = tf.tidy(() => head.apply(x, { training: true }).dataSync());
    assert.notDeepEqual(trainA, expected);
    assert.notDeepEqual(trainA, trainB);
    x.dispose();
    const builder = createModelBuilder("head");
    const context = createExportContext(builder, head.layers());
    builder.output(head.exportTo(context, builder.input("x", shape)));
    assertIrMatches(builder.finish(), input, expected, "classifier head");
    params.dispose();
  });
});
