/**
 * The work counts of layer-work.ts and kernel-work.ts against the C they
 * describe: the requantization path tf_requant_prepare / fold_offset pick,
 * the odometer walks of transpose and broadcast, the taps in bounds of
 * pooling and depthwise convolution, and the stored blocks of a packed
 * sparse weight.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { planMemory } from "../../src/codegen/plan-memory.js";
import { selectKernels } from "../../src/codegen/select-kernels.js";
import { readBlockRle } from "../../src/model-ir/blob.js";
import { axisTaps, layerWork, odometerCarries } from "../../src/resources/layer-work.js";
import { loadCostModel } from "../../src/sparse-engine/cost-model.js";
import { matrixWork, requantStats } from "../../src/sparse-engine/kernel-work.js";
import { quantizedCnn, quantizedMobileVit } from "../codegen/codegen-helpers.js";
import { createRng } from "../support/reference-cases.js";

describe("requantStats", () => {
  test("fused when every zero point folds, either shift, over the whole int8 range", () => {
    assert.deepEqual(requantStats([-1, -9, -21], -128, 127), {
      fused: true,
      allRight: true,
      leftShiftChannels: 0,
      fullRange: true,
    });
    // A shift of 0 or more (multiplier >= 0.5) is a left shift, fused too.
    assert.deepEqual(requantStats([-7, 0, 2], -128, 127), {
      fused: true,
      allRight: false,
      leftShiftChannels: 2,
      fullRange: true,
    });
    // With a narrower clamp it takes the C loop.
    assert.equal(requantStats([-7, 0, 2], -100, 127).fused, false);
    // A left shift folds for shifts up to 31, multipliers 0 or in [2^30, 2^31)
    // and output offsets up to 16256, as tf_requant_fold_offset decides.
    const m = [2 ** 30, 2 ** 31 - 1, 0];
    assert.equal(requantStats([31, 0, 5], -128, 127, m, -128).fused, true);
    assert.equal(requantStats([32], -128, 127, [2 ** 30]).fused, false);
    assert.equal(requantStats([1], -128, 127, [2 ** 29]).fused, false);
    assert.equal(requantStats([1], -128, 127, [2 ** 30], 16257).fused, false);
    // The offset does not matter to right shifts.
    assert.equal(requantStats([-3], -128, 127, [2 ** 29], 16257).fused, true);
    // e = 22: high_shift 21 > 20, the zero point cannot be folded.
    assert.equal(requantStats([-22], -128, 127).fused, false);
    assert.equal(requantStats([-22], -128, 127).allRight, true);
    // A fused ReLU narrower than int8.
    assert.deepEqual(requantStats([-5], -100, 127), {
      fused: false,
      allRight: true,
      leftShiftChannels: 0,
      fullRange: false,
    });
  });
});

describe("matrixWork", () => {
  const layer = {
    pixels: 10,
    outChannels: 6,
    rowLength: 19,
    requant: requantStats([-3, -3, -3, 1, -3, -3], -100, 127),
    sparse: { storedBlocks: 7, blockSize: 1, storedRows: 5 },
  };
  test("pixels go four at a time; K in quads and a tail; the C loop for a left shift and a clamp", () => {
    assert.deepEqual(matrixWork(layer, false), {
      calls: 1,
      channels: 6,
      pixels: 10,
      groups: 3,
      packedQuads: 12,
      packedTail: 9,
      rowVisits: 18,
      macQuads: 72,
      macQuadRemainder: 0,
      macTail: 54,
      cLoopRowVisits: 18,
      leftShiftRowVisits: 3,
      narrowRowVisits: 18,
    });
  });
  test("a fused layer with left shifts tests each row's kind; a sparse one walks fused", () => {
    const fused = { ...layer, requant: requantStats([-3, -3, -3, 1, -3, -3], -128, 127) };
    assert.deepEqual(matrixWork(fused, false), {
      calls: 1,
      channels: 6,
      pixels: 10,
      groups: 3,
      packedQuads: 12,
      packedTail: 9,
      rowVisits: 18,
      macQuads: 72,
      macQuadRemainder: 0,
      macTail: 54,
      mixedRightRowVisits: 15,
      mixedLeftRowVisits: 3,
    });
    assert.deepEqual(matrixWork(fused, true), {
      calls: 1,
      channels: 6,
      pixels: 10,
      groups: 3,
      pairPackedQuads: 12,
      packedTail: 9,
      prefilledGroups: 3,
      prefilledBytes: 72,
      storedRowVisits: 15,
      mixedStoredRowVisits: 15,
      blockVisits: 21,
      singleWeights: 21,
    });
  });
  test("blocks of 1 pack in pairs; unfused sparse layers walk through the accumulators", () => {
    assert.deepEqual(matrixWork(layer, true), {
      calls: 1,
      channels: 6,
      pixels: 10,
      groups: 3,
      pairPackedQuads: 12,
      packedTail: 9,
      accStoredRowVisits: 15,
      accEmptyRows: 3,
      accBlockVisits: 21,
      accSingleWeights: 21,
      requantRowVisits: 18,
      cLoopRowVisits: 18,
      leftShiftRowVisits: 3,
      narrowRowVisits: 18,
    });
  });
});

/** The C odometer (tf_transpose_s8): inner-loop iterations over all elements. */
function odometerIterations(shape: readonly number[]): number {
  const index = shape.map(() => 0);
  const total = shape.reduce((a, b) => a * b, 1);
  let iterations = 0;
  for (let i = 0; i < total; i++) {
    for (let d = shape.length - 1; d >= 0; d--) {
      iterations++;
      if (++(index[d] as number) < (shape[d] as number)) break;
      index[d] = 0;
    }
  }
  return iterations;
}

