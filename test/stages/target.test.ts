/**
 * compile-target → verify-target after the real dataset, quantize and
 * codegen stages, with a fixed float model standing in for finetune: the
 * device link's footprint against the board's budgets, the QEMU run's bytes
 * against the interpreter's, deterministic instruction counts, a wrong byte
 * in the generated C traced to its layer on the target, an over-budget board
 * and a missing cross-compiler.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { CodegenSummary } from "../../src/codegen/index.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import type { StageDefinition } from "../../src/graph-runner/stage.js";
import { packageRoot } from "../../src/project-paths.js";
import type { CompileTargetReport } from "../../src/stages/compile-target.js";
import {
  describeOutputMismatch,
  findOutputMismatch,
  type VerifyTargetReport,
} from "../../src/stages/verify-target.js";
import { parseMapRodataBytes, parseSectionSizes } from "../../src/toolchain/footprint.js";
import { readSymbolAddresses } from "../../src/toolchain/symbols.js";
import { createSampleModelPipeline } from "../helpers/sample-model-pipeline.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const RECIPE = `seed: 3
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 24
  test_limit: 8
  validation_fraction: 0.25
search_space:
  stages: [{ block: mbv2, channels: 8 }]
quantization:
  calibration_images: 4
  evaluation_images: 4
verification:
  target_images: 3
`;

const stages = () =>
  createSampleModelPipeline(["quantize", "codegen", "compile-target", "verify-target"]);

/**
 * The pipeline with a codegen that writes one wrong weight: the first value
 * of the first dense weight array becomes 100 (99 if it was 100). Reports
 * the index of the layer it corrupted through `corrupted`.
 */
