/**
 * Finding the workspace: the nearest directory at or above the start that
 * holds tinyformer.yaml. Kept apart from the YAML loader so that commands
 * answered from the configuration memo never load a YAML parser.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { displayPath } from "./display-path.js";

export const WORKSPACE_FILE = "tinyformer.yaml";

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
