/**
 * Finds and loads `tinyformer.yaml`: the workspace root is the nearest
 * directory at or above the start directory that holds one.
 */
import { join, resolve } from "node:path";
import { ConfigError } from "./diagnostic.js";
import { readYamlFile } from "./read-source.js";
import { validateAgainstSchema } from "./schema-validation.js";
import { SourceStack } from "./source-stack.js";
import type { WorkspaceConfig } from "./types.js";
import { findWorkspaceRoot, WORKSPACE_FILE, WorkspaceNotFoundError } from "./workspace-root.js";

export { findWorkspaceRoot, WORKSPACE_FILE, WorkspaceNotFoundError };

export interface Workspace {
  /** Directory holding tinyformer.yaml; relative paths in configuration resolve against it. */
  root: string;
  file: string;
  config: WorkspaceConfig;
  cacheDir: string;
  outputDir: string;
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
