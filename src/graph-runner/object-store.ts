/**
 * Content-addressed cache: immutable objects named by their SHA-256, and one
 * entry (manifest) per cache key that lists the objects a stage produced.
 *
 *   <cache>/objects/ab/cdef…      file bytes, read-only, named by digest
 *   <cache>/entries/<stage>/<key>.json   entry: fingerprint + output list
 *
 * Both go through temp file + rename, and an entry is written only after all
 * of its objects are in place, so a reader that finds an entry finds a whole
 * result. A hit is never trusted blindly: the entry must hash to its key and
 * every object must have its recorded size and digest (a user, a disk or a
 * stray tool may have changed one). Digests come from the stat memo, so an
 * object is hashed once, not on every no-op build; a changed file changes
 * its stat and is hashed again. A hit that fails a check is evicted and
 * reported, and the stage runs again.
 */
import { chmod, mkdir, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { tempSiblingPath, writeFileAtomic } from "./atomic-write.js";
import { canonicalJson } from "./canonical-json.js";
import {
  type CacheKey,
  type ContentDigest,
  digestFile,
  digestText,
  isHexDigest,
} from "./digest.js";
import { computeCacheKey, type Fingerprint } from "./fingerprint.js";
import type { StatMemo } from "./stat-memo.js";

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

/** Why a cached result could not be used. */
export interface CacheProblem {
  /** The output's path within the stage's outputs ("" for the entry itself). */
  output: string;
  /** The object's digest, or the entry's key. */
  digest: string;
  problem: string;
}

export type LookupResult =
  | { kind: "hit"; entry: CacheEntry }
  | { kind: "miss" }
  /** The entry or an object failed a check; evicted unless the lookup only looked. */
  | { kind: "damaged"; problems: CacheProblem[] };

export interface LookupOptions {
  /** Leave a damaged entry in place (status and dry runs only look). @default true */
  evict?: boolean;
}

/** `the cached result was damaged (model.bin: the object's bytes do not match its digest)` */
export function describeDamage(problems: readonly CacheProblem[]): string {
  const [first] = problems;
  const where =
    first === undefined ? "" : `${first.output === "" ? "entry" : first.output}: ${first.problem}`;
  const more = problems.length > 1 ? ` and ${problems.length - 1} more` : "";
  return `the cached result was damaged (${where}${more})`;
}

/**
 * Objects are given an mtime this far in the past when stored, so the stat
 * memo trusts their digest at once (no racily-clean re-hash) and any later
 * write, which sets mtime to the present, is seen as a change.
 */
const OBJECT_MTIME_AGE_MS = 60_000;

export class ObjectStore {
  readonly root: string;
  readonly #memo: StatMemo | undefined;

  /** Without a memo every lookup hashes every object (fine for one-off tools). */
  constructor(root: string, memo?: StatMemo) {
    this.root = root;
    this.#memo = memo;
  }

  objectPath(digest: ContentDigest): string {
    return join(this.root, "objects", digest.slice(0, 2), digest.slice(2));
  }

  entryPath(stage: string, key: CacheKey): string {
    return join(this.root, "entries", stage, `${key}.json`);
  }

  /**
   * Moves `file` (which the caller owns and no longer needs) into the store
   * and returns its digest (`knownDigest` when the caller just hashed it). Same-filesystem rename: no copy of the bytes.
   */
  async adoptFile(file: string, knownDigest?: ContentDigest): Promise<ContentDigest> {
    const digest = knownDigest ?? (await digestFile(file));
    const target = this.objectPath(digest);
    const { size } = await stat(file);
    // An object already stored is reused only if intact; a damaged one is replaced.
    if ((await this.checkObject({ digest, size, executable: false })) === undefined) {
      await rm(file, { force: true });
      return digest;
    }
    await mkdir(join(target, ".."), { recursive: true });
    await chmod(file, 0o444);
    const past = new Date(Date.now() - OBJECT_MTIME_AGE_MS);
    await utimes(file, past, past);
    await rename(file, target);
    // The bytes were hashed just now and nobody else can write them: the memo
    // records that digest against the stat they have under their name.
    this.#memo?.remember(target, digest);
    return digest;
  }

  async hasObject(digest: ContentDigest): Promise<boolean> {
    return exists(this.objectPath(digest));
  }

  async readEntry(stage: string, key: CacheKey): Promise<CacheEntry | undefined> {
    const read = await this.#readEntryChecked(stage, key);
    return read.kind === "ok" ? read.entry : undefined;
  }

  /** The entry as stored, or why it cannot be used: absent, or unreadable/inconsistent. */
  async #readEntryChecked(
    stage: string,
    key: CacheKey,
  ): Promise<
    { kind: "ok"; entry: CacheEntry } | { kind: "absent" } | { kind: "bad"; why: string }
  > {
    let text: string;
    try {
      text = await readFile(this.entryPath(stage, key), "utf8");
    } catch {
      return { kind: "absent" };
    }
    let entry: CacheEntry;
    try {
      entry = JSON.parse(text) as CacheEntry;
    } catch {
      return { kind: "bad", why: "the entry is not valid JSON" };
    }
    if (entry?.format !== ENTRY_FORMAT) return { kind: "absent" }; // another format: not ours to judge
    if (entry.key !== key || entry.stage !== stage) {
      return { kind: "bad", why: "the entry names another stage or key" };
    }
    try {
      if (computeCacheKey(entry.fingerprint) !== key) {
        return { kind: "bad", why: "the entry's fingerprint does not hash to its key" };
      }
      if (digestText(canonicalJson(entry.outputs)) !== entry.outputsDigest) {
        return { kind: "bad", why: "the entry's output list does not match its digest" };
      }
    } catch {
      return { kind: "bad", why: "the entry is malformed" };
    }
    return { kind: "ok", entry };
  }

  /** Why the object for `output` cannot be used, or undefined when it is intact. */
  async checkObject(output: OutputFile): Promise<string | undefined> {
    const path = this.objectPath(output.digest);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return "the object is missing";
    }
    if (size !== output.size) return `the object has ${size} bytes, ${output.size} expected`;
    const actual =
      this.#memo === undefined ? await digestFile(path) : await this.#memo.digest(path);
    if (actual !== output.digest) return "the object's bytes do not match its digest";
    return undefined;
  }

  /**
   * The entry for `key` if it is a whole, intact hit: the entry is
   * consistent and every object it references has its size and digest.
   * A damaged hit is evicted (the entry, and the objects whose bytes are
   * wrong) so the stage runs again. A hit touches the entry so `cache gc`
   * evicts least recently used entries first.
   */
  async lookup(stage: string, key: CacheKey, options: LookupOptions = {}): Promise<LookupResult> {
    const read = await this.#readEntryChecked(stage, key);
    if (read.kind === "absent") return { kind: "miss" };
    const evict = options.evict ?? true;
    if (read.kind === "bad") {
      if (evict) await this.deleteEntry(stage, key);
      return { kind: "damaged", problems: [{ output: "", digest: key, problem: read.why }] };
    }
    const { entry } = read;
    const problems: CacheProblem[] = [];
    for (const [output, file] of Object.entries(entry.outputs)) {
      const problem = await this.checkObject(file);
      if (problem !== undefined) problems.push({ output, digest: file.digest, problem });
    }
    if (problems.length > 0) {
      if (evict) {
        // The entry first: a concurrent reader must never find an entry whose object is gone.
        await this.deleteEntry(stage, key);
        for (const { digest, problem } of problems) {
          if (problem !== "the object is missing") {
            await this.deleteObject(digest as ContentDigest);
          }
        }
      }
      return { kind: "damaged", problems };
    }
    const now = new Date();
    await utimes(this.entryPath(stage, key), now, now).catch(() => undefined);
    return { kind: "hit", entry };
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
