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
import { encodeCase } from "../support/kernel-cases.js";
import { buildKernelRunner, type KernelRunner, runKernelCases } from "../support/kernel-runner.js";
import {
  type ConvSpec,
  convCase,
  createRng,
  type LinearSpec,
  linearCase,
  type PruneOptions,
} from "../support/reference-cases.js";
import {
  broadcastAxisCases,
  concatAxisCases,
  depthwiseCases,
  emptyRowCases,
  leftShiftCases,
  patchSizeCases,
  randomCases,
  randomMovementCases,
  randomOtherCases,
} from "./random-specs.js";

/**
 * Runs the cases on `runner` and asserts each succeeded with the reference's
 * bytes (`prefix` names the build in messages); resolves with the run.
 */
async function expectReferenceBytes(
  runner: KernelRunner,
  cases: readonly {
    label: string;
    kernelCase: Parameters<typeof encodeCase>[0];
    expected: unknown;
  }[],
  prefix = "",
): Promise<Awaited<ReturnType<typeof runKernelCases>>> {
  const run = await runKernelCases(
    runner,
    cases.map((c) => encodeCase(c.kernelCase)),
  );
  for (const [i, c] of cases.entries()) {
    assert.equal(run.results[i]?.status, 0, `${prefix}${c.label}`);
    assert.deepEqual(run.results[i]?.output, c.expected, `${prefix}${c.label}`);
  }
  return run;
}

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
    const { instructions } = await expectReferenceBytes(runner, cases);
    assert.equal(instructions?.length, cases.length);
  });

  test("mul, add and mul with broadcasting, concat, unfold and fold equal the reference", async () => {
    const cases = [
      ...randomMovementCases(27, 12),
      ...broadcastAxisCases(28),
      ...concatAxisCases(29),
      ...patchSizeCases(30),
    ];
    const { instructions } = await expectReferenceBytes(runner, cases);
    assert.equal(instructions?.length, cases.length);
  });

  test("channels whose blocks are all pruned output their requantized bias", async () => {
    const cases = emptyRowCases(21);
    await expectReferenceBytes(runner, cases);
  });

  test("channels that shift left (fused stores, wrapping shifts, int32 limits) equal the reference", async () => {
    const cases = [...leftShiftCases(41), ...leftShiftCases(42)];
    await expectReferenceBytes(runner, cases);
  });

  test("a layer with left-shift channels keeps the fused path", async () => {
    // Each layer three times with the same weights: every channel shifting
    // right (the fused path as it always was), a third of the channels
    // shifting left (must stay fused: about the same count), and the same
    // with a clamp narrower than int8 (the unfused path, for scale).
    const dw: ConvSpec = {
      variant: "depthwise",
      batch: 1,
      h: 12,
      w: 12,
      c: 32,
      o: 32,
      k: [3, 3],
      strides: [1, 1],
      dilations: [1, 1],
      padding: "same",
      blockSize: 0,
      sparsity: 0,
      bias: true,
    };
    const conv: ConvSpec = { ...dw, variant: "1x1", h: 8, w: 8, o: 64, k: [1, 1] };
    const linear: LinearSpec = {
      rows: 16,
      inFeatures: 64,
      outFeatures: 64,
      blockSize: 16,
      sparsity: 0.9,
      bias: true,
    };
    const layers: [string, (prune: PruneOptions) => ReturnType<typeof convCase>, number][] = [
      ["depthwise 3x3", (p) => convCase(createRng(51), dw, p), 12 * 12 * 32],
      ["depthwise 5x5", (p) => convCase(createRng(52), { ...dw, k: [5, 5] }, p), 12 * 12 * 32],
      ["dense 1x1", (p) => convCase(createRng(53), conv, p), 8 * 8 * 64],
      [
        "sparse 1x1",
        (p) => convCase(createRng(54), { ...conv, blockSize: 16, sparsity: 0.9 }, p),
        8 * 8 * 64,
      ],
      [
        "sparse linear",
        (p) => linearCase(createRng(55), linear, p) as unknown as ReturnType<typeof convCase>,
        16 * 64,
      ],
    ];
    const exact = { exactSparsity: true };
    const batch = layers.flatMap(([, make]) => {
      const right = make({ ...exact, typicalQuant: true });
      const mixed = make({ ...exact, leftShifts: 1 / 3 });
      const unfused = { ...mixed.kernelCase, actMin: -127 };
      return [right.kernelCase, mixed.kernelCase, unfused].map((c) => encodeCase(c));
    });
    const { instructions = [] } = await runKernelCases(runner, batch);
    assert.equal(instructions.length, batch.length);
    for (const [i, [label, , outputs]] of layers.entries()) {
      const [right = 0, mixed = 0, unfused = 0] = instructions.slice(3 * i, 3 * i + 3);
      // The depthwise store tests each channel's kind (up to 3 more per output).
      const allowed = label.startsWith("depthwise") ? right + 4 * outputs : right * 1.02 + 64;
      assert.ok(mixed <= allowed, `${label}: ${mixed} with left shifts vs ${right} without`);
      assert.ok(mixed < unfused * 0.85, `${label}: ${mixed} fused vs ${unfused} unfused`);
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
      ...leftShiftCases(26),
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
      await expectReferenceBytes(levelRunner, cases, `${level} `);
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
