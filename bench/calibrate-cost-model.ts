/**
 * `npm run bench -- calibrate-cost-model`: measures the dense and sparse
 * weighted kernels under QEMU on a grid of layers, fits the cost model
 * (src/sparse-engine/cost-model.ts) and writes templates/c/cost-model.json.
 * Rerun it whenever a kernel in templates/c changes, and commit the table.
 * Last stdout line: {"cases", "max_relative_error", "kernels": {...}}.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoardProfile } from "../src/config/load-board.js";
import { builtinBoardsDir } from "../src/project-paths.js";
import {
  CALIBRATION_SHAPES,
  fitCostModel,
  measureKernels,
} from "../src/sparse-engine/cost-calibration.js";
import {
  COST_MODEL_FILE,
  type CostModelTable,
  estimateInstructions,
} from "../src/sparse-engine/cost-model.js";

export async function main(): Promise<void> {
  const board = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
  if (board === undefined) throw new Error("board profile stm32f746 not found");
  const dir = await mkdtemp(join(tmpdir(), "tf-calibrate-"));
  try {
    const measurements = await measureKernels(board, CALIBRATION_SHAPES, dir);
    const kernels = fitCostModel(measurements);
    const round = (x: number) => Math.round(x * 1e4) / 1e4;
    for (const cost of Object.values(kernels)) {
      cost.perOutput = round(cost.perOutput);
      cost.perMac = round(cost.perMac);
      cost.perBlock = round(cost.perBlock);
      cost.perRow = round(cost.perRow);
      cost.perInput = round(cost.perInput);
      cost.perTap = round(cost.perTap);
      cost.fixed = round(cost.fixed);
    }
    const table: CostModelTable = {
      format: "tinyformer-cost-model-2",
      measuredWith: {
        board: board.name,
        command: "npm run bench -- calibrate-cost-model",
        cases: measurements.length,
        maxRelativeError: 0,
      },
      kernels,
    };
    const maxRelativeError = Math.max(
      ...measurements.map(
        (m) =>
          Math.abs(estimateInstructions(table, m.kernel, m.work) - m.instructions) / m.instructions,
      ),
    );
    table.measuredWith.maxRelativeError = round(maxRelativeError);
    await writeFile(COST_MODEL_FILE, `${JSON.stringify(table, null, 2)}\n`);
    process.stderr.write(`wrote ${COST_MODEL_FILE} from ${measurements.length} measured layers\n`);
    process.stdout.write(
      `${JSON.stringify({ cases: measurements.length, max_relative_error: table.measuredWith.maxRelativeError, kernels })}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
