import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runFloat } from "../../src/interpreter/run.js";
import { product } from "../../src/model-ir/shapes.js";
import {
  buildMobileVitSample,
  createRandom,
  createRandomImages,
} from "../support/sample-models.js";

describe("MobileViT-style sample model", () => {
  const model = buildMobileVitSample();
  it("has 100-300K parameters, a 32x32x3 input and 10 logits", () => {
    const params = model.graph.tensors
      .filter((t) => t.data !== undefined)
      .reduce((n, t) => n + product(t.shape), 0);
    assert.ok(params > 100_000 && params < 300_000, `${params}`);
    assert.deepEqual(model.graph.tensors.find((t) => t.name === "image")?.shape, [1, 32, 32, 3]);
    const out = runFloat(model, createRandomImages(1, [1, 32, 32, 3], 1)[0] ?? new Float32Array())
      .outputs[0];
    assert.equal(out?.length, 10);
    assert.ok([...(out ?? [])].every(Number.isFinite));
  });
  it("contains the MobileViT building blocks and pruned weights", () => {
    const types = new Set(model.graph.ops.map((o) => o.type));
    for (const t of [
      "conv2d",
      "linear",
      "matmul",
      "softmax",
      "layer_norm",
      "unfold",
      "fold",
      "concat",
      "add",
      "activation",
    ]) {
      assert.ok(types.has(t as never), t);
    }
    assert.ok(model.graph.ops.some((o) => o.type === "conv2d" && o.attrs.groups > 1));
    assert.ok(model.graph.tensors.filter((t) => t.sparsity !== undefined).length >= 10);
  });
  it("is deterministic for a seed", () => {
    assert.equal(
      buildMobileVitSample({ dim: 16, heads: 2, layers: 1 }).graph.blob.sha256,
      buildMobileVitSample({ dim: 16, heads: 2, layers: 1 }).graph.blob.sha256,
    );
    const a = createRandom(9);
    const b = createRandom(9);
    assert.equal(a(), b());
  });
});
