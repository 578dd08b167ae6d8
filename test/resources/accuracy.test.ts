/**
 * The resource evaluator against the real build, with the toolchains:
 * sample candidates of the search space (MobileNetV2- and MobileViT-style,
 * dense and pruned with blocks of 1 to 16, trained-looking statistics) are
 * generated, linked for the board and run under QEMU as compile-target and
 * verify-target do, and their estimates must get SRAM exactly, flash within
 * 2 % and instructions per inference within 10 %. Also: the committed
 * footprint table still describes the kernels as they compile (it fails
 * when a kernel changes and the tables were not regenerated), and the
 * dense-or-sparse choice picks the kernel that measures faster.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadBoardProfile } from "../../src/config/load-board.js";
import type { BoardProfile } from "../../src/config/types.js";
import { builtinBoardsDir } from "../../src/project-paths.js";
import { estimateResources, loadResourceTables } from "../../src/resources/estimate-resources.js";
import { WEIGHTED_VARIANTS } from "../../src/sparse-engine/cost-model.js";
import { readObjectSections } from "../support/calibration/calibrate-footprint.js";
import { compileKernelLibrary, measureModel } from "../support/calibration/measure-model.js";
import {
  type CandidateSpec,
  createSampleCandidate,
  SHOWCASE_CANDIDATES,
} from "../support/calibration/sample-candidates.js";

const tables = loadResourceTables();

describe("estimates against the device link and QEMU", () => {
  let board: BoardProfile;
  let dir: string;
  let kernels: Map<string, string>;
  before(async () => {
    const profile = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
    assert.ok(profile !== undefined);
    board = profile;
    dir = await mkdtemp(join(tmpdir(), "tf-resources-"));
    kernels = await compileKernelLibrary(board, join(dir, "kernels"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("the footprint table has the sizes the kernels compile to (regenerate the tables when a kernel changes)", async () => {
    const sections = await readObjectSections([...kernels.values()]);
    const stale: string[] = [];
    let checked = 0;
    for (const [id, size] of Object.entries(tables.footprint.sections)) {
      const compiled = sections.get(id);
      // Library and runtime sections are not the kernels' (the runtime is checked by the links below).
      if (compiled === undefined) continue;
      checked++;
      const bytes = size.flash + size.data + size.bss;
      if (compiled.bytes !== bytes)
        stale.push(`${id}: ${bytes} bytes in the table, ${compiled.bytes} compiled`);
    }
    assert.ok(checked >= 25, `${checked} kernel sections checked`);
    assert.deepEqual(stale, [], "run npm run bench -- calibrate-resources and commit the tables");
  });

  test("SRAM exact, flash within 2 %, instructions within 10 %; the choice of kernel is the faster one", async () => {
    for (const spec of SHOWCASE_CANDIDATES) {
      const model = await createSampleCandidate(spec);
      const estimate = estimateResources(model, { tables, board });
      const measured = await measureModel(model, { board, kernels, workDir: join(dir, spec.name) });
      const what = `${spec.name}: estimated ${JSON.stringify({
        flash: estimate.flashBytes,
        sram: estimate.sramBytes,
        instructions: estimate.instructions,
      })}, measured ${JSON.stringify({
        flash: measured.flashBytes,
        sram: measured.sramBytes,
        instructions: measured.instructions,
      })}`;
      assert.equal(estimate.tables.costModel.matchesBoard, true);
      assert.deepEqual(
        estimate.layers.map((l) => l.kernel),
        measured.program.summary.layers.map((l) => l.kernel),
        what,
      );
      assert.equal(estimate.sramBytes, measured.sramBytes, what);
      assert.ok(Math.abs(estimate.flashBytes / measured.flashBytes - 1) <= 0.02, what);
      assert.ok(Math.abs(estimate.instructions / measured.instructions - 1) <= 0.1, what);
      // The per-layer profile adds up to the inference, less tf_model_run's own work.
      const layers = measured.layerInstructions.reduce((a, b) => a + b, 0);
      assert.ok(layers < measured.instructions && layers > 0.98 * measured.instructions, what);
    }
  });

  test("on a pruned candidate, codegen picks the kernel that measures faster wherever they differ clearly", async () => {
    const spec = {
      ...(SHOWCASE_CANDIDATES[2] as CandidateSpec),
      name: "choice",
      seed: 505,
      sparsity: [0.3, 0.9] as [number, number],
    };
    const model = await createSampleCandidate(spec);
    const run = (weightPolicy: "dense" | "sparse") =>
      measureModel(model, {
        board,
        kernels,
        weightPolicy,
        workDir: join(dir, `choice-${weightPolicy}`),
      });
    const dense = await run("dense");
    const sparse = await run("sparse");
    const chosen = estimateResources(model, { tables }).layers;
    let clear = 0;
    for (const [i, layer] of sparse.program.layers.entries()) {
      if (!layer.call.variant.includes("sparse")) continue;
      const d = dense.layerInstructions[i] as number;
      const s = sparse.layerInstructions[i] as number;
      if (Math.abs(s - d) / d < 0.1) continue; // near a tie either kernel will do
      clear++;
      const family = Object.values(WEIGHTED_VARIANTS).find((v) => v.sparse === layer.call.variant);
      const faster = s < d ? layer.call.variant : family?.dense;
      assert.equal(chosen[i]?.kernel, `tf_${faster}`, `${layer.op.name}: dense ${d}, sparse ${s}`);
    }
    assert.ok(clear >= 3, `${clear} layers with a clear winner`);
  });
});
