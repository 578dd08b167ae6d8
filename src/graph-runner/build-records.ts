/**
 * The last successful fingerprint of each stage, per build scope (one scope
 * per recipe). The cache answers "is this key built?"; these records answer
 * "what changed since last time?" for `status` and `why`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";
import type { CacheKey, ContentDigest } from "./digest.js";
import type { Fingerprint } from "./fingerprint.js";

export interface BuildRecord {
  key: CacheKey;
  fingerprint: Fingerprint;
  outputsDigest: ContentDigest;
  builtAt: string;
}

export class BuildRecords {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(scope: string, stage: string): string {
    return join(this.#dir, encodeScope(scope), `${stage}.json`);
  }

  async read(scope: string, stage: string): Promise<BuildRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#path(scope, stage), "utf8")) as BuildRecord;
    } catch {
      return undefined;
    }
  }

  async write(scope: string, stage: string, record: BuildRecord): Promise<void> {
    const existing = await this.read(scope, stage);
    if (existing?.key === record.key) return;
    await writeFileAtomic(this.#path(scope, stage), JSON.stringify(record, null, 2));
  }
}

/** A scope such as `recipes/default.yaml` as one safe directory name. */
function encodeScope(scope: string): string {
  return encodeURIComponent(scope);
}
