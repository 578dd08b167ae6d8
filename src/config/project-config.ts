/**
 * Loads a project's configuration (workspace + recipe + board), answering
 * from a memo when none of the files it came from has changed.
 *
 * Parsing YAML and validating it is most of what a no-op build does (the
 * YAML parser alone takes longer to load than the rest of the build), so the
 * validated result is kept in `<workspace>/.tinyformer/config-memo/`, one
 * file per (recipe, --set overrides), together with the stat of every file
 * it depends on: tinyformer.yaml, the recipe and everything it extends, the
 * board profile, the schemas and TinyFormer's own package.json. A memo is
 * used only when all of them are unchanged, and, as in git's "racily clean"
 * rule, only when they were already older than a safety margin when it was
 * written. The YAML loaders are imported only when the memo misses.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../graph-runner/atomic-write.js";
import { packageRoot, schemasDir } from "../project-paths.js";
import type { LoadedRecipe, LoadRecipeOptions } from "./load-recipe.js";
import type { Workspace } from "./load-workspace.js";
import { findWorkspaceRoot } from "./workspace-root.js";

export interface ProjectConfig {
  workspace: Workspace;
  recipe: LoadedRecipe;
}

export interface ProjectConfigRequest {
  cwd: string;
  /** Recipe file relative to `cwd`; the workspace's default_recipe when absent. */
  recipe?: string;
  overrides: readonly string[];
  /** Passed to loadRecipe; a remembered result has passed them. */
  lateChecks?: LoadRecipeOptions["lateChecks"];
}

interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface Memo {
  format: typeof MEMO_FORMAT;
  createdAtMs: number;
  inputs: FileStamp[];
  result: ProjectConfig;
}

const MEMO_FORMAT = 2;
const RACY_MARGIN_MS = 2000;

export const CONFIG_MEMO_DIR = join(".tinyformer", "config-memo");

export async function loadProjectConfig(request: ProjectConfigRequest): Promise<ProjectConfig> {
  const root = findWorkspaceRoot(request.cwd);
  const recipeArgument = request.recipe === undefined ? null : resolve(request.cwd, request.recipe);
  const memoName = createHash("sha256")
    .update(JSON.stringify({ recipe: recipeArgument, overrides: request.overrides }))
    .digest("hex");
  const memoFile = join(root, CONFIG_MEMO_DIR, `${memoName}.json`);
  const remembered = await readValidMemo(memoFile);
  if (remembered !== undefined) return remembered;

  const startedAtMs = Date.now();
  const [{ loadWorkspace }, { loadRecipe }] = await Promise.all([
    import("./load-workspace.js"),
    import("./load-recipe.js"),
  ]);
  const workspace = await loadWorkspace(request.cwd);
  const recipe = await loadRecipe(
    recipeArgument ?? resolve(workspace.root, workspace.config.default_recipe),
    {
      workspaceRoot: workspace.root,
      overrides: request.overrides,
      ...(request.lateChecks === undefined ? {} : { lateChecks: request.lateChecks }),
    },
  );
  const result: ProjectConfig = { workspace, recipe };
  const inputs = await Promise.all(
    [
      workspace.file,
      ...recipe.configFiles,
      ...["workspace", "recipe", "board"].map((name) => join(schemasDir, `${name}.schema.json`)),
      join(packageRoot, "package.json"),
    ].map(stampOf),
  );
  if (
    inputs.every((input) => input !== undefined && startedAtMs - input.mtimeMs > RACY_MARGIN_MS)
  ) {
    const memo: Memo = {
      format: MEMO_FORMAT,
      createdAtMs: startedAtMs,
      inputs: inputs as FileStamp[],
      result,
    };
    // A memo is only a shortcut: failing to write one must not fail the command.
    await writeFileAtomic(memoFile, JSON.stringify(memo)).catch(() => undefined);
  }
  return result;
}

async function readValidMemo(file: string): Promise<ProjectConfig | undefined> {
  let memo: Memo;
  try {
    memo = JSON.parse(await readFile(file, "utf8")) as Memo;
  } catch {
    return undefined;
  }
  if (memo.format !== MEMO_FORMAT) return undefined;
  const current = await Promise.all(memo.inputs.map((input) => stampOf(input.path)));
  const unchanged = memo.inputs.every((input, i) => {
    const now = current[i];
    return (
      now !== undefined &&
      now.size === input.size &&
      now.mtimeMs === input.mtimeMs &&
      now.ctimeMs === input.ctimeMs &&
      now.ino === input.ino
    );
  });
  return unchanged ? memo.result : undefined;
}

async function stampOf(path: string): Promise<FileStamp | undefined> {
  try {
    const info = await stat(path);
    return { path, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino };
  } catch {
    return undefined;
  }
}
