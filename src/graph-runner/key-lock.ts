/**
 * One lock per cache key, so two builds never run the same stage at once
 * (the second waits, then takes the first one's result from the cache) while
 * builds of unrelated keys proceed in parallel.
 *
 * Across processes: a lock file created with O_EXCL that holds its owner
 * (pid, host, process start time) and a random token. A lock whose owner is
 * certainly gone (a build killed with SIGKILL) is stale and is broken, and
 * breaking is not check-then-act: the breaker first claims the break with an
 * O_EXCL marker named after the stale lock's token (one claimant per token),
 * then re-reads the lock and removes it only if it still holds that token.
 * Two processes that both saw the same stale lock can therefore not both
 * remove it, nor remove a fresh lock taken in between. Within one process
 * (watch mode starts a build while the previous one still runs) a map of
 * pending releases avoids polling.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  currentProcess,
  isAlive,
  type ProcessIdentity,
  parseProcessIdentity,
} from "./process-identity.js";

const POLL_MS = 100;
/** A lock file left empty (owner killed between create and write) is stale after this. */
const UNREADABLE_LOCK_GRACE_MS = 5000;
/** A break marker older than this was left by a breaker that died mid-break. */
const ABANDONED_BREAK_MS = 10_000;

/** What a lock file holds. */
export interface LockOwner extends ProcessIdentity {
  token: string;
  startedAt: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

export class KeyLocks {
  readonly #dir: string;
  readonly #held = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Removes every lock in the directory whose owner is certainly gone (a
   * build killed after storing a result but before releasing its lock leaves
   * one that no later build needs to take). Cheap: the directory holds only
   * the locks of running or killed builds.
   */
  async breakStaleLocks(): Promise<void> {
    for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
      if (name.endsWith(".lock")) await breakIfStale(join(this.#dir, name));
    }
  }

  /** Resolves once this process holds the lock for `key`. Rejects if `signal` aborts. */
  async acquire(key: string, signal: AbortSignal, onWait?: () => void): Promise<HeldLock> {
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
      if (await breakIfStale(path)) continue;
      noteWait();
      await abortable(delay(POLL_MS), signal);
    }
  }
}

async function tryCreateLockFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx");
    const owner: LockOwner = {
      ...currentProcess(),
      token: randomBytes(12).toString("hex"),
      startedAt: new Date().toISOString(),
    };
    await handle.writeFile(JSON.stringify(owner));
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

/** The owner a lock file names; undefined when it is missing or not (yet) readable. */
export async function readLockOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    const identity = parseProcessIdentity(parsed);
    if (identity === undefined || typeof parsed.token !== "string") return undefined;
    return { ...identity, token: parsed.token, startedAt: String(parsed.startedAt) };
  } catch {
    return undefined;
  }
}

/** True when the lock at `path` exists and its owner may still be running. */
export async function isLockHeld(path: string): Promise<boolean> {
  const owner = await readLockOwner(path);
  if (owner !== undefined) return isAlive(owner);
  try {
    return Date.now() - (await stat(path)).mtimeMs <= UNREADABLE_LOCK_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * Removes the lock at `path` if its owner is certainly gone; true when the
 * caller should try to take the lock again at once. See the header for why
 * this is safe against concurrent breakers.
 */
export async function breakIfStale(path: string): Promise<boolean> {
  const owner = await readLockOwner(path);
  let claim: string;
  if (owner === undefined) {
    // Being written right now (not stale), already gone (look again), or left
    // empty by an owner killed between create and write (stale once old).
    let age: number;
    try {
      age = Date.now() - (await stat(path)).mtimeMs;
    } catch {
      return true;
    }
    if (age <= UNREADABLE_LOCK_GRACE_MS) return false;
    claim = `${path}.break-empty-${Math.floor(age / 1000)}`;
  } else {
    if (isAlive(owner)) return false;
    claim = `${path}.break-${owner.token}`;
  }
  if (!(await claimBreak(claim))) return false;
  try {
    const again = await readLockOwner(path);
    const stillStale =
      owner === undefined
        ? again === undefined && !(await isLockHeld(path))
        : again?.token === owner.token;
    if (stillStale) await rm(path, { force: true });
  } finally {
    await rm(claim, { force: true });
  }
  return true;
}

async function claimBreak(marker: string): Promise<boolean> {
  try {
    await (await open(marker, "wx")).close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const age = await stat(marker).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > ABANDONED_BREAK_MS) await rm(marker, { force: true });
    return false;
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
