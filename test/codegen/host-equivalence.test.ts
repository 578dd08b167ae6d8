/**
 * Generated C on the host equals the reference interpreter byte for byte.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BlockSize } from "../../src/model-ir/types.js";
import {
  generateAndVerify,
  quantizedCnn,
  quantizedMobileVit,
  randomInputs,
} from "./codegen-helpers.js";

describe("generated C on the host", () => {
  it("the quantized MobileViT sample equals runInt8 on random inputs (under sanitizers)", async () => {
    const model = quantizedMobileVit();
    const { verification, generated } = await generateAndVerify(model, randomInputs(model, 6, 1), {
      sanitize: true,
    });
    assert.equal(verification.mismatch?.message, undefined);
    assert.equal(verification.inputs, 6);
    const ops = new Set(model.graph.ops.map((op) => op.type));
    for (const type of ["unfold", "fold", "concat", "matmul", "softmax", "layer_norm"])
      assert.ok(ops.has(type as never), `the sample has ${type}`);
    assert.equal(generated.summary.layers.length, model.graph.ops.length);
  });

  for (const blockSize of [1, 4, 8, 16] as BlockSize[]) {
    it(`a CNN with sparse layers of block ${blockSize} equals runInt8 (sparse kernels forced)`, async () => {
      const model = quantizedCnn(blockSize, blockSize);
      const { verification, generated } = await generateAndVerify(
        model,
        randomInputs(model, 4, blockSize),
        {
          weightPolicy: "sparse",
        },
      );
      assert.equal(verification.mismatch?.message, undefined);
      const kernels = generated.summary.kernels;
      for (const k of [
        "tf_conv_1x1_sparse_s8",
        "tf_conv_kxk_sparse_s8",
        "tf_linear_sparse_s8",
        "tf_depthwise_conv_s8",
      ])
        assert.ok(kernels.includes(k), `${k} in ${kernels.join(", ")}`);
    });
  }

  it("the same CNN with dense kernels and under sanitizers equals runInt8", async () => {
    const model = quantizedCnn(8, 3);
    const { verification, generated } = await generateAndVerify(model, randomInputs(model, 3, 9), {
      weightPolicy: "dense",
      sanitize: true,
    });
    assert.equal(verification.mismatch?.message, undefined);
    assert.equal(generated.summary.totals.sparseLayers, 0);
    assert.ok(generated.summary.kernels.includes("tf_conv_kxk_s8"));
  });
});
