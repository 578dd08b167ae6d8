/**
 * Content-addressed cache: immutable objects named by their SHA-256, and one
 * entry (manifest) per cache key that lists the objects a stage produced.
 *
 *   <cache>/objects/ab/cdef…      file bytes, read-only, named by digest
 *   <cache>/entries/<stage>/<key>.json   entry: fingerprint + output list
 *
 * Both go through temp file + rename, and an entry is written only after all
 * of its objects are in place, so a reader that finds an entry finds a whole
 * result; a hit still checks that every object exists (a user or a disk may
 * have removed one), and a missing object turns the hit into a miss.
 */
import { chmod, mkdir, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { tempSiblingPath, writeFileAtomic } from "./atomic-write.js";
import { type CacheKey, type ContentDigest, digestFile, isHexDigest } from "./digest.js";
import type { Fingerprint } from "./fingerprint.js";

/** One file a stage produced, by path relative to its output directory. */
export interface OutputFile {
  digest: ContentDigest;
  size: number;
  /** Preserved so generated scripts and binaries stay runnable. */
  executable: boolean;
}

/** The record that makes a cache key a hit. */
export interface CacheEntry {
  format: typeof ENTRY_FORMAT;
  stage: string;
  key: CacheKey;
  /** Everything the key was computed from, kept for `why` and `status`. */
  fingerprint: Fingerprint;
  /** Sorted by path. */
  outputs: Record<string, OutputFile>;
  /** Digest of `outputs` alone: what downstream keys depend on (early cutoff). */
  outputsDigest: ContentDigest;
  createdAt: string;
  durationMs: number;
}

export const ENTRY_FORMAT = 1;

export class ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  objectPath(digest: ContentDigest): string {
    return join(this.root, "objects", digest.slice(0, 2), digest.slice(2));
  }

  entryPath(stage: string, key: CacheKey): string {
    return join(this.root, "entries", stage, `${key}.json`);
  }

  /**
   * Moves `file` (which the caller owns and no longer needs) into the store
   * and returns its digest. Same-filesystem rename: no copy of the bytes.
   */
  async adoptFile(file: string): Promise<ContentDigest> {
    const digest = await digestFile(file);
    const target = this.objectPath(digest);
    if (await exists(target)) {
      await rm(file, { force: true });
      return digest;
    }
    await mkdir(join(target, ".."), { recursive: true });
    await chmod(file, 0o444);
    await rename(file, target);
    return digest;
  }

  async hasObject(digest: ContentDigest): Promise<boolean> {
    return exists(this.objectPath(digest));
  }

  async readEntry(stage: string, key: CacheKey): Promise<CacheEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.entryPath(stage, key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as CacheEntry;
      return entry.format === ENTRY_FORMAT && entry.key === key ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The entry for `key` if it is a complete hit: the entry parses and every
   * object it references exists. Touches the entry so `cache gc` can evict
   * least recently used entries first.
   */
  async lookup(stage: string, key: CacheKey): Promise<CacheEntry | undefined> {
    const entry = await this.readEntry(stage, key);
    if (entry === undefined) return undefined;
    const present = await Promise.all(
      Object.values(entry.outputs).map((output) => this.hasObject(output.digest)),
    );
    if (present.includes(false)) return undefined;
    const now = new Date();
    await utimes(this.entryPath(stage, key), now, now).catch(() => undefined);
    return entry;
  }

  /** Written last, after every object of the entry is stored. */
  async writeEntry(entry: CacheEntry): Promise<void> {
    await writeFileAtomic(this.entryPath(entry.stage, entry.key), JSON.stringify(entry, null, 2));
  }

  async deleteEntry(stage: string, key: CacheKey): Promise<void> {
    await rm(this.entryPath(stage, key), { force: true });
  }

  /** Every entry in the store, unreadable ones skipped (they are never hits). */
  async listEntries(): Promise<{ entry: CacheEntry; path: string; mtimeMs: number }[]> {
    const result: { entry: CacheEntry; path: string; mtimeMs: number }[] = [];
    const entriesRoot = join(this.root, "entries");
    for (const stage of await readdirOrEmpty(entriesRoot)) {
      for (const file of await readdirOrEmpty(join(entriesRoot, stage))) {
        if (!file.endsWith(".json")) continue;
        const key = file.slice(0, -5);
        if (!isHexDigest(key)) continue;
        const entry = await this.readEntry(stage, key as CacheKey);
        if (entry === undefined) continue;
        const path = this.entryPath(stage, key as CacheKey);
        const info = await stat(path);
        result.push({ entry, path, mtimeMs: info.mtimeMs });
      }
    }
    return result;
  }

  /** Every object in the store with its size. */
  async listObjects(): Promise<{ digest: ContentDigest; path: string; size: number }[]> {
    const result: { digest: ContentDigest; path: string; size: number }[] = [];
    const objectsRoot = join(this.root, "objects");
    for (const prefix of await readdirOrEmpty(objectsRoot)) {
      for (const rest of await readdirOrEmpty(join(objectsRoot, prefix))) {
        const digest = `${prefix}${rest}`;
        if (!isHexDigest(digest)) continue;
        const path = join(objectsRoot, prefix, rest);
        const info = await stat(path);
        result.push({ digest: digest as ContentDigest, path, size: info.size });
      }
    }
    return result;
  }

  async deleteObject(digest: ContentDigest): Promise<void> {
    await rm(this.objectPath(digest), { force: true });
  }

  /** A fresh private directory for a stage run, inside the store's filesystem. */
  async createWorkDir(): Promise<string> {
    const dir = tempSiblingPath(join(this.root, "tmp", "x"));
    await mkdir(dir, { recursive: true });
    return dir;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
