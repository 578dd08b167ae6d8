/**
 * The cache never serves bytes it has not verified: damaged objects and
 * entries are evicted and rebuilt, named in the build's events; gc and
 * builds do not step on each other; leftovers of killed builds go.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, mkdir, readdir, readFile, truncate, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { gcCache, listWorkspaceCache } from "../../src/api/cache.js";
import { openProject } from "../../src/api/project.js";
import { BuildPins } from "../../src/graph-runner/build-pins.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import { ObjectStore } from "../../src/graph-runner/object-store.js";
import { createRunnerContext } from "../../src/graph-runner/runner-context.js";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { createHarness } from "../helpers/pipeline-harness.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const CHAIN: FakeStageSpec[] = [
  { name: "a", configKeys: ["seed"], inputs: ["inputs/a.txt"] },
  { name: "b", upstream: ["a"], configKeys: ["quantization.calibration_images"] },
  { name: "c", upstream: ["b"] },
];

/** A pid that certainly belongs to no running process (a child that has exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

describe("cache integrity", () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await createTestWorkspace();
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  async function storeOf(harness: ReturnType<typeof createHarness>): Promise<ObjectStore> {
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    return new ObjectStore(project.workspace.cacheDir);
  }

  async function objectOf(store: ObjectStore, stage: string): Promise<string> {
    const [found] = (await store.listEntries()).filter(({ entry }) => entry.stage === stage);
    const digest = found?.entry.outputs["result.txt"]?.digest;
    assert.ok(digest !== undefined, `an entry for ${stage}`);
    return store.objectPath(digest);
  }

  for (const stage of ["a", "b", "c"]) {
    test(`a flipped byte in ${stage}'s cached output is caught, evicted and rebuilt; build/ gets the right bytes`, async () => {
      const harness = createHarness(ws, CHAIN);
      await harness.build();
      const good = await ws.read(`build/test/${stage}/result.txt`);
      const store = await storeOf(harness);
      const object = await objectOf(store, stage);
      const bytes = await readFile(object);
      bytes[0] = (bytes[0] as number) ^ 0x01; // same size: only the digest can tell
      await chmod(object, 0o644);
      await writeFile(object, bytes);
      await rmBuildDir(ws);

      const run = await harness.build();
      assert.equal(run.result.ok, true);
      assert.deepEqual(run.ran, [stage]);
      const damaged = run.events.filter((event) => event.type === "cache-damaged");
      assert.equal(damaged.length, 1);
      assert.equal(damaged[0]?.type === "cache-damaged" && damaged[0].stage, stage);
      assert.match(
        JSON.stringify(damaged[0]),
        /"output":"result.txt".*"problem":"the object's bytes do not match its digest"/,
      );
      const start = run.events.find((event) => event.type === "stage-start");
      assert.match(
        start?.type === "stage-start" ? start.reason : "",
        /the cached result was damaged \(result\.txt: .*\); evicted, rerunning/,
      );
      assert.equal(await ws.read(`build/test/${stage}/result.txt`), good);
      assert.deepEqual((await harness.build()).ran, [], "the rebuilt result is a clean hit");
    });
  }

  test("a truncated object is caught by its size without hashing", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const store = await storeOf(harness);
    const object = await objectOf(store, "b");
    await chmod(object, 0o644);
    await truncate(object, 3);
    const run = await harness.build();
    assert.deepEqual(run.ran, ["b"]);
    assert.match(JSON.stringify(run.events), /the object has 3 bytes, \d+ expected/);
  });

  test("a damaged entry (invalid JSON, or an edited output list) is evicted and rebuilt", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const store = await storeOf(harness);
    const [a] = (await store.listEntries()).filter(({ entry }) => entry.stage === "a");
    const [b] = (await store.listEntries()).filter(({ entry }) => entry.stage === "b");
    assert.ok(a && b);
    await writeFile(a.path, (await readFile(a.path, "utf8")).slice(0, 40));
    const edited = JSON.parse(await readFile(b.path, "utf8"));
    edited.outputs["result.txt"].size += 1;
    await writeFile(b.path, JSON.stringify(edited));

    const run = await harness.build();
    assert.deepEqual(run.ran, ["a", "b"]);
    const problems = run.events.flatMap((event) =>
      event.type === "cache-damaged"
        ? event.problems.map((p) => `${event.stage}: ${p.problem}`)
        : [],
    );
    assert.deepEqual(problems, [
      "a: the entry is not valid JSON",
      "b: the entry's output list does not match its digest",
    ]);
  });

  test("status reports a damaged result without evicting it; the build then repairs it", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const store = await storeOf(harness);
    const object = await objectOf(store, "c");
    await chmod(object, 0o644);
    await writeFile(object, "bit rot of the same length?");
    const plan = await harness.plan();
    assert.match(plan.find((stage) => stage.name === "c")?.reason ?? "", /damaged/);
    assert.equal((await harness.plan()).find((s) => s.name === "c")?.action, "run");
    assert.deepEqual((await harness.build()).ran, ["c"]);
  });

  test("a no-op build hashes no object: digests are memoised by file identity", async () => {
    const harness = createHarness(ws, CHAIN);
    // An input written this instant is re-hashed (racily clean); objects never are.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(ws.root, "inputs", "a.txt"), anHourAgo, anHourAgo);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const context = await createRunnerContext(project.workspace.cacheDir);
    const result = await buildProject(project, { context });
    assert.equal(result.ok, true);
    assert.deepEqual(Object.values(result.outcomes), ["cached", "cached", "cached"]);
    assert.equal(context.memo.hashedFiles, 0);
  });

  test("gc during a build never removes what the build uses", async () => {
    const slow: FakeStageSpec[] = [
      { name: "a", configKeys: ["seed"] },
      { name: "b", upstream: ["a"], configKeys: ["quantization"], delayMs: 400 },
      { name: "c", upstream: ["b"], delayMs: 400 },
    ];
    const harness = createHarness(ws, slow);
    await harness.build();
    // a is a cache hit that only its pin protects; b reads it after gc has
    // run many times; b and c store new objects while gc runs.
    const project = await openProject({
      cwd: ws.root,
      createStages: harness.createStages,
      overrides: ["quantization.calibration_images=64"],
    });
    let aCached!: () => void;
    const aIsCached = new Promise<void>((resolve) => {
      aCached = resolve;
    });
    const events: BuildEvent[] = [];
    const building = buildProject(project, {
      onEvent: (event) => {
        events.push(event);
        if (event.type === "stage-cached" && event.stage === "a") aCached();
      },
    });
    let done = false;
    void building.then(() => {
      done = true;
    });
    await aIsCached;
    let rounds = 0;
    while (!done) {
      await gcCache(project.workspace, { maxBytes: 0 });
      rounds++;
    }
    const result = await building;
    assert.equal(result.ok, true, JSON.stringify(events));
    assert.deepEqual(result.outcomes, { a: "cached", b: "built", c: "built" });
    assert.ok(rounds >= 3, `gc ran ${rounds} times during the build`);
    // Once the build is over nothing is pinned: the same gc empties the cache.
    const after = await gcCache(project.workspace, { maxBytes: 0 });
    assert.equal(after.entriesInUse, 0);
    assert.equal(after.bytesRemaining, 0);
  });

  test("an object pinned by a live build before its entry exists survives gc; unpinned, it goes", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const store = new ObjectStore(project.workspace.cacheDir);
    const orphan = join(project.workspace.cacheDir, "orphan.bin");
    await writeFile(orphan, "an output whose entry is not written yet");
    const digest = await store.adoptFile(orphan);
    const pins = new BuildPins(project.workspace.cacheDir);
    await pins.pinObjects([digest], new AbortController().signal);
    assert.equal((await gcCache(project.workspace)).objectsRemoved, 0);
    assert.ok(await store.hasObject(digest));
    await pins.close();
    assert.equal((await gcCache(project.workspace)).objectsRemoved, 1);
    assert.equal(await store.hasObject(digest), false);
  });

  test("gc --dry-run reports exactly what gc then removes, and removes nothing itself", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    await harness.build({ overrides: ["seed=2"] });
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const before = await listWorkspaceCache(project.workspace);
    assert.equal(before.length, 6);
    const preview = await gcCache(project.workspace, { maxBytes: 0, dryRun: true });
    assert.equal(preview.dryRun, true);
    assert.equal(preview.entriesRemoved, 6);
    assert.deepEqual(await listWorkspaceCache(project.workspace), before);
    const real = await gcCache(project.workspace, { maxBytes: 0 });
    assert.deepEqual(
      real.removedEntries.map((entry) => entry.key),
      preview.removedEntries.map((entry) => entry.key),
    );
    assert.deepEqual(await listWorkspaceCache(project.workspace), []);
  });

  test("cache ls lists entries with sizes and last use, most recent first", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const rows = await listWorkspaceCache(project.workspace);
    assert.deepEqual(rows.map((row) => row.stage).sort(), ["a", "b", "c"]);
    for (const row of rows) {
      assert.equal(row.files, 1);
      assert.ok(row.bytes > 0);
      assert.ok(!Number.isNaN(Date.parse(row.lastUsed)));
    }
  });

  test("a lock a killed build never released is removed by the next build, even one that takes no lock", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const locks = join(ws.root, ".tinyformer", "cache", "locks");
    await mkdir(locks, { recursive: true });
    const owner = { pid: deadPid(), host: hostname(), token: "t", startedAt: "" };
    await writeFile(join(locks, `${"b".repeat(64)}.lock`), JSON.stringify(owner));
    const live = { ...owner, pid: process.pid, token: "u" };
    await writeFile(join(locks, `${"c".repeat(64)}.lock`), JSON.stringify(live));
    const run = await harness.build();
    assert.deepEqual(run.ran, [], "everything was a hit");
    assert.deepEqual(await readdir(locks), [`${"c".repeat(64)}.lock`], "a live owner's lock stays");
  });

  test("staging folders a killed build left beside the outputs go with the next build and with gc", async () => {
    const harness = createHarness(ws, CHAIN);
    await harness.build();
    const project = await openProject({ cwd: ws.root, createStages: harness.createStages });
    const staging = join(ws.root, "build", "test", `.tmp-${deadPid()}-abcdef`);
    const live = join(ws.root, "build", "test", `.tmp-${process.pid}-abcdef`);
    for (const dir of [staging, live]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "result.txt"), "half copied");
    }
    await harness.build();
    assert.equal(ws.exists(`build/test/${staging.split("/").pop()}`), false);
    assert.ok(ws.exists(`build/test/${live.split("/").pop()}`), "a live writer's folder stays");
    await mkdir(staging);
    const gc = await gcCache(project.workspace);
    assert.equal(gc.tempDirsRemoved, 1);
    assert.deepEqual((await readdir(join(ws.root, "build", "test"))).sort(), [
      `.tmp-${process.pid}-abcdef`,
      "a",
      "b",
      "build-info.json",
      "c",
    ]);
  });
});

async function rmBuildDir(ws: TestWorkspace): Promise<void> {
  const { rm } = await import("node:fs/promises");
  await rm(join(ws.root, "build"), { recursive: true, force: true });
}
