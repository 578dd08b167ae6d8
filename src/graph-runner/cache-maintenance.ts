/**
 * `cache verify` and `cache gc`: checking objects against their names and
 * trimming the store. Both take the store as it is on disk; neither needs
 * to know what the stages compute.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { removeDeadTempSiblings } from "./atomic-write.js";
import { GC_LOCK_NAME, pinsDir, readLivePins } from "./build-pins.js";
import { type ContentDigest, digestFile } from "./digest.js";
import { isLockHeld, KeyLocks, lockFilePath } from "./key-lock.js";
import { type CacheEntry, type ObjectStore, readdirOrEmpty } from "./object-store.js";

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
  /** True when nothing was deleted: the report says what would have been. */
  dryRun: boolean;
  entriesRemoved: number;
  /** The entries removed (or, in a dry run, that would be), least recently used first. */
  removedEntries: {
    stage: string;
    key: string;
    bytes: number;
    lastUsed: string;
    /** How long the stage took to produce it: what rebuilding it costs. */
    durationMs: number;
  }[];
  /** Entries kept because a running build uses them. */
  entriesInUse: number;
  objectsRemoved: number;
  bytesFreed: number;
  bytesRemaining: number;
  tempDirsRemoved: number;
  /** Resume directories of interrupted runs removed (see below). */
  resumeDirsRemoved: number;
}

export interface GcOptions {
  maxBytes?: number;
  /** Decide, report, delete nothing. */
  dryRun?: boolean;
  /** Output directories (`build/`) whose recipes' staging folders left by killed builds go too. */
  outputRoots?: readonly string[];
}

/**
 * Removes objects no entry references, leftovers of killed builds, and, with
 * `maxBytes`, the least recently used entries until the objects fit.
 * Entries and objects a running build has pinned are never removed (see
 * build-pins.ts: gc holds the gc lock while it decides and deletes).
 * Resume directories (what an interrupted long stage left to continue from)
 * go when their key already has an entry, and, with `maxBytes`, all but
 * those of runs in progress: the next run of such a key starts over.
 */
export async function collectGarbage(store: ObjectStore, options: GcOptions): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  const lock = dryRun
    ? undefined
    : await new KeyLocks(join(store.root, "locks")).acquire(
        GC_LOCK_NAME,
        new AbortController().signal,
      );
  try {
    return await collectUnderLock(store, options, dryRun);
  } finally {
    await lock?.release();
  }
}

async function collectUnderLock(
  store: ObjectStore,
  options: GcOptions,
  dryRun: boolean,
): Promise<GcReport> {
  let tempDirsRemoved = 0;
  if (!dryRun) {
    tempDirsRemoved = await removeDeadTempDirs(store.root);
    for (const root of options.outputRoots ?? []) {
      for (const recipe of await readdirOrEmpty(root)) {
        tempDirsRemoved += await removeDeadTempSiblings(join(root, recipe));
      }
    }
  }
  const pins = await readLivePins(store.root);
  const entries = (await store.listEntries()).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const objects = await store.listObjects();
  const sizeOf = new Map(objects.map((object) => [object.digest as string, object.size]));
  const pinned = (entry: CacheEntry) => pins.entries.has(`${entry.stage}/${entry.key}`);

  // Entries in use first (they stay whatever the budget), then from most to
  // least recently used, keeping them while they fit.
  const kept = new Set<string>(pins.objects);
  let keptBytes = 0;
  const keep = (entry: CacheEntry, budget: number | undefined): boolean => {
    const added = Object.values(entry.outputs)
      .map((output) => output.digest as string)
      .filter((digest) => !kept.has(digest));
    const addedBytes = added.reduce((sum, digest) => sum + (sizeOf.get(digest) ?? 0), 0);
    if (budget !== undefined && keptBytes + addedBytes > budget) return false;
    for (const digest of added) kept.add(digest);
    keptBytes += addedBytes;
    return true;
  };
  const inUse = entries.filter(({ entry }) => pinned(entry));
  for (const { entry } of inUse) keep(entry, undefined);
  const removedEntries: GcReport["removedEntries"] = [];
  for (const { entry, mtimeMs } of entries) {
    if (pinned(entry) || keep(entry, options.maxBytes)) continue;
    if (!dryRun) await store.deleteEntry(entry.stage, entry.key);
    removedEntries.push({
      stage: entry.stage,
      key: entry.key,
      bytes: Object.values(entry.outputs).reduce((sum, output) => sum + output.size, 0),
      lastUsed: new Date(mtimeMs).toISOString(),
      durationMs: entry.durationMs,
    });
  }
  removedEntries.reverse();
  let objectsRemoved = 0;
  let bytesFreed = 0;
  for (const object of objects) {
    if (kept.has(object.digest)) continue;
    if (!dryRun) await store.deleteObject(object.digest);
    objectsRemoved++;
    bytesFreed += object.size;
  }
  const resumeDirsRemoved = dryRun
    ? 0
    : await removeResumeDirs(store.root, {
        finished: new Set(entries.map(({ entry }) => `${entry.stage}/${entry.key}`)),
        all: options.maxBytes !== undefined,
      });
  return {
    dryRun,
    entriesRemoved: removedEntries.length,
    removedEntries,
    entriesInUse: inUse.length,
    objectsRemoved,
    bytesFreed,
    bytesRemaining: keptBytes,
    tempDirsRemoved,
    resumeDirsRemoved,
  };
}

/** One row of `cache ls`. */
export interface CacheListing {
  stage: string;
  key: string;
  files: number;
  bytes: number;
  createdAt: string;
  lastUsed: string;
  durationMs: number;
}

/** Every entry, most recently used first. */
export async function listCache(store: ObjectStore): Promise<CacheListing[]> {
  const entries = (await store.listEntries()).sort((a, b) => b.mtimeMs - a.mtimeMs);
  return entries.map(({ entry, mtimeMs }) => ({
    stage: entry.stage,
    key: entry.key,
    files: Object.keys(entry.outputs).length,
    bytes: Object.values(entry.outputs).reduce((sum, output) => sum + output.size, 0),
    createdAt: entry.createdAt,
    lastUsed: new Date(mtimeMs).toISOString(),
    durationMs: entry.durationMs,
  }));
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
      if (await isLockHeld(lockFilePath(join(cacheRoot, "locks"), key))) continue;
      if (!options.all && !options.finished.has(`${stage}/${key}`)) continue;
      await rm(join(root, stage, key), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** Work directories are named `.tmp-<pid>-…`; those of dead processes are garbage. */
async function removeDeadTempDirs(cacheRoot: string): Promise<number> {
  let removed = await removeDeadTempSiblings(join(cacheRoot, "tmp"));
  removed += await removeDeadTempSiblings(pinsDir(cacheRoot));
  // Locks of dead owners would be broken by the next build anyway; tidy them now.
  await new KeyLocks(join(cacheRoot, "locks")).breakStaleLocks();
  return removed;
}
