/**
 * Writes that a crash cannot leave half-done: data goes to a temp file in the
 * same directory, then `rename` replaces the target in one step. A reader sees
 * the old content or the new, never a prefix.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export function tempSiblingPath(target: string): string {
  return join(dirname(target), `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempSiblingPath(target);
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
