/**
 * Gathers what a stage reads directly (configuration slice, input files,
 * tools) into the local part of its fingerprint.
 */
import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { codeDigest } from "./code-identity.js";
import type { ContentDigest } from "./digest.js";
import { FINGERPRINT_FORMAT, type Fingerprint } from "./fingerprint.js";
import type { RunnerContext } from "./runner-context.js";
import type { ConfigTree, InputFile, StageConfig, StageDefinition } from "./stage.js";
import type { ToolIdentity } from "./tool-probe.js";

export type LocalFingerprint = Omit<Fingerprint, "upstream">;

export interface StageInputs {
  config: StageConfig;
  inputFiles: InputFile[];
  tools: Map<string, ToolIdentity>;
  local: LocalFingerprint;
}

/** Value at a dotted path (`a.b.0.c`), or null when any step is missing. */
export function lookupConfigKey(config: ConfigTree, dottedKey: string): unknown {
  let node: unknown = config;
  for (const part of dottedKey.split(".")) {
    if (node === null || typeof node !== "object") return null;
    node = (node as Record<string, unknown>)[part];
  }
  return node === undefined ? null : node;
}

export function selectConfig(config: ConfigTree, keys: readonly string[]): StageConfig {
  const slice: Record<string, unknown> = {};
  for (const key of keys) slice[key] = lookupConfigKey(config, key);
  return slice;
}

/** The configuration slice a stage sees: its declared keys and the conditional ones they call for. */
export function selectStageConfig(
  config: ConfigTree,
  stage: Pick<StageDefinition, "configKeys" | "conditionalConfigKeys">,
): StageConfig {
  const declared = selectConfig(config, stage.configKeys);
  const extra = stage.conditionalConfigKeys?.(declared) ?? [];
  return extra.length === 0 ? declared : { ...declared, ...selectConfig(config, extra) };
}

export class InputFileMissingError extends Error {
  constructor(stage: string, path: string, hint: string | undefined) {
    super(`stage ${stage}: input ${path} does not exist${hint === undefined ? "" : `. ${hint}`}`);
    this.name = "InputFileMissingError";
  }
}

/** The declared files and directories of a stage, expanded, absolute, sorted by key. */
export async function expandInputFiles(
  stage: StageDefinition,
  config: StageConfig,
  workspaceRoot: string,
): Promise<InputFile[]> {
  const found = new Map<string, InputFile>();
  for (const declared of stage.fileInputs?.(config) ?? []) {
    const absolute = isAbsolute(declared) ? declared : resolve(workspaceRoot, declared);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(absolute);
    } catch {
      throw new InputFileMissingError(
        stage.name,
        declared,
        stage.describeMissingInput?.(declared, config),
      );
    }
    const files = info.isDirectory() ? await listFilesRecursively(absolute) : [absolute];
    for (const path of files) {
      const key = workspaceKey(workspaceRoot, path);
      found.set(key, { path, key });
    }
  }
  return [...found.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** `/`-separated path relative to the root (string slicing in the common case: hot in no-op builds). */
function workspaceKey(root: string, path: string): string {
  const relativePath = path.startsWith(root + sep)
    ? path.slice(root.length + 1)
    : relative(root, path);
  return sep === "/" ? relativePath : relativePath.split(sep).join("/");
}

async function listFilesRecursively(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** Digests many files; memo hits cost one stat each, misses hash a few files at a time. */
async function digestAll(
  context: RunnerContext,
  files: readonly InputFile[],
): Promise<Record<string, ContentDigest>> {
  const digests: Record<string, ContentDigest> = {};
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as InputFile;
      digests[file.key] = await context.memo.digest(file.path);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));
  return digests;
}

/**
 * The stage's tools, identified at once; when several are missing, the error
 * is the first one's in the stage's list (the compiler before its helpers),
 * not whichever probe happened to finish first.
 */
async function identifyInOrder(context: RunnerContext, stage: StageDefinition) {
  const settled = await Promise.allSettled(
    (stage.tools ?? []).map((tool) => context.tools.identify(tool)),
  );
  return settled.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
}

export async function gatherStageInputs(
  context: RunnerContext,
  stage: StageDefinition,
  config: ConfigTree,
  workspaceRoot: string,
): Promise<StageInputs> {
  const slice = selectStageConfig(config, stage);
  const [code, inputFiles, toolList] = await Promise.all([
    codeDigest(stage.implementation, context.code),
    expandInputFiles(stage, slice, workspaceRoot),
    identifyInOrder(context, stage),
  ]);
  const files = await digestAll(context, inputFiles);
  const tools = new Map(toolList.map((tool) => [tool.name, tool]));
  const local: LocalFingerprint = {
    format: FINGERPRINT_FORMAT,
    stage: stage.name,
    code,
    tools: Object.fromEntries(toolList.map((tool) => [tool.name, tool.version])),
    config: slice as Record<string, unknown>,
    files,
  };
  return { config: slice, inputFiles, tools, local };
}
