/** `tinyformer clean`, `cache gc` and `cache verify`. */
import { rm } from "node:fs/promises";
import type { Workspace } from "../config/load-workspace.js";
import {
  collectGarbage,
  type GcReport,
  type VerifyReport,
  verifyCache,
} from "../graph-runner/cache-maintenance.js";
import { ObjectStore } from "../graph-runner/object-store.js";

/** Removes the cache and every recipe's outputs. Inputs and configuration are untouched. */
export async function cleanWorkspace(workspace: Workspace): Promise<string[]> {
  const removed = [workspace.cacheDir, workspace.outputDir];
  for (const dir of removed) await rm(dir, { recursive: true, force: true });
  return removed;
}

export function gcCache(workspace: Workspace, maxBytes?: number): Promise<GcReport> {
  return collectGarbage(
    new ObjectStore(workspace.cacheDir),
    maxBytes === undefined ? {} : { maxBytes },
  );
}

export function verifyWorkspaceCache(workspace: Workspace, repair: boolean): Promise<VerifyReport> {
  return verifyCache(new ObjectStore(workspace.cacheDir), repair);
}
