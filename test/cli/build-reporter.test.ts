import assert from "node:assert/strict";
import { test } from "node:test";
import { createBuildReporter } from "../../src/cli/build-reporter.js";
import type { CacheKey } from "../../src/graph-runner/digest.js";

test("build events render as the lines the README describes", () => {
  const out: string[] = [];
  const report = createBuildReporter({
    out: (line) => out.push(line),
    err: (line) => out.push(`ERR ${line}`),
  });
  const key = "0".repeat(64) as CacheKey;
  report({ type: "build-start", stages: ["dataset", "supernas", "quantize", "codegen", "report"] });
  report({ type: "stage-cached", stage: "dataset", key });
  report({
    type: "stage-start",
    stage: "supernas",
    key,
    reason: "recipe key training.supernas.epochs: 4 → 6",
    tools: { "ml-backend": "wasm@4.22.0+simd+grad1" },
  });
  report({ type: "stage-progress", stage: "supernas", message: "epoch 1/6 loss 1.92" });
  report({ type: "stage-done", stage: "supernas", key, durationMs: 95_300, outputs: 3 });
  report({ type: "stage-failed", stage: "quantize", error: "boom" });
  report({ type: "stage-skipped", stage: "codegen", reason: "upstream quantize was failed" });
  report({ type: "stage-not-implemented", stage: "report" });
  report({
    type: "build-done",
    result: {
      ok: false,
      durationMs: 96_100,
      outcomes: {
        dataset: "cached",
        supernas: "built",
        quantize: "failed",
        codegen: "skipped",
        report: "not-implemented",
      },
    },
  });
  assert.deepEqual(out, [
    "  cached    dataset",
    "  run       supernas [2/5]: recipe key training.supernas.epochs: 4 → 6 [ml-backend wasm@4.22.0+simd+grad1]",
    "            supernas: epoch 1/6 loss 1.92",
    "  built     supernas (95.3 s, 3 output files)",
    "ERR   FAILED    quantize: boom",
    "  skipped   codegen: upstream quantize was failed",
    "  not implemented yet (nothing produced): report",
    "FAILED in 96.1 s: 1 built, 1 cached, 1 failed, 1 skipped",
  ]);
});

test("batch lines only with --verbose; --quiet keeps problems and the verdict", () => {
  const key = "0".repeat(64) as CacheKey;
  const events = [
    { type: "stage-start", stage: "supernas", key, reason: "never built", tools: {} },
    {
      type: "stage-progress",
      stage: "supernas",
      message: "epoch 1/6 batch 3/28: loss 2.1",
      level: "detail",
    },
    { type: "stage-progress", stage: "supernas", message: "epoch 1/6: loss 1.92" },
    { type: "stage-done", stage: "supernas", key, durationMs: 1000, outputs: 3 },
    { type: "remote-warning", message: "remote cache x is not answering" },
    {
      type: "build-done",
      result: { ok: true, durationMs: 1000, outcomes: { supernas: "built" } },
    },
  ] as const;
  const render = (verbosity: "quiet" | "normal" | "verbose") => {
    const lines: string[] = [];
    const report = createBuildReporter(
      { out: (line) => lines.push(line), err: (line) => lines.push(`ERR ${line}`) },
      verbosity,
    );
    for (const event of events) report(event);
    return lines;
  };
  const normal = render("normal");
  assert.ok(normal.includes("            supernas: epoch 1/6: loss 1.92"));
  assert.ok(!normal.some((line) => line.includes("batch 3/28")));
  assert.ok(render("verbose").includes("            supernas: epoch 1/6 batch 3/28: loss 2.1"));
  assert.deepEqual(render("quiet"), [
    "ERR warning: remote cache x is not answering",
    "done in 1.00 s: 1 built",
  ]);
});

test("watch: rebuilds get a header, and a build an edit superseded says restarted, not FAILED", () => {
  const lines: string[] = [];
  const report = createBuildReporter({
    out: (line) => lines.push(line),
    err: (line) => lines.push(line),
  });
  const done = (outcomes: Record<string, "built" | "cancelled" | "failed">, ok: boolean) =>
    report({ type: "build-done", result: { ok, durationMs: 2000, outcomes } });
  report({ type: "build-start", stages: ["a"] });
  report({ type: "watch-change", paths: ["recipes/test.yaml"] });
  report({ type: "watch-restart", cancelled: ["a"] });
  done({ a: "cancelled" }, false);
  report({ type: "build-start", stages: ["a"] });
  done({ a: "failed" }, false);
  assert.deepEqual(lines, [
    "\nchanged: recipes/test.yaml",
    "  restarting from: a",
    "restarted after an edit in 2.00 s: 1 cancelled",
    "build #2",
    "FAILED in 2.00 s: 1 failed",
  ]);
});

test("on a terminal, counters move a live line per running stage; printed lines stay plain", () => {
  const key = "0".repeat(64) as CacheKey;
  let now = 0;
  const printed: string[] = [];
  const frames: (readonly string[])[] = [];
  const report = createBuildReporter(
    {
      out: (line) => printed.push(line),
      err: (line) => printed.push(`ERR ${line}`),
      live: (lines) => frames.push(lines),
    },
    "normal",
    () => now,
  );
  report({ type: "build-start", stages: ["dataset", "supernas"] });
  report({ type: "stage-start", stage: "supernas", key, reason: "never built", tools: {} });
  for (let done = 1; done <= 10; done++) {
    now += 1000;
    report({ type: "stage-counter", stage: "supernas", done, total: 20, unit: "batches" });
  }
  assert.match(
    frames.at(-1)?.[0] ?? "",
    /^ {2}supernas \[2\/2\] .* 10\/20 batches · 10 s · 10 s left$/,
  );
  report({ type: "stage-done", stage: "supernas", key, durationMs: 20_000, outputs: 3 });
  assert.deepEqual(frames.at(-1), []);
  // Counters never become printed lines; a pipe gets only the usual log.
  assert.deepEqual(printed, [
    "  run       supernas [2/2]: never built",
    "  built     supernas (20.0 s, 3 output files)",
  ]);
});

test("--quiet on a terminal draws no live lines", () => {
  const frames: (readonly string[])[] = [];
  const report = createBuildReporter(
    { out: () => undefined, err: () => undefined, live: (lines) => frames.push(lines) },
    "quiet",
  );
  report({ type: "build-start", stages: ["a"] });
  report({ type: "stage-counter", stage: "a", done: 1, total: 2, unit: "images" });
  assert.deepEqual(frames, []);
});
