/**
 * dataset → supernas → sparsenas on a tiny search space (16x16 images, a few
 * hundred of them): the supernet trains by the sandwich rule, the search
 * assesses candidates against the board's budgets and logs every one, the
 * chosen candidate meets every budget and is pruned exactly to its plan; the
 * same seed gives the same bytes, with or without worker processes; a budget
 * edit reruns the search but not the supernet training; and a search killed
 * with SIGKILL resumes from its last finished generation and ends exactly as
 * an uninterrupted one. Built through to the report, the search's prediction
 * for its choice meets the linker's SRAM exactly and its flash and QEMU's
 * instructions within 2 % and 10 %.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { openProject } from "../../src/api/project.js";
import type { StageDefinition } from "../../src/graph-runner/stage.js";
import { readTensorData } from "../../src/model-ir/blob.js";
import { loadModel } from "../../src/model-ir/io.js";
import type { Model } from "../../src/model-ir/types.js";
import { createPipelineThrough, type PipelineOptions } from "../../src/pipeline/pipeline.js";
import { packageRoot } from "../../src/project-paths.js";
import type { BuildReport } from "../../src/report/types.js";
import type { SearchRecord } from "../../src/search/evolution.js";
import type { FinetuneReport } from "../../src/stages/finetune.js";
import type { ChosenCandidate, SparsenasReport } from "../../src/stages/sparsenas.js";
import type { SupernasReport } from "../../src/stages/supernas.js";
import { waitFor } from "../helpers/run-cli-process.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";
import { plotFigures } from "../report/page-fixture.js";

const RECIPE = `seed: 5
backend: wasm
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 256
  test_limit: 32
  validation_fraction: 0.25
  input_resolution_px: 16
search_space:
  stem: { channels: [8, 12], stride: 1 }
  stages:
    - { block: mbv2, depth: [1, 2], channels: [12, 16], expansion: [2, 3], kernel_size: [3, 5], stride: 2 }
    - { block: mobilevit, depth: 1, channels: [16, 24], embed_dim: [16, 24], heads: [2, 4], mlp_ratio: [1, 2], patch_size: 2, stride: 1 }
sparsity:
  global_target: [0.25, 0.5, 0.75]
  block_sizes: [1, 4, 8]
search:
  population: 6
  generations: 4
  parents: 2
  recalibration_images: 64
  validation_images: 48
training:
  supernas: { epochs: 1, batch_size: 32, learning_rate: 0.01 }
  sparsenas: { epochs: 1, batch_size: 32, learning_rate: 0.005, ramp_fraction: 0.5 }
`;

const stages = (): StageDefinition[] => createPipelineThrough({ backend: "wasm" }, "finetune");
const withWorkers = (): StageDefinition[] =>
  createPipelineThrough({ backend: "wasm", searchWorkers: 2 }, "finetune");

function readLog(ws: TestWorkspace): SearchRecord[] {
  return readFileSync(join(ws.root, "build/test/sparsenas/search-log.jsonl"), "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as SearchRecord);
}

const read = (ws: TestWorkspace, file: string) => readFileSync(join(ws.root, file));

describe("search stages, end to end", () => {
  let ws: TestWorkspace;
  /** The first build's search log: what every later run of the same search must reproduce. */
  let firstLog: Buffer;
  before(async () => {
    ws = await createTestWorkspace(RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  test("trains the supernet, searches under the budgets and prunes the chosen candidate exactly", async () => {
    const progress: string[] = [];
    const result = await buildProject(await openProject({ cwd: ws.root, createStages: stages }), {
      onEvent: (event) => {
        if (event.type === "stage-progress") progress.push(`${event.stage}: ${event.message}`);
      },
    });
    assert.deepEqual(result.outcomes, {
      dataset: "built",
      "space-search": "built",
      supernas: "built",
      sparsenas: "built",
      finetune: "built",
    });

    const supernas = JSON.parse(
      await ws.read("build/test/supernas/supernas.json"),
    ) as SupernasReport;
    assert.ok(supernas.supernet, "a supernet report");
    assert.equal(supernas.supernet.randomSubnetsPerStep, 1);
    assert.equal(supernas.supernet.largest.choice.stem.channels, 12);
    assert.equal(supernas.supernet.smallest.choice.stem.channels, 8);
    assert.ok(supernas.supernet.smallest.parameters < supernas.supernet.largest.parameters);
    assert.ok(supernas.supernet.largest.parameters <= supernas.supernet.supernetParameters);
    assert.ok(progress.some((line) => /3 sub-networks per step/.test(line)));

    const report = JSON.parse(
      await ws.read("build/test/sparsenas/sparsenas.json"),
    ) as SparsenasReport;
    const log = readLog(ws);
    firstLog = read(ws, "build/test/sparsenas/search-log.jsonl");
    assert.ok(report.search && report.predicted);
    assert.equal(report.search.assessed, log.length);
    assert.equal(report.search.evaluated + report.search.rejected, log.length);
    assert.equal(report.search.validationImages, 48);
    const chosen = log[report.search.chosen.index];
    assert.ok(chosen?.feasible);
    assert.deepEqual(report.architecture, chosen.candidate.architecture);
    assert.deepEqual(report.predicted, chosen.predicted);
    // The finalists are the most accurate feasible candidates in float; the
    // chosen one is the most accurate of them in INT8 (not necessarily in float).
    const { finalists } = report.search;
    const isFinalist = (index: number) => finalists.some((f) => f.index === index);
    if (finalists.length > 0) {
      const bestInt8 = Math.max(...finalists.map((f) => f.int8Accuracy));
      assert.equal(finalists.find((f) => f.index === chosen.index)?.int8Accuracy, bestInt8);
    }
    const finalistFloor =
      finalists.length > 0 ? Math.min(...finalists.map((f) => f.accuracy)) : (chosen.accuracy ?? 0);
    for (const record of log) {
      if (record.feasible && !isFinalist(record.index))
        assert.ok(record.accuracy !== null && record.accuracy <= finalistFloor);
    }
    const { budgets } = report.search;
    assert.ok(chosen.predicted.flashBytes <= budgets.flashBytes);
    assert.ok(chosen.predicted.sramBytes <= budgets.sramBytes);
    assert.ok(progress.some((line) => /^sparsenas: generation 4\/4: /.test(line)));
    const front = JSON.parse(await ws.read("build/test/sparsenas/pareto.json")) as {
      index: number;
    }[];
    assert.ok(front.length > 0 && front.some((entry) => entry.index === chosen.index));

    const candidate = JSON.parse(
      await ws.read("build/test/sparsenas/candidate.json"),
    ) as ChosenCandidate;
    assert.deepEqual(candidate.layers, chosen.candidate.layers);
    assert.equal(candidate.recalibrationImages, 64);

    // Fine-tuning pruned every layer of the chosen plan to exactly its block count.
    const finetune = JSON.parse(
      await ws.read("build/test/finetune/finetune.json"),
    ) as FinetuneReport;
    const loaded = await loadModel(join(ws.root, "build/test/finetune/model"));
    if (!loaded.ok) assert.fail(JSON.stringify(loaded.issues));
    const floatModel: Model = loaded.model;
    for (const plan of chosen.candidate.layers) {
      const summary = finetune.layers.find((layer) => layer.name === plan.name);
      assert.ok(summary, plan.name);
      assert.equal(summary.blockSize, plan.blockSize, plan.name);
      if (plan.blockSize === null) continue;
      assert.equal(summary.prunedBlocks, Math.round(plan.target * summary.blocks), plan.name);
      const weight = floatModel.graph.tensors.find((t) => t.name === `${plan.name}.weight`);
      assert.ok(weight, plan.name);
      assert.equal(weight.sparsity?.blockSize, plan.blockSize, plan.name);
      const values = readTensorData(floatModel, weight);
      let zero = 0;
      for (let start = 0; start < values.length; start += plan.blockSize) {
        let all = true;
        for (let i = start; i < start + plan.blockSize; i++) if (values[i] !== 0) all = false;
        if (all) zero++;
      }
      assert.equal(zero, summary.prunedBlocks, plan.name);
    }
  });

  test("the same seed gives the same bytes, also with two worker processes", async () => {
    const log = firstLog;
    const model = read(ws, "build/test/finetune/model.bin");
    const again = await buildProject(await openProject({ cwd: ws.root, createStages: stages }), {
      force: ["sparsenas"],
    });
    assert.equal(again.outcomes.sparsenas, "built");
    assert.equal(again.outcomes.finetune, "cached", "the same choice: fine-tuning is not redone");
    assert.deepEqual(read(ws, "build/test/sparsenas/search-log.jsonl"), log);
    const tuned = await buildProject(await openProject({ cwd: ws.root, createStages: stages }), {
      force: ["finetune"],
    });
    assert.equal(tuned.outcomes.finetune, "built");
    assert.deepEqual(read(ws, "build/test/finetune/model.bin"), model);
    const parallel = await buildProject(
      await openProject({ cwd: ws.root, createStages: withWorkers }),
      { force: ["sparsenas"] },
    );
    assert.equal(parallel.outcomes.sparsenas, "built");
    assert.deepEqual(read(ws, "build/test/sparsenas/search-log.jsonl"), log);
  });

  test("training with 2 workers has keys of its own and gives the same bytes on every run", async () => {
    const twoWorkers = (options: PipelineOptions): StageDefinition[] =>
      createPipelineThrough({ ...options, backend: "wasm" }, "finetune");
    const open = () => openProject({ cwd: ws.root, createStages: twoWorkers, trainingWorkers: 2 });
    const progress: string[] = [];
    const first = await buildProject(await open(), {
      onEvent: (event) => {
        if (event.type === "stage-progress") progress.push(`${event.stage}: ${event.message}`);
      },
    });
    assert.equal(first.outcomes.supernas, "built", "the worker count is part of the key");
    assert.equal(first.outcomes.finetune, "built");
    assert.ok(
      progress.some((line) => /^supernas: training data-parallel on 2 replicas/.test(line)),
    );
    assert.ok(
      progress.some((line) => /^finetune: training data-parallel on 2 replicas/.test(line)),
    );
    const supernas = JSON.parse(
      read(ws, "build/test/supernas/supernas.json").toString(),
    ) as SupernasReport;
    assert.match(supernas.backend.version, /\+workers2$/);
    const finetune = JSON.parse(
      read(ws, "build/test/finetune/finetune.json").toString(),
    ) as FinetuneReport;
    assert.match(finetune.backend.version, /\+workers2$/);
    assert.ok(finetune.overall.achieved > 0, "pruning ran with the replicas");
    const model = read(ws, "build/test/finetune/model.bin");
    const again = await buildProject(await open(), { force: ["supernas", "finetune"] });
    assert.equal(again.outcomes.supernas, "built");
    assert.equal(
      again.outcomes.sparsenas,
      "cached",
      "the same supernet bytes: the search is not redone",
    );
    assert.deepEqual(read(ws, "build/test/finetune/model.bin"), model);
    const single = await buildProject(await openProject({ cwd: ws.root, createStages: stages }));
    assert.equal(single.outcomes.supernas, "cached", "one worker keeps its own entry");
  });

  test("budget and search edits rerun the search, never the supernet training; fine-tuning edits only the fine-tuning", async () => {
    const chosen = readLog(ws)[0]?.predicted;
    assert.ok(chosen);
    for (const overrides of [
      [`search.latency_budget_instructions=${chosen.instructions}`],
      ["search.population=5"],
      ["sparsity.global_target=[0.5, 0.75]"],
    ]) {
      const started: string[] = [];
      const result = await buildProject(
        await openProject({ cwd: ws.root, createStages: stages, overrides }),
        { onEvent: (event) => event.type === "stage-start" && started.push(event.stage) },
      );
      assert.deepEqual(started.slice(0, 1), ["sparsenas"], overrides.join(" "));
      assert.ok(started.every((stage) => stage === "sparsenas" || stage === "finetune"));
      assert.equal(result.outcomes.supernas, "cached");
    }
    const started: string[] = [];
    await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages,
        overrides: ["training.sparsenas.learning_rate=0.004"],
      }),
      { onEvent: (event) => event.type === "stage-start" && started.push(event.stage) },
    );
    assert.deepEqual(started, ["finetune"]);
    // The latency budget held: nothing chosen above it.
    const latency = chosen.instructions;
    await buildProject(
      await openProject({
        cwd: ws.root,
        createStages: stages,
        overrides: [`search.latency_budget_instructions=${latency}`],
      }),
    );
    const report = JSON.parse(
      await ws.read("build/test/sparsenas/sparsenas.json"),
    ) as SparsenasReport;
    assert.equal(report.search?.budgets.instructions, latency);
    assert.ok((report.predicted?.instructions ?? Number.POSITIVE_INFINITY) <= latency);
    for (const record of readLog(ws))
      assert.equal(record.feasible, record.predicted.instructions <= latency);
  });

  test("a search killed with SIGKILL resumes from its last finished generation", async () => {
    const uninterrupted = firstLog;
    const other = await createTestWorkspace(RECIPE);
    try {
      // Train the supernet first, so the kill lands in the search.
      await buildProject(
        await openProject({
          cwd: other.root,
          createStages: () => createPipelineThrough({ backend: "wasm" }, "supernas"),
        }),
      );
      const child = spawn(process.execPath, [join(packageRoot, "bin", "tinyformer.js"), "build"], {
        cwd: other.root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const resume = join(other.root, ".tinyformer/cache/resume/sparsenas");
      const stateFile = () => {
        if (!existsSync(resume)) return undefined;
        const [key] = readdirSync(resume);
        return key === undefined ? undefined : join(resume, key, "search-state.json");
      };
      await waitFor(() => {
        const file = stateFile();
        if (file === undefined || !existsSync(file)) return false;
        try {
          return (
            (JSON.parse(readFileSync(file, "utf8")) as { state: { generation: number } }).state
              .generation >= 2
          );
        } catch {
          return false;
        }
      }, 120_000);
      child.kill("SIGKILL");
      await new Promise((resolve) => child.on("close", resolve));
      assert.ok(!existsSync(join(other.root, "build/test/sparsenas/search-log.jsonl")));

      const progress: string[] = [];
      const resumed = await buildProject(
        await openProject({ cwd: other.root, createStages: stages }),
        {
          onEvent: (event) => {
            if (event.type === "stage-progress") progress.push(event.message);
          },
        },
      );
      assert.equal(resumed.outcomes.sparsenas, "built");
      assert.equal(resumed.outcomes.supernas, "cached");
      assert.ok(
        progress.some((line) => /^resumed after [2-4] finished generation\(s\)$/.test(line)),
        progress.join("\n"),
      );
      assert.deepEqual(read(other, "build/test/sparsenas/search-log.jsonl"), uninterrupted);
      assert.ok(
        !existsSync(resume) || readdirSync(resume).length === 0,
        "the resume state is gone",
      );
    } finally {
      await other.cleanup();
    }
  });

  test("the whole pipeline: the report sets the search's prediction beside the linker's and QEMU's figures", async () => {
    const result = await buildProject(await openProject({ cwd: ws.root }));
    assert.ok(result.ok, JSON.stringify(result.outcomes));
    const report = JSON.parse(await ws.read("build/test/report/report.json")) as BuildReport;
    const searched = report.predictions.find((prediction) => prediction.source === "sparsenas");
    assert.ok(searched, "the search's prediction is in the report");
    // Predicted on the supernet's weights pruned one-shot; measured after fine-tuning.
    assert.equal(searched.sram_error, 0, "SRAM exact");
    assert.ok(Math.abs(searched.flash_error) <= 0.02, `flash error ${searched.flash_error}`);
    assert.ok(
      Math.abs(searched.instructions_error) <= 0.1,
      `instructions error ${searched.instructions_error}`,
    );
    assert.equal(report.memory.sram.used_bytes, searched.sram_bytes);
    // report.html draws the search: its candidates against flash and instructions.
    const html = await ws.read("build/test/report/report.html");
    const plots = plotFigures(html).map((figure) => figure.id);
    assert.deepEqual(plots.slice(-2), ["search-flash", "search-instructions"]);
    assert.doesNotMatch(html, /No search plots/);
  });
});
