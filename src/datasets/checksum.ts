/** SHA-256 helpers for dataset files and `SHA256SUMS` manifests. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Parses `sha256sum` output ("<64 hex>  <name>", optionally "*<name>" for
 * binary mode) into name -> digest. Blank lines are ignored; anything else
 * malformed is an error naming the line.
 */
export function parseSha256Sums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (match === null) throw new Error(`${source}:${index + 1}: not a sha256sum line: ${line}`);
    sums.set(match[2] as string, (match[1] as string).toLowerCase());
  }
  return sums;
}

export async function loadSha256Sums(path: string): Promise<Map<string, string>> {
  return parseSha256Sums(await readFile(path, "utf8"), path);
}

export function assertSha256(bytes: Uint8Array, expected: string, source: string): void {
  const actual = sha256Hex(bytes);
  if (actual !== expected.toLowerCase()) {
    throw new Error(
      `${source}: SHA-256 mismatch (expected ${expected.toLowerCase()}, got ${actual}); ` +
        "the file is corrupt or a different version",
    );
  }
}
