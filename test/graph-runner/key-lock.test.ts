/** Per-key locks: waiting, stale-lock breaking that two breakers cannot both win. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLockHeld, KeyLocks, lockFilePath } from "../../src/graph-runner/key-lock.js";
import { currentProcess } from "../../src/graph-runner/process-identity.js";

const KEY = "a".repeat(64);
const never = new AbortController().signal;

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

describe("key locks", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tinyformer-locks-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writeOwner = (owner: Record<string, unknown>) =>
    writeFile(
      lockFilePath(dir, KEY),
      JSON.stringify({ token: "t0", startedAt: "2026-01-01T00:00:00Z", ...owner }),
    );

  test("a lock file names its owner: pid, host, process start time and a token", async () => {
    const held = await new KeyLocks(dir).acquire(KEY, never);
    const owner = JSON.parse(await readFile(lockFilePath(dir, KEY), "utf8"));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.host, currentProcess().host);
    assert.match(owner.token, /^[0-9a-f]{24}$/);
    if (process.platform === "linux") assert.match(owner.start, /^\d+$/);
    await held.release();
    assert.deepEqual(await readdir(dir), []);
  });

  test("many processes' worth of breakers on one stale lock: one holder at a time, all get it", async () => {
    await writeOwner({ pid: deadPid(), host: currentProcess().host });
    let inside = 0;
    let most = 0;
    // Separate KeyLocks instances share no in-process state: they meet only on disk.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const held = await new KeyLocks(dir).acquire(KEY, never);
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inside--;
        await held.release();
      }),
    );
    assert.equal(most, 1);
    assert.deepEqual(await readdir(dir), [], "no lock or break marker is left behind");
  });

  test("a reused pid does not keep a lock alive: the start time must match too", async () => {
    await writeOwner({ pid: process.pid, host: currentProcess().host, start: "1" });
    assert.equal(await isLockHeld(lockFilePath(dir, KEY)), false);
    const held = await new KeyLocks(dir).acquire(KEY, never);
    await held.release();
  });

  test("a lock held on another host is never broken from here", async () => {
    await writeOwner({ pid: deadPid(), host: "some-other-machine" });
    assert.equal(await isLockHeld(lockFilePath(dir, KEY)), true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("gave up waiting")), 300);
    await assert.rejects(new KeyLocks(dir).acquire(KEY, controller.signal), /gave up waiting/);
  });

  test("a break abandoned by a breaker that died is cleared after a while", async () => {
    await writeOwner({ pid: deadPid(), host: currentProcess().host, token: "t1" });
    const marker = `${lockFilePath(dir, KEY)}.break-t1`;
    await writeFile(marker, "");
    const old = new Date(Date.now() - 60_000);
    await utimes(marker, old, old);
    const held = await new KeyLocks(dir).acquire(KEY, never);
    await held.release();
    assert.deepEqual(await readdir(dir), []);
  });
});
