/**
 * Loads a recipe: follows its `extends` chain, merges it (maps key by key,
 * lists and scalars replaced), applies `--set` overrides, validates the
 * result against the recipe schema with defaults, checks what the schema
 * cannot (values that cannot work together: see semantic-checks.ts), then
 * loads and validates the board profile it names. Every problem of every
 * file is collected and thrown together as one ConfigError; nothing is
 * returned from an invalid recipe.
 */
import { basename, dirname, extname, isAbsolute, resolve } from "node:path";
import { DATASET_CHECKS } from "./dataset-checks.js";
import { ConfigError, createDiagnostic, type Diagnostic } from "./diagnostic.js";
import { loadBoardProfile } from "./load-board.js";
import { defineKey, ownValue } from "./own-keys.js";
import { readYamlFile } from "./read-source.js";
import { validateAgainstSchema } from "./schema-validation.js";
import { SEARCH_SETTINGS_CHECKS } from "./search-settings-checks.js";
import { SEARCH_SPACE_CHECKS } from "./search-space-checks.js";
import { type RecipeCheck, runRecipeChecks } from "./semantic-checks.js";
import { applySetOverride, parseSetOverride } from "./set-override.js";
import { SourceStack } from "./source-stack.js";
import { SUPERNAS_CHECKS } from "./supernas-checks.js";
import type { BoardProfile, Recipe } from "./types.js";
import type { LocatedDocument } from "./yaml-source.js";

/** What is checked after the schema: values each valid alone that cannot work together. */
const RECIPE_CHECKS: readonly RecipeCheck[] = [
  ...SEARCH_SPACE_CHECKS,
  ...SEARCH_SETTINGS_CHECKS,
  ...SUPERNAS_CHECKS,
  ...DATASET_CHECKS,
];

export interface LoadedRecipe {
  /** Absolute path of the recipe named on the command line. */
  file: string;
  /** `name:` or the file name without extension; names the output directory. */
  name: string;
  recipe: Recipe;
  board: BoardProfile;
  boardFile: string;
  /** Every configuration file this recipe depends on (itself, what it extends, the board). */
  configFiles: string[];
  /** What stages read keys from: the recipe with `board` replaced by the profile. */
  config: Record<string, unknown>;
}

export interface LoadRecipeOptions {
  workspaceRoot: string;
  /** Raw `--set KEY=VALUE` arguments, in command-line order. */
  overrides?: readonly string[];
  /**
   * Checks of a valid recipe and board that need more than their values
   * (the search's feasibility needs the resource evaluator). They run only
   * when everything else passed; their diagnostics are reported like the
   * schema's. Configuration loading knows nothing of what they compute.
   */
  lateChecks?: readonly LateRecipeCheck[];
}

/** What a late check sees: the valid recipe and board, and where to point a diagnostic. */
export interface LateCheckInput {
  readonly recipe: Recipe;
  readonly board: BoardProfile;
  readonly boardFile: string;
  readonly workspaceRoot: string;
  /** A diagnostic at a recipe value (a JSON Pointer into the merged recipe). */
  recipeDiagnostic(pointer: string, message: string): Diagnostic;
  /** A diagnostic at a value of the board profile. */
  boardDiagnostic(pointer: string, message: string): Promise<Diagnostic>;
}

export type LateRecipeCheck = (input: LateCheckInput) => Promise<readonly Diagnostic[]>;

export async function loadRecipe(file: string, options: LoadRecipeOptions): Promise<LoadedRecipe> {
  const path = resolve(file);
  const diagnostics: Diagnostic[] = [];
  const chain = await readExtendsChain(path, diagnostics);
  if (chain === undefined || diagnostics.length > 0) throw new ConfigError(diagnostics);

  // Merge from the most basic recipe to the one named.
  let merged: Record<string, unknown> = {};
  for (const link of [...chain].reverse()) merged = deepMerge(merged, link.document.value);
  delete merged.extends;

  const layers: LocatedDocument[] = chain.map((link) => link.document);
  (options.overrides ?? []).forEach((argument, index) => {
    const parsed = parseSetOverride(argument, index);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.override === undefined) return;
    const problem = applySetOverride(merged, parsed.override);
    if (problem !== undefined) diagnostics.push(problem);
    layers.unshift(parsed.override.layer);
  });

  const sources = new SourceStack(layers);
  diagnostics.push(...(await validateAgainstSchema("recipe", merged, sources)));
  const recipe = merged as unknown as Recipe;
  diagnostics.push(...runRecipeChecks(RECIPE_CHECKS, recipe, sources, [...diagnostics]));
  // The board too, whatever the recipe's problems, so that all come out at once.
  const boardFile =
    typeof recipe.board === "string" && recipe.board !== ""
      ? resolveBoardFile(recipe.board, options.workspaceRoot)
      : undefined;
  const board =
    boardFile === undefined ? undefined : await loadBoardOf(boardFile, sources, diagnostics);
  if (diagnostics.length > 0 || board === undefined || boardFile === undefined) {
    throw new ConfigError(diagnostics);
  }
  const input: LateCheckInput = {
    recipe,
    board,
    boardFile,
    workspaceRoot: options.workspaceRoot,
    recipeDiagnostic: (pointer, message) => sources.diagnostic(pointer, message),
    async boardDiagnostic(pointer, message) {
      const document = await readYamlFile(boardFile);
      if (document === undefined) return sources.diagnostic("/board", message);
      return new SourceStack([document]).diagnostic(pointer, message);
    },
  };
  for (const check of options.lateChecks ?? []) diagnostics.push(...(await check(input)));
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);

  return {
    file: path,
    name: recipe.name ?? basename(path, extname(path)),
    recipe,
    board,
    boardFile,
    configFiles: [...chain.map((link) => link.path), boardFile],
    config: { ...recipe, name: recipe.name ?? basename(path, extname(path)), board },
  };
}

