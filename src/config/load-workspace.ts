/**
 * Finds and loads `tinyformer.yaml`: the workspace root is the nearest
 * directory at or above the start directory that holds one.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "./diagnostic.js";
import { displayPath, readYamlFile } from "./read-source.js";
import { validateAgainstSchema } from "./schema-validation.js";
import { SourceStack } from "./source-stack.js";
import type { WorkspaceConfig } from "./types.js";

export const WORKSPACE_FILE = "tinyformer.yaml";

export interface Workspace {
  /** Directory holding tinyformer.yaml; relative paths in configuration resolve against it. */
  root: string;
  file: string;
  config: WorkspaceConfig;
  cacheDir: string;
  outputDir: string;
}

export class WorkspaceNotFoundError extends Error {
  constructor(start: string) {
    super(
      `no ${WORKSPACE_FILE} in ${displayPath(start)} or any parent directory; ` +
        `run tinyformer from a workspace (a directory with ${WORKSPACE_FILE}, see the README)`,
    );
    this.name = "WorkspaceNotFoundError";
  }
}

export function findWorkspaceRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, WORKSPACE_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new WorkspaceNotFoundError(start);
    dir = parent;
  }
}

/** Throws WorkspaceNotFoundError, or ConfigError listing every problem in the file. */
export async function loadWorkspace(start: string): Promise<Workspace> {
  const root = findWorkspaceRoot(start);
  const file = join(root, WORKSPACE_FILE);
  const document = await readYamlFile(file);
  if (document === undefined) throw new WorkspaceNotFoundError(start);
  if (document.diagnostics.length > 0) throw new ConfigError(document.diagnostics);
  // An empty file means "all defaults".
  const value = document.value ?? {};
  const diagnostics = await validateAgainstSchema("workspace", value, new SourceStack([document]));
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  const config = value as WorkspaceConfig;
  return {
    root,
    file,
    config,
    cacheDir: resolve(root, config.cache_dir),
    outputDir: resolve(root, config.output_dir),
  };
}
