/**
 * What in-flight builds are using, so `cache gc` never removes it.
 *
 * Each build keeps a pin file (`<cache>/pins/<pid>-<random>.json`) naming
 * the entries it looks up or writes and the objects it is storing, and
 * deletes it when it ends; gc keeps everything a live build has pinned.
 *
 * The race between "build pins, then reads" and "gc reads pins, then
 * deletes" is closed by the gc lock: gc takes it before it reads the pins,
 * and a build, after writing a pin, waits while the gc lock is held. Either
 * the build's pin was written before gc read the pins (gc keeps it), or the
 * build waits until gc is done (and then finds whatever gc left: a miss at
 * worst, never a half-deleted hit).
 */
import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";
import { isLockHeld, lockFilePath } from "./key-lock.js";
import { readdirOrEmpty } from "./object-store.js";
import {
  currentProcess,
  isAlive,
  type ProcessIdentity,
  parseProcessIdentity,
} from "./process-identity.js";

/** The lock `cache gc` holds while it decides and deletes (in the key-lock directory). */
export const GC_LOCK_NAME = "cache-gc";
const POLL_MS = 50;

interface PinFile extends ProcessIdentity {
  /** `stage/key` of each entry the build uses. */
  entries: string[];
  /** Digests of objects the build is storing before their entry exists. */
  objects: string[];
}

export class BuildPins {
  readonly #file: string;
  readonly #gcLock: string;
  readonly #entries = new Set<string>();
  readonly #objects = new Set<string>();
  #writes: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(cacheDir: string) {
    this.#file = join(pinsDir(cacheDir), `${process.pid}-${randomBytes(6).toString("hex")}.json`);
    this.#gcLock = lockFilePath(join(cacheDir, "locks"), GC_LOCK_NAME);
  }

  /** Pins a stage's entry before it is looked up or written. */
  pinEntry(stage: string, key: string, signal: AbortSignal): Promise<void> {
    this.#entries.add(`${stage}/${key}`);
    return this.#persist(signal);
  }

  /** Pins objects about to be stored (their entry does not exist yet). */
  pinObjects(digests: readonly string[], signal: AbortSignal): Promise<void> {
    for (const digest of digests) this.#objects.add(digest);
    return this.#persist(signal);
  }

  /** The build is over: nothing is pinned any more. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#writes.catch(() => undefined);
    await rm(this.#file, { force: true });
  }

  async #persist(signal: AbortSignal): Promise<void> {
    if (this.#closed) return;
    const pin: PinFile = {
      ...currentProcess(),
      entries: [...this.#entries],
      objects: [...this.#objects],
    };
    // Writes are serialised so an older pin never overwrites a newer one.
    this.#writes = this.#writes
      .catch(() => undefined)
      .then(() => writeFileAtomic(this.#file, JSON.stringify(pin)));
    await this.#writes;
    while (await isLockHeld(this.#gcLock)) {
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

export function pinsDir(cacheDir: string): string {
  return join(cacheDir, "pins");
}

/** Everything live builds have pinned; pin files of dead builds are removed. */
export async function readLivePins(
  cacheDir: string,
): Promise<{ entries: Set<string>; objects: Set<string> }> {
  const entries = new Set<string>();
  const objects = new Set<string>();
  const dir = pinsDir(cacheDir);
  for (const name of await readdirOrEmpty(dir)) {
    if (!name.endsWith(".json")) continue;
    const path = join(dir, name);
    let pin: PinFile;
    try {
      pin = JSON.parse(await readFile(path, "utf8")) as PinFile;
    } catch {
      continue; // a temp file being renamed into place, or gone already
    }
    const owner = parseProcessIdentity(pin);
    if (owner === undefined || !isAlive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    for (const entry of pin.entries ?? []) entries.add(entry);
    for (const object of pin.objects ?? []) objects.add(object);
  }
  return { entries, objects };
}
