/**
 * The reliability suite on the real pipeline and the tiny recipe, bounded for
 * CI (`npm run bench -- reliability` runs many more trials): kills spread
 * over a cold and a restoring build, one flipped byte in the largest object
 * of every stage, gc looping during a build, two concurrent builds. Every
 * trial must leave `build/` byte-identical to an uninterrupted build.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  buildReference,
  concurrentBuildsTrial,
  corruptionTrial,
  gcDuringBuildTrial,
  killTrial,
  listCachedObjects,
  type Reference,
} from "../helpers/reliability.js";

describe("reliability on the tiny recipe", () => {
  let ref: Reference;
  before(async () => {
    ref = await buildReference();
  });
  after(async () => {
    await ref.ws.cleanup();
  });

  test("kill -9 at points spread over a cold build and a restoring build", async () => {
    const points = [
      ...[0.15, 0.45, 0.75].map((f) => ({ at: Math.round(ref.coldMs * f), cold: true })),
      ...[0.3, 0.6, 0.9].map((f) => ({ at: Math.round(ref.restoreMs * f), cold: false })),
    ];
    for (const { at, cold } of points) {
      const trial = await killTrial(ref, at, cold);
      assert.ok(trial.ok, `${trial.name}: ${trial.problem}`);
    }
  });

  test("a flipped byte in the largest cached object of every stage is never served", async () => {
    const objects = await listCachedObjects(ref);
    const largest = new Map<string, (typeof objects)[number]>();
    for (const object of objects) {
      const known = largest.get(object.stage);
      if (known === undefined || object.size > known.size) largest.set(object.stage, object);
    }
    assert.equal(largest.size, 12, "one object per stage");
    let position = 7;
    for (const object of largest.values()) {
      position = (position * 7919 + 13) % 1_000_003;
      const trial = await corruptionTrial(ref, object, position);
      assert.ok(trial.ok, `${trial.name}: ${trial.problem}`);
    }
  });

  test("gc in a loop during a build does not break it", async () => {
    const trial = await gcDuringBuildTrial(ref);
    assert.ok(trial.ok, `${trial.name}: ${trial.problem}`);
  });

  test("two concurrent builds run each stage once and agree", async () => {
    const trial = await concurrentBuildsTrial(ref);
    assert.ok(trial.ok, `${trial.name}: ${trial.problem}`);
  });
});
