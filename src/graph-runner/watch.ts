/**
 * Watch mode: rebuild whenever a watched input changes.
 *
 *              change (debounced)                    change
 *   ┌──────────────────────────────┐      ┌─────────────────────────┐
 *   ▼                              │      ▼                         │
 * loading ──valid──► building ──done──► idle          invalid ──► waiting
 *   │                  │  ▲                                ▲
 *   └──────invalid─────┼──┼────────────────────────────────┘
 *                      │  │
 *                      └──┘ change: reload; stages whose own inputs changed
 *                           (and their dependents) are aborted; a new build
 *                           starts at once and joins the still-valid running
 *                           stages through the in-process key locks.
 *
 * Only configuration files and declared stage inputs are watched, never the
 * cache or the output directory, so a build's own writes cannot trigger a
 * rebuild. Changes within the debounce window (an editor's atomic save is an
 * unlink plus an add, or several writes) count as one.
 */
import { resolve, sep } from "node:path";
import type { BuildEvent } from "./events.js";
import { computeLocalDigest } from "./fingerprint.js";
import { withDependents } from "./graph.js";
import { type BuildHandle, type BuildOptions, startBuild } from "./runner.js";
import type { RunnerContext } from "./runner-context.js";
import type { StageDefinition } from "./stage.js";
import { gatherStageInputs } from "./stage-inputs.js";

/** What one (re)load of the configuration produced. */
export type WatchLoad =
  | {
      ok: true;
      build: Omit<BuildOptions, "context" | "signal" | "onEvent">;
      /** Files and directories to watch (configuration files, declared inputs). */
      watchPaths: readonly string[];
    }
  | {
      ok: false;
      /** Rendered problems; printed, then watching goes on. */
      problems: readonly string[];
      /** Still watched, so fixing the file triggers a reload. */
      watchPaths: readonly string[];
    };

export type WatchEvent =
  | { type: "watch-ready"; paths: readonly string[] }
  | { type: "watch-change"; paths: readonly string[] }
  | { type: "watch-invalid"; problems: readonly string[] }
  | { type: "watch-restart"; cancelled: readonly string[] }
  | { type: "watch-idle" };

/** The part of a file watcher this module needs (chokidar's FSWatcher has it). */
export interface FileWatcher {
  add(paths: string | readonly string[]): unknown;
  unwatch(paths: string | readonly string[]): unknown;
  on(event: "all", listener: (eventName: string, path: string) => void): unknown;
  close(): Promise<void>;
}

export type CreateFileWatcher = (
  paths: readonly string[],
  ignored: (path: string) => boolean,
) => FileWatcher | Promise<FileWatcher>;

export interface WatchOptions {
  context: RunnerContext;
  load: () => Promise<WatchLoad>;
  /** Never watched, even if a declared input lies inside (cache, outputs). */
  ignoredDirs: readonly string[];
  onEvent: (event: BuildEvent | WatchEvent) => void;
  /** Stops watching; a running build is cancelled. */
  signal: AbortSignal;
  /** @default 150 */
  debounceMs?: number;
  createWatcher?: CreateFileWatcher;
}

type State =
  | { kind: "loading" }
  | {
      kind: "building";
      handle: BuildHandle;
      load: Extract<WatchLoad, { ok: true }>;
      local: Map<string, string>;
    }
  | { kind: "idle"; load: Extract<WatchLoad, { ok: true }>; local: Map<string, string> }
  | { kind: "waiting" };

