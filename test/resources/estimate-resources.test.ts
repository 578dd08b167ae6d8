/**
 * The resource evaluator without a toolchain: it plans exactly what codegen
 * plans (kernels, arena), counts exactly the constant arrays the renderer
 * emits, is what codegen writes into codegen.json, is deterministic, says
 * when its tables were measured on another board, and fails loudly on a
 * table that lacks a coefficient.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { generateModelCode } from "../../src/codegen/index.js";
import type { WeightPolicy } from "../../src/codegen/kernel-calls.js";
import { loadBoardProfile } from "../../src/config/load-board.js";
import type { BoardProfile } from "../../src/config/types.js";
import type { Model } from "../../src/model-ir/types.js";
import { builtinBoardsDir } from "../../src/project-paths.js";
import {
  estimateResources,
  loadResourceTables,
  type ResourceTables,
} from "../../src/resources/estimate-resources.js";
import { loadCostModel } from "../../src/sparse-engine/cost-model.js";
import { quantizedCnn, quantizedMobileVit } from "../codegen/codegen-helpers.js";
import { createCoverageModel } from "../support/calibration/coverage-models.js";

const tables = loadResourceTables();

async function board(): Promise<BoardProfile> {
  const profile = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
  assert.ok(profile !== undefined);
  return profile;
}

/** Random models of every kernel, dense and sparse, and the codegen test models. */
function models(): { model: Model; policy: WeightPolicy }[] {
  const out: { model: Model; policy: WeightPolicy }[] = [];
  for (let seed = 1; seed <= 10; seed++) {
    const model = createCoverageModel(seed);
    for (const policy of ["cost-model", "dense", "sparse"] as const) out.push({ model, policy });
  }
  out.push({ model: quantizedMobileVit(), policy: "cost-model" });
  for (const blockSize of [1, 4, 8, 16] as const)
    out.push({ model: quantizedCnn(blockSize, blockSize), policy: "cost-model" });
  return out;
}

/** Bytes of tf_model.c's constant arrays, as declared (each aligned to 4). */
function declaredConstantBytes(source: string): number {
  const size: Record<string, number> = { int8_t: 1, uint8_t: 1, int32_t: 4 };
  let total = 0;
  for (const m of source.matchAll(/static const (int8_t|uint8_t|int32_t) l\d+_\w+\[(\d+)\]/g))
    total += Math.ceil(((size[m[1] as string] as number) * Number(m[2])) / 4) * 4;
  return total;
}

describe("the estimate plans what codegen plans", () => {
  test("arena, lower bound, kernels and constant bytes equal the generated program's; codegen.json carries the same estimate", async () => {
    for (const { model, policy } of models()) {
      const what = `${model.graph.name} (${policy})`;
      const program = await generateModelCode(model, { weightPolicy: policy });
      const estimate = estimateResources(model, { weightPolicy: policy, tables });
      const header = program.files.find((f) => f.path === "tf_model.h")?.contents ?? "";
      const source = program.files.find((f) => f.path === "tf_model.c")?.contents ?? "";
      const define = (name: string) =>
        Number(new RegExp(`#define ${name} (\\d+)`).exec(header)?.[1]);
      assert.equal(estimate.arenaBytes, define("TF_MODEL_ARENA_SIZE"), what);
      assert.equal(estimate.sram.arenaBytes, define("TF_MODEL_ARENA_SIZE"), what);
      assert.equal(estimate.arenaLowerBoundBytes, define("TF_MODEL_ARENA_LOWER_BOUND"), what);
      assert.ok(estimate.sramBytes >= estimate.arenaBytes + estimate.sram.bufferBytes, what);
      assert.deepEqual(
        estimate.layers.map((l) => l.kernel),
        program.summary.layers.map((l) => l.kernel),
        what,
      );
      assert.equal(estimate.flash.constantBytes, declaredConstantBytes(source), what);
      assert.equal(
        estimate.layers.reduce((sum, l) => sum + l.constantBytes, 0),
        estimate.flash.constantBytes,
        what,
      );
      assert.deepEqual(program.summary.estimate, estimate, what);
      assert.equal(
        estimate.instructions,
        estimate.programInstructions + estimate.layers.reduce((s, l) => s + l.instructions, 0),
      );
    }
  });

  test("the same model gives the same estimate, also from a copy", () => {
    const model = createCoverageModel(77);
    const a = estimateResources(model, { tables });
    assert.deepEqual(estimateResources(structuredClone(model), { tables }), a);
    assert.ok(a.instructions > 0 && a.flashBytes > a.flash.constantBytes);
  });
});

describe("the tables' provenance", () => {
  test("an estimate says whether the tables were measured on the board and flags it is for", async () => {
    const stm32 = await board();
    const model = quantizedCnn(4, 1);
    const same = estimateResources(model, { tables, board: stm32 });
    assert.equal(same.tables.costModel.matchesBoard, true);
    assert.equal(same.tables.footprint.matchesBoard, true);
    assert.equal(same.tables.costModel.board, "stm32f746");
    const other: BoardProfile = {
      ...stm32,
      name: "other-board",
      compiler: {
        ...stm32.compiler,
        cflags: [...stm32.compiler.cflags.filter((f) => f !== "-O2"), "-Os"],
      },
    };
    const differs = estimateResources(model, { tables, board: other });
    assert.equal(differs.tables.footprint.matchesBoard, false);
    assert.deepEqual(differs.tables.costModel.mismatches, [
      "measured on stm32f746, asked for other-board",
      `measured with cflags ${stm32.compiler.cflags.join(" ")}, the board has ${other.compiler.cflags.join(" ")}`,
    ]);
    // The figures are the calibration board's either way.
    assert.equal(differs.instructions, same.instructions);
    assert.equal(estimateResources(model, { tables }).tables.costModel.matchesBoard, null);
  });
});

describe("tables that do not fit the kernels", () => {
  test("a count without a coefficient is an error naming the count, the kernel and the fix", () => {
    const broken: ResourceTables = structuredClone(tables);
    delete broken.costModel.kernels.conv_1x1_s8.coefficients.macQuads;
    assert.throws(
      () => estimateResources(quantizedCnn(4, 1), { tables: broken, weightPolicy: "dense" }),
      /no calibrated coefficient for macQuads of tf_conv_1x1_s8 \(regenerate it with npm run bench -- calibrate-resources\)/,
    );
  });

  test("a cost model table of another format is refused, saying how to regenerate it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tf-tables-"));
    try {
      const file = join(dir, "cost-model.json");
      await writeFile(
        file,
        JSON.stringify({ ...loadCostModel(), format: "tinyformer-cost-model-2" }),
      );
      assert.throws(
        () => loadCostModel(file),
        /not a cost model table of format tinyformer-cost-model-3 \(regenerate it with npm run bench -- calibrate-resources\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
