/**
 * `tinyformer validate [files...]`: checks configuration files without
 * building. With no files: the workspace file, every recipe in recipes/ and
 * every board in boards/.
 */
import { readdir } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { ConfigError, type Diagnostic } from "../config/diagnostic.js";
import { displayPath } from "../config/display-path.js";
import { loadBoardProfile } from "../config/load-board.js";
import { loadRecipe } from "../config/load-recipe.js";
import { findWorkspaceRoot, loadWorkspace, WORKSPACE_FILE } from "../config/load-workspace.js";
import { checkSearchFeasibility } from "../search/feasibility-check.js";

export type ConfigFileKind = "workspace" | "recipe" | "board";

export interface ValidationResult {
  checked: { file: string; kind: ConfigFileKind }[];
  diagnostics: Diagnostic[];
  /** Files that could not be read at all. */
  unreadable: string[];
}

/** By name: tinyformer.yaml is a workspace, a file in a `boards` directory a board, anything else a recipe. */
export function kindOf(file: string): ConfigFileKind {
  if (basename(file) === WORKSPACE_FILE) return "workspace";
  if (dirname(resolve(file)).split(sep).includes("boards")) return "board";
  return "recipe";
}

export async function validateFiles(
  files: readonly string[],
  cwd: string,
): Promise<ValidationResult> {
  const targets =
    files.length > 0 ? files.map((file) => resolve(cwd, file)) : await workspaceFiles(cwd);
  const result: ValidationResult = { checked: [], diagnostics: [], unreadable: [] };
  for (const file of targets) {
    const kind = kindOf(file);
    result.checked.push({ file: displayPath(file), kind });
    try {
      if (kind === "workspace") await loadWorkspace(dirname(file));
      else if (kind === "board") {
        if ((await loadBoardProfile(file)) === undefined) result.unreadable.push(displayPath(file));
      } else {
        const workspaceRoot = rootFor(file);
        await loadRecipe(file, { workspaceRoot, lateChecks: [checkSearchFeasibility] });
      }
    } catch (error) {
      if (error instanceof ConfigError) result.diagnostics.push(...error.diagnostics);
      else throw error;
    }
  }
  return result;
}

function rootFor(file: string): string {
  try {
    return findWorkspaceRoot(dirname(file));
  } catch {
    return dirname(file);
  }
}

async function workspaceFiles(cwd: string): Promise<string[]> {
  const root = findWorkspaceRoot(cwd);
  const listYaml = async (dir: string) =>
    (await readdir(dir).catch(() => [] as string[]))
      .filter((name) => name.endsWith(".yaml") || name.endsWith(".yml"))
      .sort()
      .map((name) => join(dir, name));
  return [
    join(root, WORKSPACE_FILE),
    ...(await listYaml(join(root, "recipes"))),
    ...(await listYaml(join(root, "boards"))),
  ];
}