/** Runs until `signal` aborts. */
export async function watchPipeline(options: WatchOptions): Promise<void> {
  const debounceMs = options.debounceMs ?? 150;
  const ignoredRoots = options.ignoredDirs.map((dir) => resolve(dir));
  const isIgnored = (path: string) =>
    ignoredRoots.some((root) => path === root || path.startsWith(root + sep));
  const createWatcher = options.createWatcher ?? createChokidarWatcher;
  let state: State = { kind: "loading" };
  let watched = new Set<string>();
  const watcher = await createWatcher([], isIgnored);
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;

  const syncWatchedPaths = (paths: readonly string[]) => {
    const next = new Set(paths.map((path) => resolve(path)).filter((path) => !isIgnored(path)));
    const added = [...next].filter((path) => !watched.has(path));
    const removed = [...watched].filter((path) => !next.has(path));
    if (added.length > 0) watcher.add(added);
    if (removed.length > 0) watcher.unwatch(removed);
    watched = next;
  };

  const reload = async () => {
    const myGeneration = ++generation;
    const previous = state;
    const load = await options.load();
    if (myGeneration !== generation || options.signal.aborted) return;
    syncWatchedPaths(load.watchPaths);
    if (!load.ok) {
      // Keep the running build: it still reflects the last valid configuration.
      if (previous.kind === "building") {
        state = previous;
      } else {
        state = { kind: "waiting" };
      }
      options.onEvent({ type: "watch-invalid", problems: load.problems });
      return;
    }
    const local = await localDigests(options.context, load);
    if (myGeneration !== generation || options.signal.aborted) return;
    if (previous.kind === "building") {
      const affected = affectedStages(
        previous.load.build.stages,
        previous.local,
        load.build.stages,
        local,
      );
      previous.handle.invalidate(affected);
      options.onEvent({ type: "watch-restart", cancelled: [...affected] });
    }
    runBuild(load, local);
  };

  const runBuild = (load: Extract<WatchLoad, { ok: true }>, local: Map<string, string>) => {
    const handle = startBuild({
      ...load.build,
      context: options.context,
      signal: options.signal,
      onEvent: options.onEvent,
    });
    state = { kind: "building", handle, load, local };
    void handle.result.then(() => {
      if (state.kind === "building" && state.handle === handle) {
        state = { kind: "idle", load, local };
        options.onEvent({ type: "watch-idle" });
      }
    });
  };

  watcher.on("all", (_event, path) => {
    if (isIgnored(resolve(path))) return;
    pending.add(path);
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const paths = [...pending].sort();
      pending = new Set();
      options.onEvent({ type: "watch-change", paths });
      void reload();
    }, debounceMs);
  });

  await reload();
  options.onEvent({ type: "watch-ready", paths: [...watched].sort() });
  await new Promise<void>((done) => {
    if (options.signal.aborted) return done();
    options.signal.addEventListener("abort", () => done(), { once: true });
  });
  if (timer !== undefined) clearTimeout(timer);
  await watcher.close();
  const last = state as State;
  if (last.kind === "building") await last.handle.result;
}

/** Digest of what each stage reads directly; unreadable inputs get a unique marker. */
async function localDigests(
  context: RunnerContext,
  load: Extract<WatchLoad, { ok: true }>,
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const stage of load.build.stages) {
    try {
      const inputs = await gatherStageInputs(
        context,
        stage,
        load.build.config,
        load.build.workspaceRoot,
      );
      result.set(stage.name, computeLocalDigest(inputs.local));
    } catch (error) {
      result.set(stage.name, `unreadable: ${String(error)}`);
    }
  }
  return result;
}

/** Stages whose own inputs changed (or that are new), with everything downstream. */
export function affectedStages(
  before: readonly StageDefinition[],
  beforeDigests: ReadonlyMap<string, string>,
  after: readonly StageDefinition[],
  afterDigests: ReadonlyMap<string, string>,
): Set<string> {
  const beforeNames = new Set(before.map((stage) => stage.name));
  const changed = after
    .filter(
      (stage) =>
        !beforeNames.has(stage.name) ||
        beforeDigests.get(stage.name) !== afterDigests.get(stage.name),
    )
    .map((stage) => stage.name);
  return withDependents(after, changed);
}

/** chokidar, loaded only when watch mode starts. */
export const createChokidarWatcher: CreateFileWatcher = async (paths, ignored) => {
  const { watch } = await import("chokidar");
  return watch([...paths], {
    ignoreInitial: true,
    atomic: true,
    ignored: (path: string) => ignored(resolve(path)),
  });
};
