import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadBoardProfile } from "../../src/config/load-board.js";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { builtinBoardsDir } from "../../src/project-paths.js";
import { measureKernels } from "../../src/sparse-engine/cost-calibration.js";
import {
  estimateInstructions,
  fitKernelCost,
  loadCostModel,
  WEIGHTED_KERNELS,
} from "../../src/sparse-engine/cost-model.js";

test("the fit recovers known coefficients", () => {
  const truth = {
    perOutput: 20,
    perMac: 0.75,
    perBlock: 3,
    perRow: 14,
    perInput: 2,
    perTap: 50,
    fixed: 900,
  };
  // Independent pseudo-random features, so every coefficient is determined.
  const random = createSeededRandom(5);
  const samples = Array.from({ length: 14 }, () => {
    const work = {
      outputs: 100 + random.nextInt(1000),
      executedMacs: 5000 + random.nextInt(40_000),
      blockVisits: 40 + random.nextInt(1000),
      rowVisits: 30 + random.nextInt(500),
      inputElements: 300 + random.nextInt(1000),
      inputTaps: 9 * (10 + random.nextInt(17)),
    };
    return {
      work,
      instructions: estimateInstructions(
        {
          format: "tinyformer-cost-model-2",
          measuredWith: { board: "", command: "", cases: 0, maxRelativeError: 0 },
          kernels: { conv1x1: truth } as never,
        },
        "conv1x1",
        work,
      ),
    };
  });
  const fitted = fitKernelCost(samples);
  for (const [name, value] of Object.entries(truth)) {
    assert.ok(
      Math.abs(((fitted as unknown as Record<string, number>)[name] as number) - value) <
        1e-6 * Math.max(1, value),
      name,
    );
  }
});

test("the committed table picks the kernel that measures faster on layers it was not fitted to", async () => {
  const table = loadCostModel();
  assert.deepEqual(Object.keys(table.kernels).sort(), [...WEIGHTED_KERNELS].sort());
  const board = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
  assert.ok(board !== undefined);
  const dir = await mkdtemp(join(tmpdir(), "tf-cost-model-"));
  try {
    const measured = await measureKernels(
      board,
      [
        { family: "conv1x1", c: 40, o: 80, side: 10 },
        { family: "linear", c: 80, o: 40, side: 1, rows: 20 },
        { family: "convKxK", c: 24, o: 24, side: 10, k: 3 },
      ],
      dir,
      99,
    );
    // Each shape's measurements start with its dense run, then its sparse variants.
    let dense = measured[0];
    let disagreements = 0;
    let clearCases = 0;
    for (const m of measured) {
      if (!m.kernel.endsWith("Sparse")) {
        dense = m;
        continue;
      }
      assert.ok(dense !== undefined);
      const measuredSparseWins = m.instructions < dense.instructions;
      const predictedSparseWins =
        estimateInstructions(table, m.kernel, m.work) <
        estimateInstructions(table, dense.kernel, dense.work);
      // Near a tie either choice is fine; elsewhere the model must pick the faster kernel.
      if (Math.abs(m.instructions - dense.instructions) / dense.instructions < 0.15) continue;
      clearCases++;
      if (measuredSparseWins !== predictedSparseWins) disagreements++;
    }
    assert.ok(clearCases >= 10, `${clearCases} clear cases`);
    assert.equal(disagreements, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
