/**
 * NASWOT: the log-determinant, the agreement kernel, and the score of a real
 * exported network (identical images make K singular; distinct ones do not).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  activationPatterns,
  agreementKernel,
  logAbsDeterminant,
  naswotScore,
} from "../../bench/_naswot.js";
import { createNetwork } from "../../src/blocks/network.js";
import { loadTf, randomImages } from "../blocks/support.js";

before(async () => {
  await loadTf();
});

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

test("log |det| with pivoting; a singular matrix is -Infinity", () => {
  close(logAbsDeterminant([Float64Array.of(2, 0), Float64Array.of(0, 3)]), Math.log(6));
  close(logAbsDeterminant([Float64Array.of(1, 2), Float64Array.of(3, 4)]), Math.log(2));
  close(logAbsDeterminant([Float64Array.of(0, 1), Float64Array.of(1, 0)]), 0);
  assert.equal(
    logAbsDeterminant([Float64Array.of(1, 2), Float64Array.of(2, 4)]),
    Number.NEGATIVE_INFINITY,
  );
});

test("the kernel counts the units two images agree on", () => {
  const kernel = agreementKernel([Uint8Array.of(1, 0, 1), Uint8Array.of(1, 1, 1)]);
  assert.deepEqual(
    kernel.map((row) => [...row]),
    [
      [3, 2],
      [2, 3],
    ],
  );
});

test("an exported network: one unit per rectified output; distinct images score, identical ones do not", () => {
  const network = createNetwork(
    {
      stem: { channels: 8, stride: 1 },
      stages: [{ block: "mbv2", depth: 1, channels: 8, expansion: 2, kernel_size: 3, stride: 2 }],
      head: { dropout: 0 },
    },
    { classes: 10, inputResolution: 8, seed: 3 },
  );
  const model = network.exportModel();
  const images = Array.from({ length: 6 }, (_, i) => randomImages([1, 8, 8, 3], 10 + i));
  const patterns = activationPatterns(model, images);
  // Every element of every rectified output is a unit.
  const rectified = model.graph.ops.filter(
    (op) => "activation" in op.attrs && op.attrs.activation !== "none",
  );
  const units = rectified.reduce((sum, op) => {
    const shape = model.graph.tensors.find((t) => t.name === op.outputs[0])?.shape ?? [];
    return sum + shape.reduce((a, b) => a * b, 1);
  }, 0);
  assert.ok(rectified.length >= 3);
  assert.ok(patterns.every((pattern) => pattern.length === units));
  assert.ok(Number.isFinite(naswotScore(model, images)));
  const same = Array.from({ length: 4 }, () => images[0] as Float32Array);
  assert.equal(naswotScore(model, same), Number.NEGATIVE_INFINITY);
  network.supernet.dispose();
});
