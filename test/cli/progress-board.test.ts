/** The live lines: stage position, bar, k/N, phase, elapsed time and an estimate from the observed rate. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, ProgressBoard, renderBar } from "../../src/cli/progress-board.js";

test("durations read as seconds, minutes or hours", () => {
  assert.equal(formatDuration(4_400), "4 s");
  assert.equal(formatDuration(185_000), "3m 05s");
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatDuration(-5), "0 s");
});

test("a bar fills in proportion and stays inside its width", () => {
  assert.equal(renderBar(0, 10), "░░░░░░░░░░");
  assert.equal(renderBar(0.5, 10), "█████░░░░░");
  assert.equal(renderBar(1.7, 10), "██████████");
});

test("a running stage shows its place, bar, count, phase, elapsed time and time left", () => {
  let now = 0;
  const board = new ProgressBoard(() => now);
  board.start(["dataset", "supernas", "quantize"]);
  board.stageStarted("supernas");
  assert.deepEqual(board.lines(), ["  supernas [2/3]  running (0 s)"]);
  board.count("supernas", 10, 100, "batches", "epoch 1/10");
  now = 1_000;
  board.count("supernas", 20, 100, "batches", "epoch 2/10");
  // Too early to say: warm-up batches would make a wild estimate.
  assert.match(
    board.lines()[0] ?? "",
    /20\/100 batches · epoch 2\/10 · 1 s · estimating time left$/,
  );
  // 40 batches in 4 s since the first observation: the 50 left take 5 s.
  now = 4_000;
  board.count("supernas", 50, 100, "batches", "epoch 5/10");
  assert.equal(
    board.lines()[0],
    `  supernas [2/3]  ${renderBar(0.5)} 50/100 batches · epoch 5/10 · 4 s · 5 s left`,
  );
});

test("a new phase (another total or unit) restarts the rate", () => {
  let now = 0;
  const board = new ProgressBoard(() => now);
  board.start(["sparsenas"]);
  board.stageStarted("sparsenas");
  board.count("sparsenas", 90, 100, "batches");
  now = 60_000;
  board.count("sparsenas", 100, 100, "batches");
  board.count("sparsenas", 1, 40, "candidates");
  now = 61_000;
  board.count("sparsenas", 2, 40, "candidates");
  assert.match(board.lines()[0] ?? "", /2\/40 candidates · 1m 01s · estimating time left$/);
  now = 65_000;
  board.count("sparsenas", 6, 40, "candidates");
  // 5 candidates in 5 s: 34 left take 34 s (not the batches' rate).
  assert.match(board.lines()[0] ?? "", / 34 s left$/);
});

test("stages leave the board when they end; lines keep the build's order and fit the width", () => {
  const board = new ProgressBoard(() => 0);
  board.start(["a", "b", "c"]);
  board.stageStarted("c");
  board.stageStarted("a");
  board.stageWaiting("b");
  assert.deepEqual(board.lines(), [
    "  a [1/3]  running (0 s)",
    "  b [2/3]  waiting for another build (0 s)",
    "  c [3/3]  running (0 s)",
  ]);
  board.stageEnded("a");
  board.stageEnded("b");
  assert.equal(board.lines(12)[0], "  c [3/3]  …");
  board.stageEnded("c");
  assert.ok(board.idle);
  assert.deepEqual(board.lines(), []);
});
