/** The train-quality benchmark's reading of the PyTorch reference's output (no PyTorch needed). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseReferenceOutput } from "../../bench/_quality-reference.js";

test("reads per-epoch and final accuracies of quality.py", () => {
  const output = [
    "epoch 1: validation 0.276 (80 s)",
    "epoch 2: validation 0.342 (160 s)",
    "final: validation 0.342 test 0.351 (170 s)",
    "",
  ].join("\n");
  assert.deepEqual(parseReferenceOutput(output), {
    validation: [0.276, 0.342],
    finalValidation: 0.342,
    finalTest: 0.351,
  });
});

test("output without the final line, or with an epoch missing, is an error", () => {
  assert.throws(() => parseReferenceOutput("epoch 1: validation 0.2 (1 s)\n"), /no final line/);
  assert.throws(
    () => parseReferenceOutput("epoch 2: validation 0.2 (1 s)\nfinal: validation 0.2 test 0.2"),
    /epoch 2 after 0 epochs/,
  );
});