function stagesWithCorruptWeight(corrupted: { layer?: number }): () => StageDefinition[] {
  return () =>
    stages().map((stage) => {
      const run = stage.run;
      if (stage.name !== "codegen" || run === undefined) return stage;
      return {
        ...stage,
        implementation: import.meta.url,
        async run(context) {
          await run(context);
          const source = join(context.outDir, "tf_model.c");
          const text = await readFile(source, "utf8");
          const match = /static const int8_t l(\d+)_weight\[\d+\][^{]*\{\s*(-?\d+)/.exec(text);
          assert.ok(match !== null, "a dense weight array to corrupt");
          corrupted.layer = Number(match[1]);
          const valueEnd = match.index + match[0].length;
          const valueStart = valueEnd - (match[2] as string).length;
          const wrong = Number(match[2]) === 100 ? 99 : 100;
          await writeFile(source, `${text.slice(0, valueStart)}${wrong}${text.slice(valueEnd)}`);
        },
      } satisfies StageDefinition;
    });
}

async function build(
  ws: TestWorkspace,
  options: {
    force?: string[];
    overrides?: string[];
    createStages?: () => StageDefinition[];
  } = {},
): Promise<{ outcomes: Record<string, string>; events: BuildEvent[] }> {
  const project = await openProject({
    cwd: ws.root,
    createStages: options.createStages ?? stages,
    overrides: options.overrides ?? [],
  });
  const events: BuildEvent[] = [];
  const result = await buildProject(project, {
    force: options.force ?? [],
    onEvent: (event) => events.push(event),
  });
  return { outcomes: result.outcomes, events };
}

function failureOf(events: readonly BuildEvent[], stage: string): string {
  const failed = events.find((e) => e.type === "stage-failed" && e.stage === stage);
  return failed?.type === "stage-failed" ? failed.error : "";
}

test("footprint parsers: section sizes and the kept .rodata input sections of a map file", () => {
  const sizes = parseSectionSizes(
    "tf_model_device.elf  :\nsection       size        addr\n.text        12345   134217728\n" +
      ".data          100   536870912\n.bss          2048   536871012\n.ARM.attributes 46 0\nTotal 14539\n",
  );
  assert.deepEqual(
    [...sizes],
    [
      [".text", 12345],
      [".data", 100],
      [".bss", 2048],
      [".ARM.attributes", 46],
    ],
  );
  const map = [
    "Discarded input sections",
    " .rodata.unused 0x00000000 0x400 a.o",
    "Memory Configuration",
    "Linker script and memory map",
    " .text.tf_model_run",
    "                0x08000100      0x120 tf_model.o",
    " .rodata.tf_weights",
    "                0x08001000      0x800 tf_model.o",
    " .rodata        0x08001800       0x10 kernel.o",
    " *fill*         0x08001810        0x4 ",
  ].join("\n");
  assert.equal(parseMapRodataBytes(map), 0x810);
});

test("an emulator output that differs from the interpreter's names the image and the byte", () => {
  const expected = [Int8Array.of(1, 2, 3), Int8Array.of(-4, 5, 6)];
  assert.equal(findOutputMismatch(expected, Uint8Array.of(1, 2, 3, 252, 5, 6)), undefined);
  const mismatch = findOutputMismatch(expected, Uint8Array.of(1, 2, 3, 252, 5, 7));
  assert.deepEqual(mismatch, { image: 1, byte: 2, expected: 6, actual: 7 });
  assert.equal(
    describeOutputMismatch(mismatch, "test", ""),
    "target output differs from the interpreter on test image 1 at byte 2 (expected 6, got 7)",
  );
});

describe("compile-target and verify-target stages", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  let footprint: CompileTargetReport;

  test("link for the board, run under QEMU: the interpreter's bytes and deterministic counts", async () => {
    const { outcomes, events } = await build(ws);
    assert.equal(
      outcomes["verify-target"],
      "built",
      `${JSON.stringify(outcomes)} ${failureOf(events, "compile-target")}${failureOf(events, "verify-target")}`,
    );
    assert.deepEqual(
      (await readdir(join(ws.root, "build/test/compile-target")))
        .filter((f) => !f.startsWith("."))
        .sort(),
      [
        "compile-target.json",
        "tf_model_device.elf",
        "tf_model_target.elf",
        "tf_model_target_debug.elf",
        "tf_model_target_profile.elf",
      ],
    );
    footprint = JSON.parse(
      await ws.read("build/test/compile-target/compile-target.json"),
    ) as CompileTargetReport;
    const summary = JSON.parse(await ws.read("build/test/codegen/codegen.json")) as CodegenSummary;
    assert.deepEqual(Object.keys(footprint), [
      "board",
      "sections",
      "flash",
      "sram",
      "layer_kernels",
    ]);
    assert.deepEqual(
      footprint.layer_kernels,
      summary.layers.map((l) => l.kernel),
    );
    assert.deepEqual(Object.keys(footprint.sections), [
      "text_bytes",
      "rodata_bytes",
      "data_bytes",
      "bss_bytes",
    ]);
    for (const region of [footprint.flash, footprint.sram])
      assert.deepEqual(Object.keys(region), ["used_bytes", "budget_bytes", "margin_bytes"]);
    const { text_bytes, rodata_bytes, data_bytes, bss_bytes } = footprint.sections;
    assert.equal(footprint.board, "stm32f746");
    assert.ok(text_bytes > 1000, `text ${text_bytes}`);
    assert.ok(rodata_bytes >= summary.totals.weightBytes, `rodata ${rodata_bytes}`);
    assert.ok(bss_bytes >= summary.arena.bytes, `bss ${bss_bytes}`);
    assert.ok(data_bytes >= 0);
    assert.deepEqual(footprint.flash, {
      used_bytes: text_bytes + rodata_bytes + data_bytes,
      budget_bytes: 1048576 - 65536,
      margin_bytes: 1048576 - 65536 - (text_bytes + rodata_bytes + data_bytes),
    });
    assert.deepEqual(footprint.sram, {
      used_bytes: data_bytes + bss_bytes,
      budget_bytes: 327680 - 16384,
      margin_bytes: 327680 - 16384 - (data_bytes + bss_bytes),
    });
    assert.ok(footprint.flash.margin_bytes > 0 && footprint.sram.margin_bytes > 0);

    // The device image runs on the board as it is: no semihosting, no
    // instruction-count markers, the vector table at the start of flash and
    // the stack starting at the real end of SRAM (inside the reserve).
    const deviceElf = join(ws.root, "build/test/compile-target/tf_model_device.elf");
    const hosted = ["initialise_monitor_handles", "_swiwrite", "fputs", "exit", "tf_region_begin"];
    const symbols = await readSymbolAddresses(deviceElf, [
      ...hosted,
      "tf_vector_table",
      "tf_reset_handler",
      "__stack_top",
      "tf_model_run",
    ]);
    for (const name of hosted) assert.ok(!symbols.has(name), `device image links ${name}`);
    assert.equal(symbols.get("tf_vector_table"), 0x08000000);
    assert.equal(symbols.get("__stack_top"), 0x20000000 + 327680);
    assert.ok(symbols.has("tf_model_run") && symbols.has("tf_reset_handler"));
    const emulatorSymbols = await readSymbolAddresses(
      join(ws.root, "build/test/compile-target/tf_model_target.elf"),
      ["initialise_monitor_handles", "tf_region_begin"],
    );
    assert.equal(emulatorSymbols.size, 2, "the emulator build keeps semihosting and markers");

    const report = JSON.parse(
      await ws.read("build/test/verify-target/verify-target.json"),
    ) as VerifyTargetReport;
    assert.deepEqual(Object.keys(report), [
      "images",
      "instructions_per_inference",
      "instructions",
      "layer_instructions",
    ]);
    assert.equal(report.images, 3);
    assert.equal(report.instructions.length, 3);
    for (const n of report.instructions) assert.ok(Number.isInteger(n) && n > 0, String(n));
    assert.equal(report.instructions_per_inference, Math.max(...report.instructions));
    // The per-layer profile of the first image: every layer counted, and
    // together all of the inference but tf_model_run's own input and output
    // copies and status checks.
    assert.equal(report.layer_instructions.length, summary.layers.length);
    for (const n of report.layer_instructions) assert.ok(Number.isInteger(n) && n > 0, String(n));
    const layerSum = report.layer_instructions.reduce((a, b) => a + b, 0);
    const first = report.instructions[0] as number;
    assert.ok(layerSum < first && layerSum > 0.95 * first, `${layerSum} of ${first}`);
    // codegen.json's prediction, made without compiling, against the device
    // link and QEMU: SRAM exactly, flash within 2 %, instructions within 10 %.
    const estimate = summary.estimate;
    assert.ok(estimate !== undefined, "codegen.json carries an estimate");
    assert.equal(estimate.tables.footprint.board, "stm32f746");
    assert.equal(estimate.sramBytes, footprint.sram.used_bytes);
    assert.ok(Math.abs(estimate.flashBytes / footprint.flash.used_bytes - 1) <= 0.02);
    assert.ok(Math.abs(estimate.instructions / first - 1) <= 0.1, `${estimate.instructions}`);
    assert.ok(existsSync(join(ws.root, ".tinyformer", "cache", "tools", "qemu-plugin")));

    const again = await build(ws, { force: ["verify-target"] });
    assert.equal(again.outcomes["verify-target"], "built");
    assert.equal(again.outcomes["compile-target"], "cached");
    assert.deepEqual(
      JSON.parse(await ws.read("build/test/verify-target/verify-target.json")),
      report,
    );

    const fewer = await build(ws, { overrides: ["verification.target_images=2"] });
    assert.equal(fewer.outcomes["compile-target"], "cached");
    assert.equal(fewer.outcomes["verify-target"], "built");
    const two = JSON.parse(
      await ws.read("build/test/verify-target/verify-target.json"),
    ) as VerifyTargetReport;
    assert.deepEqual(two.instructions, report.instructions.slice(0, 2));
  });

  test("a wrong byte in the generated C fails verify-target naming the first differing layer", async () => {
    const corrupted: { layer?: number } = {};
    const { outcomes, events } = await build(ws, {
      createStages: stagesWithCorruptWeight(corrupted),
    });
    assert.equal(outcomes.quantize, "cached");
    assert.equal(outcomes["verify-target"], "failed", JSON.stringify(outcomes));
    const summary = JSON.parse(await ws.read("build/test/codegen/codegen.json")) as CodegenSummary;
    const layer = summary.layers[corrupted.layer ?? -1];
    assert.ok(layer !== undefined, `layer ${corrupted.layer}`);
    assert.match(
      failureOf(events, "verify-target"),
      new RegExp(
        `^target output differs from the interpreter on test image \\d+ at byte \\d+ \\(expected -?\\d+, got -?\\d+\\); ` +
          `first differing layer: ${corrupted.layer} \\w+ "${layer.op}" \\(${layer.kernel}\\), byte \\d+`,
      ),
    );
  });

  test("a board whose SRAM budget is too small fails compile-target naming the region and the overflow", async () => {
    assert.ok(footprint !== undefined, "needs the first test's build");
    const budget = footprint.sram.used_bytes - 1000;
    const board = (await ws.read("boards/stm32f746.yaml"))
      .replace(/^name: stm32f746$/m, "name: tiny-sram")
      .replace("size_bytes: 327680", `size_bytes: ${budget + 16384}`);
    await ws.write("boards/tiny-sram.yaml", board);
    const { outcomes, events } = await build(ws, { overrides: ["board=tiny-sram"] });
    assert.equal(outcomes["compile-target"], "failed", JSON.stringify(outcomes));
    assert.equal(outcomes.codegen, "cached");
    assert.equal(
      failureOf(events, "compile-target"),
      `the model does not fit the tiny-sram: SRAM overflows by 1,000 B (budget ${budget.toLocaleString("en-US")} B)`,
    );
  });

  test("a missing cross-compiler fails with the install hint", async () => {
    const empty = await mkdtemp(join(tmpdir(), "tinyformer-no-tools-"));
    const path = process.env.PATH;
    process.env.PATH = empty;
    try {
      const { outcomes, events } = await build(ws, { force: ["compile-target"] });
      assert.equal(outcomes["compile-target"], "failed", JSON.stringify(outcomes));
      const error = failureOf(events, "compile-target");
      assert.match(error, /arm-none-eabi-gcc/);
      assert.match(error, /apt-get install gcc-arm-none-eabi/);
    } finally {
      process.env.PATH = path;
      await rm(empty, { recursive: true, force: true });
    }
  });
});