describe("odometerCarries and axisTaps", () => {
  test("the carries are the inner-loop iterations beyond one per element, for any shape", () => {
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const rank = 1 + Math.floor(rng() * 5);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(rng() * 5));
      const total = shape.reduce((a, b) => a * b, 1);
      // The outermost dimension's final wrap ends the walk (no extra iteration after it).
      assert.equal(total + odometerCarries(shape), odometerIterations(shape), shape.join("x"));
    }
  });

  test("taps in bounds and interior positions, against a direct count", () => {
    const rng = createRng(4);
    for (let i = 0; i < 200; i++) {
      const size = 1 + Math.floor(rng() * 12);
      const kernel = 1 + Math.floor(rng() * 5);
      const stride = 1 + Math.floor(rng() * 3);
      const dilation = 1 + Math.floor(rng() * 2);
      const pad = Math.floor(rng() * kernel);
      const out = 1 + Math.floor(rng() * 8);
      let inBounds = 0;
      let interior = 0;
      for (let o = 0; o < out; o++) {
        const taps = Array.from({ length: kernel }, (_, k) => o * stride - pad + k * dilation);
        inBounds += taps.filter((t) => t >= 0 && t < size).length;
        if (taps.every((t) => t >= 0 && t < size)) interior++;
      }
      assert.deepEqual(axisTaps(out, size, kernel, stride, pad, dilation), { inBounds, interior });
    }
  });
});

describe("layerWork", () => {
  test("a sparse layer's block and row counts are its IR encoding's", () => {
    for (const blockSize of [1, 4, 8, 16] as const) {
      const model = quantizedCnn(blockSize, 5);
      const layers = selectKernels(model, loadCostModel(), "sparse");
      const memory = planMemory(model, layers);
      const sparse = layers.filter((l) => l.call.variant.includes("sparse"));
      assert.ok(sparse.length > 0);
      for (const layer of sparse) {
        const weightName = layer.op.inputs[1] ?? "";
        const tensor = model.graph.tensors.find((t) => t.name === weightName);
        assert.ok(tensor !== undefined);
        const enc = readBlockRle(model, tensor);
        const stored = enc.rowBlockCounts.filter((n) => n > 0).length;
        const { work } = layerWork(layer, memory);
        const visits = work.blockVisits ?? work.accBlockVisits;
        const rows = work.storedRowVisits ?? work.accStoredRowVisits;
        assert.equal(visits, (work.groups as number) * enc.runs.length, layer.op.name);
        assert.equal(rows, (work.groups as number) * stored, layer.op.name);
      }
    }
  });

  test("a reshape the planner put in place copies nothing", () => {
    const model = quantizedMobileVit();
    const layers = selectKernels(model, loadCostModel());
    const memory = planMemory(model, layers);
    const reshapes = layers.filter((l) => l.call.kind === "reshape");
    assert.ok(reshapes.length > 0);
    for (const layer of reshapes) {
      const same =
        memory.tensorOffsets.get(layer.inputs[0] ?? "") === memory.tensorOffsets.get(layer.output);
      const size = layer.call.kind === "reshape" ? layer.call.size : -1;
      assert.equal(layerWork(layer, memory).work.copiedBytes, same ? 0 : size);
    }
  });
});
