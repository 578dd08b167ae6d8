/**
 * The user's first hour, scripted: the real `tinyformer` command in child
 * processes, driven the way the README tells a new user to drive it.
 *
 *   init → (shrink the recipe so the test is quick) → build → edit one key →
 *   why names it old → new → build --json (every line a schema-valid event;
 *   only the stages that read the key run) → report.html in headless
 *   Chromium, every plot drawn, nothing logged, nothing fetched.
 *
 * The browser step skips, saying so, where no Chromium is installed. Set
 * TINYFORMER_KEEP_SCREENSHOT to a path to keep the page's screenshot.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parseDocument } from "yaml";
import { INIT_RECIPE } from "../../src/api/init.js";
import { STAGE_NAMES } from "../../src/pipeline/pipeline.js";
import { packageRoot } from "../../src/project-paths.js";
import { findChromium, launchChromium, needsChromium } from "../helpers/chromium.js";
import { checkPlotsDrawn, openPage, pageProblems } from "../helpers/report-page.js";

const CLI = join(packageRoot, "bin", "tinyformer.js");
const WIDTH = 1100;

/** What the user sets in the generated recipe so the whole session takes a minute or two. */
const QUICK: Record<string, number> = {
  "dataset.train_limit": 256,
  "dataset.test_limit": 64,
  "dataset.validation_fraction": 0.25,
  "dataset.input_resolution_px": 16,
  "training.supernas.epochs": 1,
  "training.sparsenas.epochs": 1,
  "quantization.calibration_images": 16,
  "verification.host_images": 8,
  "verification.target_images": 2,
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tinyformer ARGS` in `cwd`, as a shell would start it (stdout a pipe, no CI variables). */
function tinyformer(cwd: string, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** Edits recipe keys in place, keeping the file's comments, as a user in an editor would. */
async function editRecipe(file: string, values: Record<string, number>): Promise<void> {
  const document = parseDocument(await readFile(file, "utf8"));
  for (const [key, value] of Object.entries(values)) document.setIn(key.split("."), value);
  await writeFile(file, document.toString());
}

describe("a new user's first session", () => {
  let tmp: string;
  let ws: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tinyformer-first-hour-"));
    ws = join(tmp, "demo");
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test("init scaffolds a workspace that validates", async () => {
    const init = await tinyformer(tmp, ["init", "demo"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /tinyformer build/);
    await editRecipe(join(ws, INIT_RECIPE), QUICK);
    const validate = await tinyformer(ws, ["validate"]);
    assert.equal(validate.code, 0, validate.stderr);
  });

  test("build runs every stage and ends with the summary", async () => {
    const build = await tinyformer(ws, ["build"]);
    assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`);
    assert.match(build.stdout, /^building recipes\/my-model\.yaml → build\/my-model$/m);
    assert.match(build.stdout, new RegExp(`done in [\\d.]+ s: ${STAGE_NAMES.length} built`));
    assert.match(build.stdout, /accuracy float [\d.]+ %, INT8 [\d.]+ %/);
    // A pipe gets plain lines: no escape codes, no bars.
    assert.ok(!build.stdout.includes("\u001b"));
    assert.equal(build.stderr, "");
  });

  test("an edited key: why names it old → new", async () => {
    await editRecipe(join(ws, INIT_RECIPE), { "quantization.calibration_images": 24 });
    const why = await tinyformer(ws, ["why", "quantize"]);
    assert.equal(why.code, 0, why.stderr);
    assert.match(why.stdout, /quantization\.calibration_images: 16 → 24/);
    const upstream = await tinyformer(ws, ["why", "finetune"]);
    assert.match(upstream.stdout, /^finetune is fresh: its cache key [0-9a-f]{12} is built$/m);
  });

  test("build --json: schema-valid events; only the stages downstream of the key run", async () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(
      JSON.parse(await readFile(join(packageRoot, "schemas", "build-event.schema.json"), "utf8")),
    );
    const build = await tinyformer(ws, ["build", "--json"]);
    assert.equal(build.code, 0, build.stderr);
    const events = build.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; stage?: string; done?: number });
    for (const event of events)
      assert.ok(validate(event), `${JSON.stringify(event)}: ${JSON.stringify(validate.errors)}`);
    assert.equal(events[0]?.type, "build-start");
    assert.equal(events.at(-1)?.type, "build-done");
    const ran = events.filter((e) => e.type === "stage-start").map((e) => e.stage);
    const cached = events.filter((e) => e.type === "stage-cached").map((e) => e.stage);
    assert.ok(ran.includes("quantize"), `quantize reran: ${ran}`);
    for (const stage of ["dataset", "space-search", "supernas", "sparsenas", "finetune"])
      assert.ok(cached.includes(stage), `${stage} is cached: ${cached}`);
    const counters = events.filter((e) => e.type === "stage-counter" && e.stage === "quantize");
    assert.ok(counters.length > 0, "quantize reports how many images it has evaluated");
  });

  test("report.html renders in headless Chromium with every plot drawn", {
    skip: needsChromium,
  }, async (t) => {
    const page = join(ws, "build", "my-model", "report", "report.html");
    assert.ok(existsSync(page), page);
    const url = pathToFileURL(page).href;
    const browser = await launchChromium(findChromium() as string, { width: WIDTH, height: 900 });
    try {
      const session = await openPage(browser, url, WIDTH);
      const { problems, requested } = await pageProblems(browser, session);
      assert.deepEqual(problems, []);
      assert.deepEqual(requested, [url], "the page requests nothing else");
      const { plots, png } = await checkPlotsDrawn(browser, session, WIDTH);
      const ids = plots.map((plot) => plot.id);
      for (const id of [
        "layer-macs",
        "layer-instructions",
        "layer-sparsity",
        "arena-timeline",
        "flash-breakdown",
        "accuracy",
        "confusion-matrix",
      ])
        assert.ok(ids.includes(id), `plot ${id} is on the page: ${ids}`);
      const keep = process.env.TINYFORMER_KEEP_SCREENSHOT;
      if (keep !== undefined && keep !== "") {
        await writeFile(keep, png);
        t.diagnostic(`screenshot: ${keep}`);
      }
    } finally {
      await browser.close();
    }
  });
});
