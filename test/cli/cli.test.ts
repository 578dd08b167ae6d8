import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { runCli } from "../../src/cli/main.js";
import { missingCifar10Message } from "../../src/datasets/cifar10-binary.js";
import { createPipeline } from "../../src/pipeline/pipeline.js";
import { implementedStages } from "../../src/stages/index.js";
import { runCliIn } from "../helpers/cli-in-process.js";
import { createFakeStages, type FakeStageSpec } from "../helpers/fake-stages.js";
import { createTestWorkspace, MINIMAL_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

const STAGES: FakeStageSpec[] = [
  { name: "a", configKeys: ["seed"] },
  { name: "b", upstream: ["a"] },
];

/** `stages` null: the real TinyFormer pipeline. */
const cli = (ws: TestWorkspace, args: string[], stages: FakeStageSpec[] | null = STAGES) =>
  runCliIn(ws, args, stages);

describe("command line", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace();
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  test("build --dry-run=json and status --json have the documented shapes", async () => {
    const dry = await cli(ws, ["build", "--dry-run=json"]);
    assert.equal(dry.code, 0);
    assert.deepEqual(JSON.parse(dry.out), {
      stages: [
        { name: "a", action: "run", reason: "never built" },
        { name: "b", action: "run", reason: "never built" },
      ],
    });
    assert.deepEqual(ws.invocations(), [], "a dry run runs nothing");
    assert.equal((await cli(ws, ["build"])).code, 0);
    const status = await cli(ws, ["status", "--json", "--set", "seed=9"]);
    assert.deepEqual(JSON.parse(status.out), {
      stages: [
        { name: "a", state: "stale", reason: "recipe key seed: 1 → 9" },
        { name: "b", state: "stale", reason: "upstream a will run" },
      ],
      outputs: { dir: "build/test", overrides: [], current: false },
    });
  });

  test("build/<recipe>/ records which overrides built it; status says when it holds another configuration", async () => {
    assert.equal((await cli(ws, ["build", "--set", "seed=9"])).code, 0);
    const info = JSON.parse(await ws.read("build/test/build-info.json"));
    assert.deepEqual(info.overrides, ["seed=9"]);
    assert.deepEqual(Object.keys(info.keys), ["a", "b"]);
    assert.match(info.keys.a, /^[0-9a-f]{64}$/);
    const plain = await cli(ws, ["status"]);
    assert.match(
      plain.out,
      /^note: build\/test\/ holds the outputs of a build with --set seed=9; building this configuration replaces them/m,
    );
    const same = await cli(ws, ["status", "--json", "--set", "seed=9"]);
    assert.deepEqual(JSON.parse(same.out).outputs, {
      dir: "build/test",
      overrides: ["seed=9"],
      current: true,
    });
    assert.equal((await cli(ws, ["build"])).code, 0);
    assert.doesNotMatch((await cli(ws, ["status"])).out, /note:/);
  });

  test("build --dry-run takes a recipe after it; --dry-run json and --dry-run=json still choose JSON", async () => {
    await ws.write("recipes/other.yaml", MINIMAL_RECIPE);
    const text = await cli(ws, ["build", "--dry-run", "recipes/other.yaml"]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^ {2}run {13}a: never built$/m);
    for (const args of [["--dry-run", "json"], ["--dry-run=json"]]) {
      const json = await cli(ws, ["build", ...args, "recipes/other.yaml"]);
      assert.equal(JSON.parse(json.out).stages.length, 2);
    }
    assert.deepEqual(ws.invocations(), []);
  });

  test("build --help lists the stage names --force takes, and examples", async () => {
    const help = await cli(ws, ["build", "--help"]);
    assert.equal(help.code, 0);
    assert.match(
      help.out.replace(/\s+/g, " "),
      /stages: dataset, space-search, supernas, sparsenas, finetune, quantize, codegen, compile-host, verify-host, compile-target, verify-target, report/,
    );
    assert.match(help.out, /^Examples:$/m);
  });

  test("--version prints the package's version", async () => {
    const { readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { packageRoot } = await import("../../src/project-paths.js");
    const { version } = JSON.parse(await readFile(join(packageRoot, "package.json"), "utf8"));
    for (const flag of ["--version", "-V"]) {
      const run = await cli(ws, [flag]);
      assert.equal(run.code, 0);
      assert.equal(run.out, version);
    }
  });

  test("the real pipeline: all twelve stages in graph, not implemented ones say so", async () => {
    const graph = await cli(ws, ["graph", "--json"], null);
    assert.equal(graph.code, 0);
    const names = (JSON.parse(graph.out) as { stages: { name: string }[] }).stages.map(
      (s) => s.name,
    );
    assert.deepEqual(names, [
      "dataset",
      "space-search",
      "supernas",
      "sparsenas",
      "finetune",
      "quantize",
      "codegen",
      "compile-host",
      "verify-host",
      "compile-target",
      "verify-target",
      "report",
    ]);
    const dot = await cli(ws, ["graph", "--dot"], null);
    assert.match(dot.out, /"codegen" -> "compile-target";/);
    const mermaid = await cli(ws, ["graph", "--mermaid"], null);
    assert.match(mermaid.out, /^flowchart LR/);
    const status = JSON.parse((await cli(ws, ["status", "--json"], null)).out) as {
      stages: { name: string; state: string; reason: string }[];
    };
    // The test workspace names a dataset directory that does not exist.
    assert.deepEqual(status.stages[0], {
      name: "dataset",
      state: "never-built",
      reason: `stage dataset: input data does not exist. ${missingCifar10Message("data", "data_batch_1.bin")}`,
    });
    // A stage can build once it and everything upstream of it are implemented.
    const buildable = new Set<string>();
    for (const stage of createPipeline({ backend: "auto" })) {
      if (
        stage.name in implementedStages &&
        stage.upstream.every((upstream) => buildable.has(upstream))
      )
        buildable.add(stage.name);
    }
    assert.ok(buildable.has("supernas") && buildable.has("sparsenas"));
    for (const stage of status.stages.slice(1)) {
      assert.equal(
        stage.state,
        buildable.has(stage.name) ? "never-built" : "not-implemented",
        `${stage.name}: ${stage.reason}`,
      );
    }
  });

  test("invalid configuration exits 2 with every problem and builds nothing", async () => {
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE.replace("seed: 1", "seed: x\nsed: 2"));
    const result = await cli(ws, ["build", "--set", "quantization.calibration_images=0"]);
    assert.equal(result.code, 2);
    const lines = result.err.split("\n").filter((line) => /^[^ |]+( #\d+>)?:\d+:\d+: /.test(line));
    assert.deepEqual(lines, [
      'recipes/test.yaml:1:7: seed: must be integer, got string "x"',
      'recipes/test.yaml:2:1: unknown key "sed" (did you mean "seed"?)',
      "<--set #1>:1:33: quantization.calibration_images: must be >= 1",
    ]);
    assert.match(result.err, /3 problem\(s\); nothing was built/);
    assert.deepEqual(ws.invocations(), []);
    assert.equal(ws.exists(".tinyformer/cache/entries"), false);
  });

  test("usage errors exit 2 and name what is wrong", async () => {
    const unknownStage = await cli(ws, ["build", "--force", "nope"]);
    assert.equal(unknownStage.code, 2);
    assert.equal(unknownStage.err, 'error: unknown stage "nope"; stages are: a, b');
    assert.equal((await cli(ws, ["why", "nope"])).code, 2);
    assert.equal((await cli(ws, ["build", "--jobs", "0"])).code, 2);
    assert.equal((await cli(ws, ["frobnicate"])).code, 2);
    const noWorkspace = await runCli(["-C", "/", "status"], {
      output: { out: () => {}, err: () => {} },
    });
    assert.equal(noWorkspace, 2);
  });

  test("a failing stage makes build exit 1", async () => {
    const result = await cli(ws, ["build"], [{ name: "a", fail: true }]);
    assert.equal(result.code, 1);
    assert.match(result.err, /FAILED\s+a: a failed on purpose/);
  });

  test("validate checks the workspace, recipes and boards", async () => {
    const ok = await cli(ws, ["validate"]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /3 file\(s\) valid/);
    await ws.write("boards/broken.yaml", "name: Broken Board\n");
    const bad = await cli(ws, ["validate"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /boards\/broken\.yaml:1:7: name: must match pattern/);
  });

  test("why explains a stale stage", async () => {
    await cli(ws, ["build"]);
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE.replace("seed: 1", "seed: 2"));
    const why = await cli(ws, ["why", "b"]);
    assert.equal(why.code, 0);
    assert.equal(
      why.out,
      [
        "b is stale: upstream a must run first, because:",
        "  first: recipe key seed: 1 → 2",
        "(b's own key is known only once a's outputs are; if they come out identical, b stays cached)",
      ].join("\n"),
    );
  });

  test("--backend beats the recipe's backend, which beats the workspace's", async () => {
    const seen: string[] = [];
    const run = async (args: string[]) =>
      runCli(["-C", ws.root, ...args], {
        createStages: (options) => {
          seen.push(options.backend);
          return createFakeStages({ stages: STAGES, logFile: ws.logFile });
        },
        output: { out: () => {}, err: () => {} },
      });
    assert.equal(await run(["status"]), 0);
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}backend: cpu\n`);
    assert.equal(await run(["status"]), 0);
    assert.equal(await run(["status", "--backend", "wasm"]), 0);
    assert.equal(await run(["status", "--backend", "gpu"]), 2);
    assert.deepEqual(seen, ["auto", "cpu", "wasm"]);
  });

  test("after a build with a report, the summary is printed, also when everything was cached", async () => {
    const { assembleReport } = await import("../../src/report/assemble-report.js");
    const report = assembleReport({
      recipe: "test",
      board: { name: "stm32f746", clock_hz: 216_000_000 },
      accuracy: { float: 0.5, int8: 0.49, images: 100, split: "test" },
      prunedLayers: [],
      codegen: {
        arena: { bytes: 1024, lowerBoundBytes: 1024, alignment: 16 },
        totals: { layers: 0, macs: 0, weightBytes: 0, sparseLayers: 0 },
        layers: [],
      },
      outputShapes: new Map(),
      link: {
        board: "stm32f746",
        sections: { text_bytes: 1, rodata_bytes: 2, data_bytes: 3, bss_bytes: 4 },
        flash: { used_bytes: 6, budget_bytes: 100, margin_bytes: 94 },
        sram: { used_bytes: 7, budget_bytes: 100, margin_bytes: 93 },
      },
      run: { images: 1, instructions_per_inference: 2_160_000 },
      predictions: [
        {
          source: "codegen",
          flashBytes: 6,
          sramBytes: 7,
          instructions: 2_000_000,
          tablesMatchBoard: true,
        },
      ],
    });
    const stages = () => [
      {
        name: "report",
        description: "writes a report",
        implementation: import.meta.url,
        upstream: [],
        configKeys: [],
        async run(context: { outDir: string }) {
          const { writeFile } = await import("node:fs/promises");
          const { join } = await import("node:path");
          await writeFile(join(context.outDir, "report.json"), JSON.stringify(report));
          await writeFile(join(context.outDir, "report.html"), "<!doctype html>\n");
        },
      },
    ];
    for (const expectedAction of ["built", "cached"]) {
      const out: string[] = [];
      const code = await runCli(["-C", ws.root, "build"], {
        createStages: stages,
        output: { out: (line) => out.push(line), err: (line) => out.push(line) },
      });
      assert.equal(code, 0, out.join("\n"));
      const text = out.join("\n").replaceAll(`${ws.root}/`, "");
      assert.match(text, new RegExp(`${expectedAction}\\s+report`));
      assert.match(text, /report build\/test\/report\/report\.json/);
      assert.match(text, /plots {4}build\/test\/report\/report\.html/);
      assert.match(text, /accuracy float 50\.0 %, INT8 49\.0 % \(100 test images\)/);
      assert.match(
        text,
        /speed {4}2\.16 M instructions per inference, estimated 10\.0 ms at 216 MHz/,
      );
      assert.match(
        text,
        /predicted flash 6 B \(\+0\.0 %\), SRAM 7 B \(\+0\.0 %\), 2\.00 M instructions \(-7\.4 %\) by codegen/,
      );
    }
    const again: string[] = [];
    const code = await runCli(["-C", ws.root, "report", "--layers"], {
      createStages: stages,
      output: { out: (line) => again.push(line), err: (line) => again.push(line) },
    });
    assert.equal(code, 0, again.join("\n"));
    assert.match(again.join("\n"), /speed {4}2\.16 M instructions per inference/);
  });

  test("report without a build says to build first", async () => {
    const run = await cli(ws, ["report"]);
    assert.equal(run.code, 1);
    assert.match(
      run.err,
      /^error: no report at build\/test\/report\/report\.json; run tinyformer build first$/,
    );
  });
});
