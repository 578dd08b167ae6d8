/** Splitting a batch across replicas and averaging their running statistics. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { meanOfReplicas, shardBatch } from "../../src/data-parallel/shards.js";

describe("shardBatch", () => {
  test("splits into contiguous, non-empty shards, the first ones one image larger", () => {
    assert.deepEqual(shardBatch(64, 2), [
      { start: 0, end: 32 },
      { start: 32, end: 64 },
    ]);
    assert.deepEqual(shardBatch(10, 3), [
      { start: 0, end: 4 },
      { start: 4, end: 7 },
      { start: 7, end: 10 },
    ]);
  });

  test("refuses a batch smaller than the replica count, naming the setting", () => {
    assert.throws(() => shardBatch(1, 2), /training_workers/);
    assert.throws(() => shardBatch(4, 0), RangeError);
  });
});

describe("meanOfReplicas", () => {
  test("averages elements that differ and leaves equal ones exactly as they are", () => {
    const third = Math.fround(0.1);
    const into = new Float32Array([1, third, 2]);
    meanOfReplicas(into, [new Float32Array([3, third, 2]), new Float32Array([5, third, 2])]);
    assert.deepEqual(Array.from(into), [3, third, 2]);
  });
});
