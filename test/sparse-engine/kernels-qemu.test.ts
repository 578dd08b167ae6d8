/**
 * The same kernels cross-compiled for the board (arm-none-eabi-gcc, Cortex-M7
 * with the DSP extension) and run under qemu-system-arm (mps2-an500) give the
 * reference interpreter's bytes; the instruction counts are deterministic,
 * and a pruned layer executes far fewer instructions than its dense twin.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadBoardProfile } from "../../src/config/load-board.js";
import { builtinBoardsDir } from "../../src/project-paths.js";
import { encodeCase } from "../../src/sparse-engine/kernel-cases.js";
import {
  buildKernelRunner,
  type KernelRunner,
  runKernelCases,
} from "../../src/sparse-engine/kernel-runner.js";
import { createRng, linearCase } from "../../src/sparse-engine/reference-cases.js";
import { depthwiseCases, emptyRowCases, randomCases, randomOtherCases } from "./random-specs.js";

describe("SparseEngine kernels on Cortex-M7 under QEMU", () => {
  let dir: string;
  let runner: KernelRunner;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tf-qemu-kernels-"));
    const board = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
    assert.ok(board !== undefined);
    runner = await buildKernelRunner(
      { kind: "qemu", board, pluginCacheDir: join(dir, "cache") },
      dir,
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("random layers of every kernel equal the reference", async () => {
    const cases = [
      ...randomCases(11, {
        conv1x1: 20,
        convKxK: 15,
        depthwise: 8,
        linear: 20,
        matmul: 10,
      }),
      ...randomOtherCases(13, 3),
      ...depthwiseCases(17),
    ];
    const { results, instructions } = await runKernelCases(
      runner,
      cases.map((c) => encodeCase(c.kernelCase)),
    );
    assert.equal(instructions?.length, cases.length);
    for (const [i, c] of cases.entries()) {
      assert.equal(results[i]?.status, 0, c.label);
      assert.deepEqual(results[i]?.output, c.expected, c.label);
    }
  });

  test("channels whose blocks are all pruned output their requantized bias", async () => {
    const cases = emptyRowCases(21);
    const { results } = await runKernelCases(
      runner,
      cases.map((c) => encodeCase(c.kernelCase)),
    );
    for (const [i, c] of cases.entries()) {
      assert.equal(results[i]?.status, 0, c.label);
      assert.deepEqual(results[i]?.output, c.expected, c.label);
    }
  });

  test("a board profile at -O0 or -Os builds the same kernels and gets the same bytes", async () => {
    // The asm fast paths need optimization (at -O0 gcc cannot allocate their
    // operands); unoptimized builds must fall back to C, not fail to compile.
    const board = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
    assert.ok(board !== undefined);
    const cases = [
      ...emptyRowCases(23),
      ...depthwiseCases(24),
      ...randomCases(25, { conv1x1: 6, convKxK: 4, linear: 6 }),
    ];
    for (const level of ["-O0", "-Os"]) {
      const cflags = board.compiler.cflags.map((f) => (/^-O/.test(f) ? level : f));
      const levelDir = join(dir, level);
      await mkdir(levelDir, { recursive: true });
      const levelRunner = await buildKernelRunner(
        {
          kind: "qemu",
          board: { ...board, compiler: { ...board.compiler, cflags } },
          pluginCacheDir: join(dir, "cache"),
        },
        levelDir,
      );
      const { results } = await runKernelCases(
        levelRunner,
        cases.map((c) => encodeCase(c.kernelCase)),
      );
      for (const [i, c] of cases.entries()) {
        assert.equal(results[i]?.status, 0, `${level} ${c.label}`);
        assert.deepEqual(results[i]?.output, c.expected, `${level} ${c.label}`);
      }
    }
  });

  test("instruction counts are deterministic and skip pruned blocks", async () => {
    const rng = createRng(12);
    const spec = { rows: 8, inFeatures: 128, outFeatures: 32, bias: true };
    const exact = { exactSparsity: true };
    const dense = linearCase(rng, { ...spec, blockSize: 0, sparsity: 0 }, exact);
    const full = linearCase(rng, { ...spec, blockSize: 8, sparsity: 0 }, exact);
    const pruned = linearCase(rng, { ...spec, blockSize: 8, sparsity: 0.9 }, exact);
    const batch = [dense, full, pruned].map((c) => encodeCase(c.kernelCase));
    const first = await runKernelCases(runner, batch);
    const second = await runKernelCases(runner, batch);
    assert.deepEqual(first.instructions, second.instructions);
    const [denseCount = 0, fullCount = 0, prunedCount = 0] = first.instructions ?? [];
    assert.ok(denseCount > 8 * 128 * 32 * 0.5, `dense count ${denseCount} too small to be real`);
    // Multiplying pruned blocks would cost as much as the unpruned weight.
    assert.ok(prunedCount * 2.5 < fullCount, `90 % pruned ${prunedCount} vs unpruned ${fullCount}`);
    assert.ok(prunedCount * 2 < denseCount, `90 % pruned ${prunedCount} vs dense ${denseCount}`);
    assert.deepEqual(first.results[2]?.output, pruned.expected);
  });
});
