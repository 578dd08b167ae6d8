/**
 * C kernels compiled for the host (gcc -Wall -Wextra -Werror) produce the
 * same bytes as the TypeScript reference interpreter on randomised layers:
 * shapes, strides, dilations, padding, sparsity, block sizes, zero points,
 * clamps and shifts. One runner process executes a whole batch of cases.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeCase, type KernelCase } from "../support/kernel-cases.js";
import { buildKernelRunner, type KernelRunner, runKernelCases } from "../support/kernel-runner.js";
import { createRng, linearCase } from "../support/reference-cases.js";
import {
  broadcastAxisCases,
  concatAxisCases,
  depthwiseCases,
  type Expected,
  emptyRowCases,
  leftShiftCases,
  patchSizeCases,
  randomCases,
  randomMovementCases,
  randomOtherCases,
} from "./random-specs.js";

function describeCase(c: KernelCase): string {
  const {
    input: _i,
    weight: _w,
    multiplier: _m,
    shift: _s,
    bias: _b,
    a: _a,
    b: _bb,
    parts,
    ...rest
  } = c as unknown as Record<string, unknown>;
  const w = (c as { weight?: { sparse?: { blockSize: number } } }).weight;
  const widths = Array.isArray(parts)
    ? { parts: parts.map(({ input: _in, ...p }: { input: unknown }) => p) }
    : {};
  return JSON.stringify({ ...rest, ...widths, block: w?.sparse?.blockSize ?? "dense" });
}

async function checkAll(runner: KernelRunner, cases: Expected[]): Promise<void> {
  const { results } = await runKernelCases(
    runner,
    cases.map((c) => encodeCase(c.kernelCase)),
  );
  for (const [i, c] of cases.entries()) {
    const r = results[i];
    assert.ok(r !== undefined);
    assert.equal(r.status, 0, `${c.label}: status ${r.status} ${describeCase(c.kernelCase)}`);
    if (!Buffer.from(r.output.buffer).equals(Buffer.from(c.expected.buffer))) {
      const at = r.output.findIndex((v, j) => v !== c.expected[j]);
      assert.fail(
        `${c.label}: output differs at ${at}: C ${r.output[at]} vs reference ${c.expected[at]} ${describeCase(c.kernelCase)}`,
      );
    }
  }
}

describe("SparseEngine kernels on the host", () => {
  let dir: string;
  let runner: KernelRunner;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tf-host-kernels-"));
    runner = await buildKernelRunner({ kind: "host" }, dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("conv 1x1, dense and sparse (all block sizes), equals the reference", async () => {
    await checkAll(runner, randomCases(1, { conv1x1: 150 }));
  });
  test("conv KxK with im2col, dense and sparse, equals the reference", async () => {
    await checkAll(runner, randomCases(2, { convKxK: 120 }));
  });
  test("depthwise conv equals the reference", async () => {
    await checkAll(runner, [...randomCases(3, { depthwise: 80 }), ...depthwiseCases(21)]);
  });
  test("linear, dense and sparse, equals the reference", async () => {
    await checkAll(runner, randomCases(4, { linear: 150 }));
  });
  test("a sparse row with a gap above 255 blocks uses uint16 runs", async () => {
    const rng = createRng(5);
    const c = linearCase(rng, {
      rows: 3,
      inFeatures: 1200,
      outFeatures: 5,
      blockSize: 1,
      sparsity: 0.995,
      bias: true,
    });
    const w = c.kernelCase.weight;
    assert.ok("sparse" in w && w.sparse.runType === "uint16");
    await checkAll(runner, [{ label: "uint16 runs", ...c }]);
  });
  test("channels whose blocks are all pruned output their requantized bias", async () => {
    await checkAll(runner, emptyRowCases(21));
  });
  test("channels that shift left (fused stores, wrapping shifts, int32 limits) equal the reference", async () => {
    await checkAll(runner, [...leftShiftCases(31), ...leftShiftCases(32)]);
  });

  test("batch matmul (Q.K^T and A.V) equals the reference", async () => {
    await checkAll(runner, randomCases(6, { matmul: 100 }));
  });
  test("add, LUT, pooling, Softmax, LayerNorm, transpose and reshape equal the reference", async () => {
    await checkAll(runner, randomOtherCases(9, 25));
  });
  test("mul, add and mul with broadcasting, concat, unfold and fold equal the reference", async () => {
    await checkAll(runner, [
      ...randomMovementCases(14, 60),
      ...broadcastAxisCases(15),
      ...concatAxisCases(16),
      ...patchSizeCases(17),
    ]);
  });
  test("kernels reject a too-small scratch buffer and bad shapes", async () => {
    const rng = createRng(7);
    const c = linearCase(rng, {
      rows: 2,
      inFeatures: 8,
      outFeatures: 4,
      blockSize: 0,
      sparsity: 0,
      bias: false,
    });
    const bad = { ...c.kernelCase, actMin: 10, actMax: -10 };
    const { results } = await runKernelCases(runner, [encodeCase(bad)]);
    assert.equal(results[0]?.status, -1);
  });
});

describe("SparseEngine kernels under AddressSanitizer and UBSan", () => {
  test("a mixed batch runs clean and exact", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tf-asan-kernels-"));
    try {
      const runner = await buildKernelRunner({ kind: "host", sanitize: true }, dir);
      await checkAll(runner, [
        ...randomCases(8, { conv1x1: 15, convKxK: 15, depthwise: 8, linear: 15, matmul: 8 }),
        ...randomOtherCases(10, 3),
        ...randomMovementCases(18, 10),
        ...broadcastAxisCases(19),
        ...concatAxisCases(20),
        ...patchSizeCases(22),
        ...depthwiseCases(23),
        ...leftShiftCases(33),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
