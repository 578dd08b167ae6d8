/**
 * `npm run bench -- model-instructions --model STEM [--policy P] [--board NAME]`:
 * the instructions of one inference of an int8 model (`STEM.json` +
 * `STEM.bin`, e.g. a build's `quantize/model-int8`) and of each of its
 * layers under QEMU, as verify-target counts them (measureModel: the plain
 * and the per-layer profile emulator builds), with this checkout's kernels.
 *
 * --policy     cost-model (default, as codegen chooses), dense or sparse:
 *              fix the kernels' dense-or-sparse choice (without the cost
 *              model) so that two checkouts, whatever their tables, run the
 *              same kernels on the same layers
 *
 * Prints one line per layer on stderr and, last on stdout, one JSON object:
 * the total, the device program's flash bytes and per layer its name,
 * kernel and instructions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WeightPolicy } from "../src/codegen/kernel-calls.js";
import { loadBoardProfile } from "../src/config/load-board.js";
import { loadModel } from "../src/model-ir/io.js";
import { builtinBoardsDir } from "../src/project-paths.js";
import { compileKernelLibrary, measureModel } from "../test/support/calibration/measure-model.js";

const log = (line: string) => process.stderr.write(`${line}\n`);

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

export async function main(args: string[]): Promise<void> {
  const stem = option(args, "--model");
  if (stem === undefined) throw new Error("usage: model-instructions --model STEM [--policy P]");
  const policy = (option(args, "--policy") ?? "cost-model") as WeightPolicy;
  if (!["cost-model", "dense", "sparse"].includes(policy))
    throw new Error(`--policy must be cost-model, dense or sparse, not ${policy}`);
  const boardName = option(args, "--board") ?? "stm32f746";
  const board = await loadBoardProfile(join(builtinBoardsDir, `${boardName}.yaml`));
  if (board === undefined) throw new Error(`no board profile ${boardName} in ${builtinBoardsDir}`);
  const loaded = await loadModel(stem);
  if (!loaded.ok) throw new Error(`${stem}: not a valid model`);
  const dir = await mkdtemp(join(tmpdir(), "tf-model-instructions-"));
  try {
    const kernels = await compileKernelLibrary(board, join(dir, "kernels"));
    const measured = await measureModel(loaded.model, {
      board,
      kernels,
      weightPolicy: policy,
      // A fixed choice needs no table: two checkouts then run the same kernels.
      ...(policy === "cost-model" ? {} : { costModel: null }),
      workDir: join(dir, "model"),
    });
    const layers = measured.program.layers.map((layer, i) => ({
      name: layer.op.name,
      kernel: layer.call.variant,
      instructions: measured.layerInstructions[i] as number,
    }));
    for (const l of layers) log(`${l.name.padEnd(40)} ${l.kernel.padEnd(24)} ${l.instructions}`);
    log(`total ${measured.instructions}, flash ${measured.flashBytes} B`);
    const { instructions, flashBytes } = measured;
    process.stdout.write(
      `${JSON.stringify({ model: stem, policy, instructions, flashBytes, layers })}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
