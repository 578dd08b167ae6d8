/**
 * Writes that a crash cannot leave half-done: data goes to a temp file in the
 * same directory, then `rename` replaces the target in one step. A reader sees
 * the old content or the new, never a prefix.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isProcessAlive } from "./process-identity.js";

export function tempSiblingPath(target: string): string {
  return join(dirname(target), `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
}

/**
 * Removes `.tmp-<pid>-…` entries of `dir` whose process is gone: what a
 * killed writer left behind. Returns how many went.
 */
export async function removeDeadTempSiblings(dir: string): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || isProcessAlive(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
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
