import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readTensorData } from "../../src/model-ir/blob.js";
import { createModelBuilder } from "../../src/model-ir/builder.js";
import { loadModel, writeModel } from "../../src/model-ir/io.js";
import { computeWindow } from "../../src/model-ir/shapes.js";
import type { Model, ModelGraph } from "../../src/model-ir/types.js";
import { validateModel } from "../../src/model-ir/validate.js";

function tinyModel(): Model {
  const b = createModelBuilder("tiny");
  const x = b.input("x", [1, 4, 4, 2]);
  const w = b.constant("w", [3, 3, 3, 2], new Float32Array(54).fill(0.1), { blockSize: 1 });
  const bias = b.constant("bias", [3], Float32Array.from([1, 2, 3]));
  const y = b.op({
    type: "conv2d",
    name: "conv",
    inputs: [x, w, bias],
    attrs: { strides: [2, 2], dilations: [1, 1], padding: "same", groups: 1, activation: "relu" },
  });
  b.output(b.op({ type: "global_avg_pool", name: "gap", inputs: [y], attrs: {} }));
  return b.finish();
}

function mutate(model: Model, edit: (g: ModelGraph) => void): ReturnType<typeof validateModel> {
  const graph = structuredClone(model.graph);
  edit(graph);
  return validateModel(graph, model.blob);
}

function codes(result: ReturnType<typeof validateModel>): string[] {
  return result.ok ? [] : result.issues.map((i) => `${i.code} ${i.path}`);
}

describe("padding and window arithmetic (tfjs rules)", () => {
  it("same / valid output sizes and padding", () => {
    assert.deepEqual(computeWindow(32, 3, 2, 1, "same"), { out: 16, padBefore: 0 });
    assert.deepEqual(computeWindow(7, 3, 2, 1, "same"), { out: 4, padBefore: 1 });
    assert.deepEqual(computeWindow(8, 3, 1, 1, "same"), { out: 8, padBefore: 1 });
    assert.deepEqual(computeWindow(7, 3, 2, 1, "valid"), { out: 3, padBefore: 0 });
    assert.deepEqual(computeWindow(8, 3, 1, 2, "valid"), { out: 4, padBefore: 0 });
  });
});

describe("model validation", () => {
  it("accepts a built model and keeps its data readable", () => {
    const m = tinyModel();
    assert.equal(validateModel(m.graph, m.blob).ok, true);
    const bias = m.graph.tensors.find((t) => t.name === "bias");
    assert.ok(bias !== undefined);
    assert.deepEqual([...readTensorData(m, bias)], [1, 2, 3]);
    const w = m.graph.tensors.find((t) => t.name === "w");
    assert.equal((w?.data?.encoding === "dense" ? w.data.offset : -1) % 16, 0);
  });
  it("reports schema errors with JSON pointers", () => {
    const r = mutate(tinyModel(), (g) => {
      (g as { precision: string }).precision = "int4";
    });
    assert.deepEqual(codes(r), ["schema /precision"]);
  });
  it("reports an unknown op type through the discriminator", () => {
    const r = mutate(tinyModel(), (g) => {
      (g.ops[0] as { type: string }).type = "conv3d";
    });
    assert.equal(r.ok, false);
    assert.ok(codes(r).every((c) => c.startsWith("schema /ops/0")));
  });
  it("reports references, order and shapes, all in one pass", () => {
    const r = mutate(tinyModel(), (g) => {
      g.ops.reverse(); // gap now reads conv before it is produced
      const t = g.tensors.find((x) => x.name === "conv");
      if (t !== undefined) t.shape = [1, 4, 4, 3];
      g.outputs.push("nope");
    });
    assert.deepEqual(codes(r).sort(), [
      "order /ops/0/inputs/0",
      "reference /outputs/1",
      "shape /ops/1/outputs/0",
    ]);
  });
  it("reports a blob digest mismatch and out-of-range data", () => {
    const m = tinyModel();
    const blob = m.blob.slice();
    blob[0] = (blob[0] ?? 0) ^ 1;
    assert.deepEqual(codes(validateModel(m.graph, blob)), ["blob /blob/sha256"]);
    const r = mutate(m, (g) => {
      const t = g.tensors.find((x) => x.name === "bias");
      if (t?.data?.encoding === "dense") t.data.byteLength = 8;
    });
    assert.deepEqual(codes(r), ["blob /tensors/2/data"]);
  });
  it("requires int8 parameters and quantization in int8 models", () => {
    const r = mutate(tinyModel(), (g) => {
      g.precision = "int8";
    });
    const found = codes(r);
    assert.ok(found.includes("dtype /tensors/0/dtype"));
    assert.ok(found.includes("dtype /ops/0/int8"));
  });
  it("checks int8 per-channel parameter counts", async () => {
    const { quantizeModel } = await import("../../src/quantize/quantize-model.js");
    const b = createModelBuilder("ln");
    const x = b.input("x", [1, 2, 4]);
    const g = b.constant("g", [4], Float32Array.from([1, 2, 3, 4]));
    const be = b.constant("b", [4], Float32Array.from([0, 0, 1, 0]));
    b.output(
      b.op({ type: "layer_norm", name: "ln", inputs: [x, g, be], attrs: { epsilon: 1e-5 } }),
    );
    const int8 = quantizeModel(b.finish(), [Float32Array.from([1, 2, 3, 4, -1, 0, 5, 2])]);
    assert.equal(validateModel(int8.graph, int8.blob).ok, true);
    const r = mutate(int8, (graph) => {
      const op = graph.ops[0];
      if (op?.type === "layer_norm" && op.int8 !== undefined) op.int8.multiplier.pop();
    });
    assert.deepEqual(codes(r), ["dtype /ops/0/int8"]);
  });
  it("rejects a sparsity block size that does not divide the row", () => {
    const r = mutate(tinyModel(), (g) => {
      const t = g.tensors.find((x) => x.name === "w");
      if (t !== undefined) t.sparsity = { blockSize: 4 }; // row length 18
    });
    assert.deepEqual(codes(r), ["shape /tensors/1/sparsity"]);
  });
  it("writes and loads <stem>.json + <stem>.bin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "model-ir-"));
    try {
      const m = tinyModel();
      await writeModel(join(dir, "tiny"), m);
      const loaded = await loadModel(join(dir, "tiny"));
      assert.equal(loaded.ok, true);
      if (loaded.ok) {
        assert.deepEqual(loaded.model.graph, m.graph);
        assert.deepEqual(loaded.model.blob, m.blob);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