/** The board profile, or undefined with its problems added to `diagnostics`. */
async function loadBoardOf(
  boardFile: string,
  sources: SourceStack,
  diagnostics: Diagnostic[],
): Promise<BoardProfile | undefined> {
  try {
    const board = await loadBoardProfile(boardFile);
    if (board === undefined) {
      diagnostics.push(
        sources.diagnostic(
          "/board",
          `board: cannot read board profile ${boardFile} (a name means boards/<name>.yaml in the workspace)`,
        ),
      );
    }
    return board;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    diagnostics.push(...error.diagnostics);
    return undefined;
  }
}

export function resolveBoardFile(board: string, workspaceRoot: string): string {
  if (board.endsWith(".yaml") || board.endsWith(".yml") || board.includes("/")) {
    return isAbsolute(board) ? board : resolve(workspaceRoot, board);
  }
  return resolve(workspaceRoot, "boards", `${board}.yaml`);
}

interface ChainLink {
  path: string;
  document: LocatedDocument;
}

/** The recipe and its ancestors, the named recipe first. */
async function readExtendsChain(
  path: string,
  diagnostics: Diagnostic[],
): Promise<ChainLink[] | undefined> {
  const chain: ChainLink[] = [];
  let current = path;
  let referrer: { document: LocatedDocument } | undefined;
  for (;;) {
    const document = await readYamlFile(current);
    if (document === undefined) {
      if (referrer === undefined) {
        diagnostics.push(
          createDiagnostic({ name: current, text: "" }, undefined, "cannot read recipe file"),
        );
      } else {
        diagnostics.push(
          createDiagnostic(
            referrer.document.source,
            referrer.document.locations.get("/extends")?.value,
            `extends: cannot read ${current}`,
          ),
        );
      }
      return undefined;
    }
    if (document.diagnostics.length > 0) {
      diagnostics.push(...document.diagnostics);
      return undefined;
    }
    if (
      document.value === null ||
      typeof document.value !== "object" ||
      Array.isArray(document.value)
    ) {
      diagnostics.push(
        createDiagnostic(
          document.source,
          document.locations.get("")?.value,
          "a recipe must be a map of keys",
        ),
      );
      return undefined;
    }
    chain.push({ path: current, document });
    const parent = (document.value as Record<string, unknown>).extends;
    if (parent === undefined) return chain;
    const location = document.locations.get("/extends")?.value;
    if (typeof parent !== "string" || parent === "") {
      diagnostics.push(
        createDiagnostic(document.source, location, "extends: must be a path to a recipe"),
      );
      return undefined;
    }
    const next = resolve(dirname(current), parent);
    if (chain.some((link) => link.path === next)) {
      diagnostics.push(
        createDiagnostic(
          document.source,
          location,
          `extends: cycle (${[...chain.map((link) => link.document.source.name), parent].join(" → ")})`,
        ),
      );
      return undefined;
    }
    referrer = { document };
    current = next;
  }
}

function deepMerge(base: unknown, override: unknown): Record<string, unknown> {
  return mergeValue(base, override) as Record<string, unknown>;
}

/** By own keys only (own-keys.ts): a `__proto__` key merges as data and is reported unknown. */
function mergeValue(base: unknown, override: unknown): unknown {
  if (isMap(base) && isMap(override)) {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
      defineKey(result, key, mergeValue(ownValue(base, key), value));
    }
    return result;
  }
  return structuredClone(override);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
