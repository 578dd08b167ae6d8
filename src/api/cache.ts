/** `tinyformer clean`, `cache gc` and `cache verify`. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Workspace } from "../config/load-workspace.js";
import { CONFIG_MEMO_DIR } from "../config/project-config.js";
import {
  type CacheListing,
  collectGarbage,
  type GcReport,
  listCache,
  type VerifyReport,
  verifyCache,
} from "../graph-runner/cache-maintenance.js";
import { ObjectStore } from "../graph-runner/object-store.js";

/** Removes the cache, every recipe's outputs and the configuration memo. Inputs and configuration are untouched. */
export async function cleanWorkspace(workspace: Workspace): Promise<string[]> {
  const removed = [workspace.cacheDir, workspace.outputDir, join(workspace.root, CONFIG_MEMO_DIR)];
  for (const dir of removed) await rm(dir, { recursive: true, force: true });
  return removed;
}

export interface GcCacheOptions {
  /** Evict least recently used entries until the objects fit in this many bytes. */
  maxBytes?: number;
  /** Report what would be removed; remove nothing. */
  dryRun?: boolean;
}

/** Trims the cache; never removes what a running build uses, nor a recipe's outputs. */
export function gcCache(workspace: Workspace, options: GcCacheOptions = {}): Promise<GcReport> {
  return collectGarbage(new ObjectStore(workspace.cacheDir), {
    ...options,
    outputRoots: [workspace.outputDir],
  });
}

/** The cache's entries, most recently used first. */
export function listWorkspaceCache(workspace: Workspace): Promise<CacheListing[]> {
  return listCache(new ObjectStore(workspace.cacheDir));
}

export function verifyWorkspaceCache(workspace: Workspace, repair: boolean): Promise<VerifyReport> {
  return verifyCache(new ObjectStore(workspace.cacheDir), repair);
}
