/**
 * SHA-256 digests, branded so a content digest cannot be passed where a cache
 * key is expected (both are 64 hex characters).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** SHA-256 of some bytes (a file or an object in the store), lowercase hex. */
export type ContentDigest = string & { readonly __brand: "ContentDigest" };
/** SHA-256 of a stage's canonical fingerprint; names a cache entry. */
export type CacheKey = string & { readonly __brand: "CacheKey" };

const HEX64 = /^[0-9a-f]{64}$/;

export function isHexDigest(text: string): boolean {
  return HEX64.test(text);
}

export function digestText(text: string): ContentDigest {
  return createHash("sha256").update(text).digest("hex") as ContentDigest;
}

export function digestBytes(bytes: Uint8Array): ContentDigest {
  return createHash("sha256").update(bytes).digest("hex") as ContentDigest;
}

/** Streams the file through SHA-256 so large inputs never sit in memory. */
export async function digestFile(path: string): Promise<ContentDigest> {
  const hash = createHash("sha256");
  // 1 MiB chunks: measured faster than the 64 KiB default on large files.
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex") as ContentDigest;
}
