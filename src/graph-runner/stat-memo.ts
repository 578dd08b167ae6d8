/**
 * Remembers the digest of each input file next to the stat fields that would
 * change if the file did, so a no-op build hashes no unchanged bytes.
 *
 * A file edited within the same timestamp tick as its hashing would keep its
 * old stat; as in git's "racily clean" rule, an entry is trusted only when the
 * file was already older than a safety margin at the time it was hashed.
 */
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";
import { type ContentDigest, digestFile } from "./digest.js";

interface MemoEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  digest: ContentDigest;
  /** Wall-clock time of hashing; see the racily-clean rule above. */
  hashedAtMs: number;
}

/** Timestamps within this margin of the hash time are not trusted. */
const RACY_MARGIN_MS = 2000;
const MEMO_VERSION = 1;

export class StatMemo {
  readonly #file: string;
  readonly #entries: Map<string, MemoEntry>;
  #dirty = false;
  #hashedFiles = 0;

  private constructor(file: string, entries: Map<string, MemoEntry>) {
    this.#file = file;
    this.#entries = entries;
  }

  /** Loads the memo; a missing or unreadable memo starts empty (it is only a cache). */
  static async load(file: string): Promise<StatMemo> {
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as {
        version?: number;
        entries?: Record<string, MemoEntry>;
      };
      if (parsed.version === MEMO_VERSION && parsed.entries) {
        return new StatMemo(file, new Map(Object.entries(parsed.entries)));
      }
    } catch {
      // Absent or corrupt: rebuilding the memo only costs hashing time.
    }
    return new StatMemo(file, new Map());
  }

  /**
   * Digest of the file at `path` (absolute), from the memo when its stat is
   * unchanged, otherwise by hashing it. Throws ENOENT for a missing file.
   */
  async digest(path: string): Promise<ContentDigest> {
    // Synchronous on purpose: for a thousand unchanged files a plain stat
    // loop is several times faster than as many thread-pool round trips.
    const info = statSync(path);
    const known = this.#entries.get(path);
    if (
      known !== undefined &&
      known.size === info.size &&
      known.mtimeMs === info.mtimeMs &&
      known.ctimeMs === info.ctimeMs &&
      known.ino === info.ino &&
      known.hashedAtMs - info.mtimeMs > RACY_MARGIN_MS
    ) {
      return known.digest;
    }
    const hashedAtMs = Date.now();
    const digest = await digestFile(path);
    this.#hashedFiles++;
    this.#record(path, info, digest, hashedAtMs);
    return digest;
  }

  /**
   * Records `digest` for `path` without reading it: for a caller that just
   * hashed the bytes itself and owns the file (the object store, storing an
   * output it hashed a moment ago).
   */
  remember(path: string, digest: ContentDigest): void {
    this.#record(path, statSync(path), digest, Date.now());
  }

  #record(
    path: string,
    info: { size: number; mtimeMs: number; ctimeMs: number; ino: number },
    digest: ContentDigest,
    hashedAtMs: number,
  ): void {
    const { size, mtimeMs, ctimeMs, ino } = info;
    this.#entries.set(path, { size, mtimeMs, ctimeMs, ino, digest, hashedAtMs });
    this.#dirty = true;
  }

  /** Files actually read and hashed by this memo so far (a no-op build should read none). */
  get hashedFiles(): number {
    return this.#hashedFiles;
  }

  /** Persists the memo if anything changed. Concurrent writers: last one wins, harmlessly. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    await writeFileAtomic(
      this.#file,
      JSON.stringify({ version: MEMO_VERSION, entries: Object.fromEntries(this.#entries) }),
    );
    this.#dirty = false;
  }
}
