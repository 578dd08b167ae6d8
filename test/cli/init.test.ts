/**
 * `tinyformer init`: the workspace it writes validates and plans all twelve
 * stages (test/acceptance/first-hour.test.ts builds it end to end); the
 * image-folder variant against a generated folder of PNGs; a
 * directory that is not empty is refused unless `--force`; a bad board or
 * data path is a usage error (exit 2) that writes nothing.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PNG } from "pngjs";
import { buildProject } from "../../src/api/build.js";
import {
  DEFAULT_BOARD,
  INIT_RECIPE,
  initWorkspace,
  renderInitSummary,
  SHIPPED_CIFAR10_SUBSET,
} from "../../src/api/init.js";
import { openProject } from "../../src/api/project.js";
import { runCli } from "../../src/cli/main.js";
import { createPipeline, STAGE_NAMES } from "../../src/pipeline/pipeline.js";
import { packageRoot } from "../../src/project-paths.js";

const STAGES = [...STAGE_NAMES];

interface Run {
  code: number;
  out: string;
  err: string;
}

/** The CLI in this process, run as if started in `cwd`. */
async function cli(cwd: string, args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["-C", cwd, ...args], {
    output: { out: (line) => out.push(line), err: (line) => err.push(line) },
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function writePng(path: string, seed: number): Promise<void> {
  const png = new PNG({ width: 8, height: 8 });
  for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : (i * 7 + seed) % 256;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, PNG.sync.write(png));
}

/** An image folder of two classes with six 8x8 PNGs each. */
async function writeImageFolder(root: string): Promise<void> {
  for (const [c, name] of ["cat", "dog"].entries()) {
    for (let i = 0; i < 6; i++) await writePng(join(root, name, `${i}.png`), 31 * c + i);
  }
}

describe("tinyformer init", () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tinyformer-init-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  describe("into a new directory, with the defaults", () => {
    let ws: string;
    let init: Run;
    before(async () => {
      init = await cli(tmp, ["init", "demo"]);
      ws = join(tmp, "demo");
    });

    test("writes the workspace, says what it wrote and what to run next", async () => {
      assert.equal(init.code, 0, init.err);
      assert.equal(init.err, "");
      const lines = init.out.split("\n");
      const files = [
        "tinyformer.yaml",
        INIT_RECIPE,
        `boards/${DEFAULT_BOARD}.yaml`,
        "schemas/workspace.schema.json",
        "schemas/recipe.schema.json",
        "schemas/board.schema.json",
      ];
      for (const file of files) {
        assert.ok(existsSync(join(ws, file)), file);
        assert.ok(
          lines.some((line) => line.startsWith(`  wrote    ${file} `)),
          `${file} is listed:\n${init.out}`,
        );
      }
      assert.deepEqual(lines.slice(-4), [
        "next:",
        `  cd ${ws}`,
        "  tinyformer validate  # check the configuration files",
        "  tinyformer build     # train, prune, quantize, generate the C engine and verify it",
      ]);
      const recipe = await readFile(join(ws, INIT_RECIPE), "utf8");
      assert.match(recipe, new RegExp(`^  path: ${SHIPPED_CIFAR10_SUBSET}$`, "m"));
      assert.match(recipe, /^ {2}format: cifar10-binary /m);
      assert.match(recipe, /^board: stm32f746 /m);
    });

    test("every YAML file starts with a $schema line naming the copied schema", async () => {
      for (const file of ["tinyformer.yaml", INIT_RECIPE, `boards/${DEFAULT_BOARD}.yaml`]) {
        const firstLine = (await readFile(join(ws, file), "utf8")).split("\n")[0] ?? "";
        const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(firstLine);
        assert.ok(match, `${file}: ${firstLine}`);
        const schema = join(dirname(join(ws, file)), match[1] as string);
        assert.ok(existsSync(schema), `${file} names ${schema}`);
        assert.equal(
          await readFile(schema, "utf8"),
          await readFile(join(packageRoot, "schemas", schema.split("/").pop() as string), "utf8"),
        );
      }
    });

    test("validate passes and build --dry-run plans all twelve stages", async () => {
      const validate = await cli(ws, ["validate"]);
      assert.equal(validate.code, 0, validate.err);
      assert.match(validate.out, /^3 file\(s\) valid: /);
      const plan = await cli(ws, ["build", "--dry-run=json"]);
      assert.equal(plan.code, 0, plan.err);
      const stages = (JSON.parse(plan.out) as { stages: { name: string; action: string }[] })
        .stages;
      assert.deepEqual(
        stages.map((stage) => stage.name),
        STAGES,
      );
      assert.ok(stages.every((stage) => stage.action === "run"));
    });
  });

  test("--dataset image-folder: a folder of PNGs inside the workspace, kept relative", async () => {
    const ws = join(tmp, "images-ws");
    await writeImageFolder(join(ws, "images"));
    const refused = await cli(ws, ["init", "--dataset", "image-folder", "--data", "images"]);
    assert.equal(refused.code, 2, "the images make the directory not empty");
    const init = await cli(ws, [
      "init",
      "--dataset",
      "image-folder",
      "--data",
      "images",
      "--force",
    ]);
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /^created a TinyFormer workspace in \S+images-ws$/m);
    assert.match(init.out, /trained on the images in images \(2 classes, 12 images\)/);
    const recipe = await readFile(join(ws, INIT_RECIPE), "utf8");
    assert.match(recipe, /^ {2}format: image-folder /m);
    assert.match(recipe, /^ {2}path: images # 2 classes, 12 images$/m);
    const validate = await cli(ws, ["validate"]);
    assert.equal(validate.code, 0, validate.err);
    const plan = await cli(ws, ["build", "--dry-run=json"]);
    assert.equal(plan.code, 0, plan.err);
    assert.equal(JSON.parse(plan.out).stages.length, 12);
    // The dataset stage reads the folder as the recipe describes it.
    const project = await openProject({
      cwd: ws,
      createStages: (options) =>
        createPipeline(options).filter((stage) => stage.name === "dataset"),
    });
    assert.equal((await buildProject(project)).ok, true);
    const manifest = JSON.parse(
      await readFile(join(ws, "build", "my-model", "dataset", "manifest.json"), "utf8"),
    ) as { classNames: string[] };
    assert.deepEqual(manifest.classNames, ["cat", "dog"]);
  });

  test("a directory that is not empty is refused, naming its files; --force writes next to them", async () => {
    const ws = join(tmp, "busy");
    await mkdir(join(ws, "recipes"), { recursive: true });
    await writeFile(join(ws, "notes.txt"), "mine\n");
    await writeFile(join(ws, "recipes", "my-model.yaml"), "# my own recipe\n");
    const refused = await cli(ws, ["init"]);
    assert.equal(refused.code, 2);
    assert.equal(refused.out, "");
    assert.match(refused.err, /is not empty: it holds notes\.txt, recipes\//);
    assert.match(refused.err, /with --force it writes here, replacing recipes\/my-model\.yaml /);
    assert.deepEqual((await readdir(ws)).sort(), ["notes.txt", "recipes"]);
    assert.equal(await readFile(join(ws, INIT_RECIPE), "utf8"), "# my own recipe\n");

    const forced = await cli(ws, ["init", "--force"]);
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /^ {2}replaced recipes\/my-model\.yaml /m);
    assert.match(forced.out, /^ {2}wrote {4}tinyformer\.yaml /m);
    assert.equal(await readFile(join(ws, "notes.txt"), "utf8"), "mine\n");
    assert.match(await readFile(join(ws, INIT_RECIPE), "utf8"), /^# yaml-language-server/);
    assert.equal((await cli(ws, ["validate"])).code, 0);
  });

  test("an unknown board, a missing or wrong data path: exit 2, a clear message, nothing written", async () => {
    const cifarLess = join(tmp, "not-cifar");
    await mkdir(cifarLess);
    await writeFile(join(cifarLess, "data_batch_1.bin"), "");
    const cases: [string[], RegExp][] = [
      [
        ["--board", "esp32"],
        /^error: unknown board "esp32": the boards shipped with TinyFormer are stm32f746$/,
      ],
      [["--data", "nowhere"], /^error: --data nowhere: no such directory \(.*nowhere\)$/],
      [["--data", cifarLess], /not a CIFAR-10 binary directory: no test_batch\.bin\. Download /],
      [["--dataset", "image-folder"], /^error: --dataset image-folder needs --data PATH/],
      [
        ["--dataset", "image-folder", "--data", cifarLess],
        /^error: --data .*not-cifar: no class sub-folders/,
      ],
      [["--dataset", "imagenet"], /argument 'imagenet' is invalid/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(tmp, ["init", "bad", ...args]);
      assert.equal(run.code, 2, args.join(" "));
      assert.match(run.err, message);
      assert.equal(existsSync(join(tmp, "bad")), false, `${args.join(" ")} wrote nothing`);
    }
    await writeFile(join(tmp, "a-file"), "");
    const onFile = await cli(tmp, ["init", "a-file"]);
    assert.equal(onFile.code, 2);
    assert.match(onFile.err, /^error: .*a-file is a file, not a directory$/);
  });

  test("help lists the options with their defaults; the default board is the recipe schema's", async () => {
    const help = await cli(tmp, ["init", "--help"]);
    assert.equal(help.code, 0);
    for (const expected of [
      /--dataset <format> .*\(choices: "cifar10", "image-folder",\s+default: "cifar10"\)/s,
      /--data <path> .*default\s+for cifar10: the CIFAR-10 subset shipped with TinyFormer/s,
      /--board <name> .*\(default: "stm32f746"\)/s,
      /--force /,
      /dir\s+the workspace directory, created when missing \(default:\s+"\."\)/,
    ]) {
      assert.match(help.out, expected);
    }
    const schema = JSON.parse(
      await readFile(join(packageRoot, "schemas", "recipe.schema.json"), "utf8"),
    ) as { properties: { board: { default: string } } };
    assert.equal(DEFAULT_BOARD, schema.properties.board.default);
  });

  test("as a library: initWorkspace and the summary it prints", async () => {
    const result = await initWorkspace({ cwd: tmp, dir: "lib" });
    assert.equal(result.root, join(tmp, "lib"));
    assert.equal(result.data, SHIPPED_CIFAR10_SUBSET);
    assert.deepEqual(
      result.nextCommands.map((next) => next.command),
      ["tinyformer validate", "tinyformer build"],
    );
    const lines = renderInitSummary(result, tmp);
    assert.equal(lines[0], "created a TinyFormer workspace in lib");
    assert.ok(lines.includes("  cd lib"));
    const inside = renderInitSummary(result, result.root);
    assert.equal(inside[0], "created a TinyFormer workspace in .");
    assert.ok(!inside.some((line) => line.startsWith("  cd ")), "no cd when already there");
  });
});
