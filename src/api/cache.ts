/** `tinyformer clean`, `cache gc` and `cache verify`. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Workspace } from "../config/load-workspace.js";
import { CONFIG_MEMO_DIR } from "../config/project-config.js";
import {
  collectGarbage,
  type GcReport,
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

export function gcCache(workspace: Workspace, maxBytes?: number): Promise<GcReport> {
  return collectGarbage(
    new ObjectStore(workspace.cacheDir),
    maxBytes === undefined ? {} : { maxBytes },
  );
}

export function verifyWorkspaceCache(workspace: Workspace, repair: boolean): Promise<VerifyReport> {
  return verifyCache(new ObjectStore(workspace.cacheDir), repair);
}
