/**
 * `cache verify` and `cache gc`: checking objects against their names and
 * trimming the store. Both take the store as it is on disk; neither needs
 * to know what the stages compute.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type ContentDigest, digestFile } from "./digest.js";
import { isProcessAlive, lockFilePath, readLockOwner } from "./key-lock.js";
import { type ObjectStore, readdirOrEmpty } from "./object-store.js";

export interface VerifyReport {
  objectsChecked: number;
  /** Objects whose bytes no longer hash to their name. */
  corruptObjects: ContentDigest[];
  /** Entries that reference a missing or corrupt object (never hits; rebuilt on demand). */
  brokenEntries: { stage: string; key: string; missing: ContentDigest[] }[];
  /** True when `repair` removed the corrupt objects and broken entries. */
  repaired: boolean;
}

export async function verifyCache(store: ObjectStore, repair: boolean): Promise<VerifyReport> {
  const objects = await store.listObjects();
  const corrupt: ContentDigest[] = [];
  for (const object of objects) {
    if ((await digestFile(object.path)) !== object.digest) corrupt.push(object.digest);
  }
  const corruptSet = new Set<string>(corrupt);
  const present = new Set<string>(objects.map((object) => object.digest));
  const brokenEntries: VerifyReport["brokenEntries"] = [];
  for (const { entry } of await store.listEntries()) {
    const missing = Object.values(entry.outputs)
      .map((output) => output.digest)
      .filter((digest) => corruptSet.has(digest) || !present.has(digest));
    if (missing.length > 0) brokenEntries.push({ stage: entry.stage, key: entry.key, missing });
  }
  if (repair) {
    // Entries first: a concurrent build must never see an entry whose object is gone.
    for (const broken of brokenEntries) {
      await store.deleteEntry(
        broken.stage,
        broken.key as Parameters<ObjectStore["deleteEntry"]>[1],
      );
    }
    for (const digest of corrupt) await store.deleteObject(digest);
  }
  return {
    objectsChecked: objects.length,
    corruptObjects: corrupt,
    brokenEntries,
    repaired: repair,
  };
}

export interface GcReport {
  entriesRemoved: number;
  objectsRemoved: number;
  bytesFreed: number;
  bytesRemaining: number;
  tempDirsRemoved: number;
  /** Resume directories of interrupted runs removed (see below). */
  resumeDirsRemoved: number;
}

/**
 * Removes objects no entry references, leftovers of killed builds, and, with
 * `maxBytes`, the least recently used entries until the objects fit.
 * Resume directories (what an interrupted long stage left to continue from)
 * go when their key already has an entry, and, with `maxBytes`, all but
 * those of runs in progress: the next run of such a key starts over.
 */
export async function collectGarbage(
  store: ObjectStore,
  options: { maxBytes?: number },
): Promise<GcReport> {
  const tempDirsRemoved = await removeDeadTempDirs(store.root);
  const entries = (await store.listEntries()).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const objects = await store.listObjects();
  const sizeOf = new Map(objects.map((object) => [object.digest as string, object.size]));

  // Walk entries from most to least recently used, keeping them while they fit.
  const kept = new Set<string>();
  let keptBytes = 0;
  let entriesRemoved = 0;
  for (const { entry } of entries) {
    const added = Object.values(entry.outputs)
      .map((output) => output.digest as string)
      .filter((digest) => !kept.has(digest));
    const addedBytes = added.reduce((sum, digest) => sum + (sizeOf.get(digest) ?? 0), 0);
    if (options.maxBytes !== undefined && keptBytes + addedBytes > options.maxBytes) {
      await store.deleteEntry(entry.stage, entry.key);
      entriesRemoved++;
      continue;
    }
    for (const digest of added) kept.add(digest);
    keptBytes += addedBytes;
  }
  let objectsRemoved = 0;
  let bytesFreed = 0;
  for (const object of objects) {
    if (kept.has(object.digest)) continue;
    await store.deleteObject(object.digest);
    objectsRemoved++;
    bytesFreed += object.size;
  }
  const resumeDirsRemoved = await removeResumeDirs(store.root, {
    finished: new Set(entries.map(({ entry }) => `${entry.stage}/${entry.key}`)),
    all: options.maxBytes !== undefined,
  });
  return {
    entriesRemoved,
    objectsRemoved,
    bytesFreed,
    bytesRemaining: keptBytes,
    tempDirsRemoved,
    resumeDirsRemoved,
  };
}

/** `<cache>/resume/<stage>/<key>/`: see collectGarbage. A key locked by a live process is kept. */
async function removeResumeDirs(
  cacheRoot: string,
  options: { finished: ReadonlySet<string>; all: boolean },
): Promise<number> {
  let removed = 0;
  const root = join(cacheRoot, "resume");
  for (const stage of await readdirOrEmpty(root)) {
    for (const key of await readdirOrEmpty(join(root, stage))) {
      const owner = await readLockOwner(lockFilePath(join(cacheRoot, "locks"), key));
      if (owner !== undefined && isProcessAlive(owner)) continue;
      if (!options.all && !options.finished.has(`${stage}/${key}`)) continue;
      await rm(join(root, stage, key), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** Work directories are named `.tmp-<pid>-…`; those of dead processes are garbage. */
async function removeDeadTempDirs(cacheRoot: string): Promise<number> {
  let removed = 0;
  const tmp = join(cacheRoot, "tmp");
  for (const name of await readdirOrEmpty(tmp)) {
    const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) continue;
    await rm(join(tmp, name), { recursive: true, force: true });
    removed++;
  }
  // Locks of dead owners would be broken by the next build anyway; tidy them now.
  const locks = join(cacheRoot, "locks");
  for (const name of await readdirOrEmpty(locks)) {
    const path = join(locks, name);
    const owner = await readLockOwner(path);
    if (owner !== undefined && !isProcessAlive(owner)) await rm(path, { force: true });
  }
  return removed;
}
