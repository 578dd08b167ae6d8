/**
 * The live progress lines in a real pseudo-terminal (util-linux `script`),
 * against the same build piped: the terminal gets a bar, k/N, the stage's
 * place and an estimate, redrawn in place; the pipe gets plain lines only.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { runFakeCli } from "../helpers/run-cli-process.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const fakeCli = join(dirname(fileURLToPath(import.meta.url)), "..", "helpers", "fake-cli.js");
const hasScript = spawnSync("script", ["--version"]).status === 0;
const ESC = "\u001b";

const stages = (): FakeStageSpec[] => [
  { name: "prepare", configKeys: ["seed"] },
  {
    name: "train",
    upstream: ["prepare"],
    configKeys: ["seed"],
    counter: { total: 12, unit: "batches", everyMs: 400 },
  },
  { name: "package", upstream: ["train"], configKeys: ["seed"] },
];

let ws: TestWorkspace;
before(async () => {
  ws = await createTestWorkspace();
});
after(async () => {
  await ws.cleanup();
});

/** Runs the fake CLI inside a pseudo-terminal (100 x 30 unless said); resolves with everything it drew. */
function runInTerminal(
  args: string[],
  size = { cols: 100, rows: 30 },
): Promise<{ code: number | null; screen: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TERM: "xterm-256color",
    TINYFORMER_FAKE_PIPELINE: JSON.stringify({ stages: stages(), logFile: ws.logFile }),
  };
  delete env.CI;
  const command = `stty cols ${size.cols} rows ${size.rows}; exec '${process.execPath}' '${fakeCli}' ${args.join(" ")}`;
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd: ws.root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let screen = "";
  child.stdout.on("data", (chunk: Buffer) => {
    screen += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    screen += chunk.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, screen })));
}

test("a terminal gets a live bar with k/N, stage i/N and time left; a pipe gets plain lines", {
  skip: hasScript ? false : "util-linux `script` is not installed",
}, async () => {
  const terminal = await runInTerminal(["build", "--set", "seed=11"]);
  assert.equal(terminal.code, 0, terminal.screen);
  const screen = terminal.screen;
  assert.match(screen, /train \[2\/3\] {2}█+░+ \d+\/12 batches · part \d+\/12/);
  assert.match(screen, /12\/12 batches/);
  assert.match(screen, / \d+ s left/, "an estimate once the rate is known");
  assert.ok(screen.includes(`${ESC}[2K`), "lines are redrawn in place (erase line)");
  assert.match(screen, /run {7}train \[2\/3\]: /);
  assert.match(screen, /done in [\d.]+ s: 3 built/);

  const piped = await runFakeCli(ws, stages(), ["build", "--set", "seed=12"]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok(!piped.stdout.includes(ESC), "no escape codes in a pipe");
  assert.ok(!piped.stdout.includes("█"), "no bars in a pipe");
  assert.match(piped.stdout, /run {7}train \[2\/3\]: /);
});

test("--quiet in a terminal prints the verdict and no bars", {
  skip: hasScript ? false : "util-linux `script` is not installed",
}, async () => {
  const { code, screen } = await runInTerminal(["build", "--quiet", "--set", "seed=13"]);
  assert.equal(code, 0, screen);
  assert.ok(!screen.includes("█"));
  assert.match(screen, /done in [\d.]+ s: 3 built/);
});

test("a terminal of no size (0 x 0) gets every log line, plain", {
  skip: hasScript ? false : "util-linux `script` is not installed",
}, async () => {
  const { code, screen } = await runInTerminal(["build", "--set", "seed=14"], { cols: 0, rows: 0 });
  assert.equal(code, 0, screen);
  assert.match(screen, /run {7}prepare \[1\/3\]: /);
  assert.match(screen, /run {7}train \[2\/3\]: /);
  assert.match(screen, /built {5}package/);
  assert.match(screen, /done in [\d.]+ s: 3 built/);
  assert.ok(!screen.includes("█"), "no bars where nothing can be drawn");
});
