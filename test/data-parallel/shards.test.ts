/** Splitting a batch across replicas, averaging their running statistics, and the code identity of the replicas. */
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
    const tenth = Math.fround(0.1);
    const into = new Float32Array([1, tenth, 2]);
    const third = 1 / 3;
    meanOfReplicas(
      into,
      [new Float32Array([3, tenth, 2]), new Float32Array([5, tenth, 2])],
      [third, third, third],
    );
    assert.deepEqual(Array.from(into), [3, tenth, 2]);
  });

  test("weighs each replica by its share of the images", () => {
    const into = new Float32Array([0, 8]);
    meanOfReplicas(into, [new Float32Array([4, 0])], [0.75, 0.25]);
    assert.deepEqual(Array.from(into), [1, 6]);
    assert.throws(() => meanOfReplicas(into, [into], [1]), /1 weights for 2 replicas/);
  });
});

describe("code identity of the stages that train with replicas", () => {
  test("covers the replicas' code, which the workers load by URL", async () => {
    const { walkModuleGraph } = await import("../../src/graph-runner/code-identity.js");
    const { fileURLToPath } = await import("node:url");
    for (const stage of ["supernas", "finetune"]) {
      const entry = fileURLToPath(new URL(`../../src/stages/${stage}.js`, import.meta.url));
      const modules = Object.keys((await walkModuleGraph(entry)).modules);
      for (const module of ["replica-server.js", "replica-step.js", "trainer.js"])
        assert.ok(
          modules.includes(`../data-parallel/${module}`),
          `${stage}'s code identity misses ${module}`,
        );
    }
  });
});
