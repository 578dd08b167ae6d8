/**
 * One lock per cache key, so two builds never run the same stage at once
 * (the second waits, then takes the first one's result from the cache) while
 * builds of unrelated keys proceed in parallel.
 *
 * Across processes: a lock file created with O_EXCL holding the owner's pid.
 * A lock whose owner is dead (a build killed with SIGKILL) is stale and is
 * broken. Within one process (watch mode starts a build while the previous
 * one still runs) a map of pending releases avoids polling.
 */
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CacheKey } from "./digest.js";

const POLL_MS = 100;
const UNREADABLE_LOCK_GRACE_MS = 5000;

export interface HeldLock {
  release(): Promise<void>;
}

export class KeyLocks {
  readonly #dir: string;
  readonly #held = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Resolves once this process holds the lock for `key`. Rejects if `signal` aborts. */
  async acquire(key: CacheKey, signal: AbortSignal, onWait?: () => void): Promise<HeldLock> {
    await mkdir(this.#dir, { recursive: true });
    let waited = false;
    const noteWait = () => {
      if (!waited) onWait?.();
      waited = true;
    };
    for (;;) {
      signal.throwIfAborted();
      const mine = this.#held.get(key);
      if (mine !== undefined) {
        noteWait();
        await abortable(mine, signal);
        continue;
      }
      const path = lockFilePath(this.#dir, key);
      if (await tryCreateLockFile(path)) {
        let release!: () => void;
        this.#held.set(
          key,
          new Promise<void>((resolve) => {
            release = resolve;
          }),
        );
        return {
          release: async () => {
            await rm(path, { force: true });
            this.#held.delete(key);
            release();
          },
        };
      }
      if (await isStale(path)) {
        await rm(path, { force: true });
        continue;
      }
      noteWait();
      await abortable(delay(POLL_MS), signal);
    }
  }
}

async function tryCreateLockFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx");
    await handle.writeFile(
      JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }),
    );
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Where the lock of `key` lives in a lock directory. */
export function lockFilePath(dir: string, key: string): string {
  return join(dir, `${key}.lock`);
}

/** The pid a lock file names; undefined when it is missing or not (yet) readable. */
export async function readLockOwner(path: string): Promise<number | undefined> {
  return readFile(path, "utf8")
    .then((text) => (JSON.parse(text) as { pid: number }).pid)
    .catch(() => undefined);
}

/** A lock file whose owner process no longer exists. */
async function isStale(path: string): Promise<boolean> {
  const pid = await readLockOwner(path);
  if (pid === undefined) {
    // Being written right now (not stale), already gone (look again), or left
    // empty by an owner killed between create and write (stale once old).
    try {
      return Date.now() - (await stat(path)).mtimeMs > UNREADABLE_LOCK_GRACE_MS;
    } catch {
      return false;
    }
  }
  return !isProcessAlive(pid);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
