/**
 * Copies a cache entry's outputs to a user-visible directory
 * (`<output dir>/<stage>/`). The copy is built beside the target and swapped
 * in with renames, so the directory always holds one complete build's files;
 * a stamp records which key it holds and each file's stat, so a no-op build
 * checks it with a few `stat` calls and repairs it if a user edited or
 * deleted a file.
 */
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tempSiblingPath } from "./atomic-write.js";
import type { CacheEntry, ObjectStore } from "./object-store.js";

const STAMP = ".tinyformer-stamp.json";

interface Stamp {
  key: string;
  files: Record<string, { size: number; mtimeMs: number }>;
}

export async function materializeOutputs(
  store: ObjectStore,
  entry: CacheEntry,
  targetDir: string,
): Promise<void> {
  // Two builds of one recipe may swap the same directory at once; the loser
  // of a race finds the winner's copy (which is then up to date) or retries.
  for (let attempt = 1; ; attempt++) {
    if (await isUpToDate(entry, targetDir)) return;
    try {
      await replaceDirectory(store, entry, targetDir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "ENOENT"))
        throw error;
    }
  }
}

async function replaceDirectory(
  store: ObjectStore,
  entry: CacheEntry,
  targetDir: string,
): Promise<void> {
  await mkdir(dirname(targetDir), { recursive: true });
  const staging = tempSiblingPath(targetDir);
  await mkdir(staging);
  try {
    const stamp: Stamp = { key: entry.key, files: {} };
    for (const [relativePath, output] of Object.entries(entry.outputs)) {
      const target = join(staging, relativePath);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(store.objectPath(output.digest), target);
      await chmod(target, output.executable ? 0o755 : 0o644);
      const info = await stat(target);
      stamp.files[relativePath] = { size: info.size, mtimeMs: info.mtimeMs };
    }
    await writeFile(join(staging, STAMP), JSON.stringify(stamp));
    const previous = tempSiblingPath(targetDir);
    await rename(targetDir, previous).catch(() => undefined);
    await rename(staging, targetDir);
    await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function isUpToDate(entry: CacheEntry, targetDir: string): Promise<boolean> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(join(targetDir, STAMP), "utf8")) as Stamp;
  } catch {
    return false;
  }
  if (stamp.key !== entry.key) return false;
  const checks = Object.keys(entry.outputs).map(async (relativePath) => {
    const expected = stamp.files[relativePath];
    if (expected === undefined) return false;
    try {
      const info = await stat(join(targetDir, relativePath));
      return info.size === expected.size && info.mtimeMs === expected.mtimeMs;
    } catch {
      return false;
    }
  });
  return !(await Promise.all(checks)).includes(false);
}
