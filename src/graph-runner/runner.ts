/**
 * Runs a pipeline: each stage in dependency order, independent stages
 * concurrently up to `jobs`, each either restored from the cache or run into
 * a private directory whose files are stored only after it succeeds.
 *
 *   upstream results ─► gather inputs ─► key ─► hit? ─► restore
 *                                              └► lock ─► hit? ─► run ─► store objects ─► write entry
 *
 * A failed, cancelled or killed run records nothing: its directory is
 * deleted (or, after SIGKILL, left in `tmp/` where no key points at it).
 */
import { mkdir, readdir, rm, stat, symlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { removeDeadTempSiblings } from "./atomic-write.js";
import { BuildPins } from "./build-pins.js";
import { canonicalJson } from "./canonical-json.js";
import { type CacheKey, digestFile, digestText } from "./digest.js";
import type { BuildEvent, BuildResult, StageOutcome } from "./events.js";
import {
  computeCacheKey,
  describeDifference,
  diffFingerprints,
  type Fingerprint,
} from "./fingerprint.js";
import { topologicalOrder } from "./graph.js";
import { materializeOutputs } from "./materialize.js";
import { type CacheEntry, describeDamage, ENTRY_FORMAT, type OutputFile } from "./object-store.js";
import type { RunnerContext } from "./runner-context.js";
import { Semaphore } from "./semaphore.js";
import type { ConfigTree, StageContext, StageDefinition, UpstreamOutputs } from "./stage.js";
import { gatherStageInputs, type StageInputs } from "./stage-inputs.js";
import { selectUpstreamOutputs, upstreamDigest } from "./upstream-selection.js";

export interface BuildOptions {
  context: RunnerContext;
  stages: readonly StageDefinition[];
  config: ConfigTree;
  /** Relative input paths and fingerprint file keys are relative to this. */
  workspaceRoot: string;
  /** Names the set of last-build records (one per recipe). */
  scope: string;
  /** When set, each stage's outputs are copied to `<outputDir>/<stage>/`. */
  outputDir?: string;
  /** Stages run at once. @default 1 */
  jobs?: number;
  /** Stages to rerun even when their key is cached. */
  force?: readonly string[];
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
}

export interface BuildHandle {
  result: Promise<BuildResult>;
  /** Aborts these stages if running and keeps them from starting (watch mode). */
  invalidate(stages: Iterable<string>): void;
}

interface StageResult {
  outcome: StageOutcome;
  entry?: CacheEntry;
}

export class StageCancelledError extends Error {
  constructor(stage: string) {
    super(`stage ${stage} was cancelled`);
    this.name = "StageCancelledError";
  }
}

export function startBuild(options: BuildOptions): BuildHandle {
  const order = topologicalOrder(options.stages);
  const emit = options.onEvent ?? (() => undefined);
  const buildSignal = options.signal ?? new AbortController().signal;
  const slots = new Semaphore(options.jobs ?? 1);
  const invalidated = new Set<string>();
  const controllers = new Map<string, AbortController>();
  const results = new Map<string, Promise<StageResult>>();
  const startedAt = Date.now();
  const pins = new BuildPins(options.context.cacheDir);
  const uploads: Promise<void>[] = [];
  if (options.context.remote !== undefined) {
    options.context.remote.onWarning = (message) => emit({ type: "remote-warning", message });
  }

  emit({ type: "build-start", stages: order.map((stage) => stage.name) });
  for (const stage of order) {
    const upstream = stage.upstream.map((name) => results.get(name) as Promise<StageResult>);
    results.set(
      stage.name,
      Promise.all(upstream).then((upstreamResults) => {
        const controller = new AbortController();
        controllers.set(stage.name, controller);
        const onBuildAbort = () => controller.abort(buildSignal.reason);
        if (buildSignal.aborted || invalidated.has(stage.name)) controller.abort();
        buildSignal.addEventListener("abort", onBuildAbort, { once: true });
        return runOneStage(stage, upstreamResults, controller.signal).finally(() =>
          buildSignal.removeEventListener("abort", onBuildAbort),
        );
      }),
    );
  }

  async function runOneStage(
    stage: StageDefinition,
    upstreamResults: StageResult[],
    signal: AbortSignal,
  ): Promise<StageResult> {
    const blocked = stage.upstream.find(
      (_, i) => !isUsable(upstreamResults[i]?.outcome ?? "skipped"),
    );
    if (stage.run === undefined) {
      emit({ type: "stage-not-implemented", stage: stage.name });
      return { outcome: "not-implemented" };
    }
    if (blocked !== undefined) {
      const outcome = upstreamResults[stage.upstream.indexOf(blocked)]?.outcome;
      const why = outcome === "not-implemented" ? "is not implemented yet" : `was ${outcome}`;
      emit({ type: "stage-skipped", stage: stage.name, reason: `upstream ${blocked} ${why}` });
      return { outcome: "skipped" };
    }
    if (signal.aborted) {
      emit({ type: "stage-cancelled", stage: stage.name });
      return { outcome: "cancelled" };
    }
    const upstreamEntries = new Map<string, CacheEntry>();
    stage.upstream.forEach((name, i) => {
      upstreamEntries.set(name, upstreamResults[i]?.entry as CacheEntry);
    });
    try {
      const inputs = await gatherStageInputs(
        options.context,
        stage,
        options.config,
        options.workspaceRoot,
      );
      const fingerprint: Fingerprint = {
        ...inputs.local,
        upstream: Object.fromEntries(
          [...upstreamEntries].map(([name, entry]) => [name, upstreamDigest(stage, name, entry)]),
        ),
      };
      const key = computeCacheKey(fingerprint);
      const forced = options.force?.includes(stage.name) ?? false;
      const { store, locks } = options.context;

      let damage: string | undefined;
      const lookup = async (): Promise<CacheEntry | undefined> => {
        const found = await store.lookup(stage.name, key);
        if (found.kind === "hit") return found.entry;
        if (found.kind === "damaged") {
          emit({ type: "cache-damaged", stage: stage.name, key, problems: found.problems });
          damage = `${describeDamage(found.problems)}; evicted, rerunning`;
        }
        return undefined;
      };
      await pins.pinEntry(stage.name, key, signal);
      if (!forced) {
        const hit = await lookup();
        if (hit !== undefined) return await finishWithEntry(stage, hit, "cached");
      }
      const lock = await locks.acquire(key, signal, () =>
        emit({ type: "stage-waiting", stage: stage.name, key }),
      );
      try {
        if (!forced) {
          const hit = (await lookup()) ?? (await restoreFromRemote(stage.name, key, signal));
          if (hit !== undefined) return await finishWithEntry(stage, hit, "cached");
        }
        await slots.acquire(signal);
        try {
          const reason = forced
            ? "forced with --force"
            : (damage ?? (await explainMiss(stage, fingerprint)));
          emit({ type: "stage-start", stage: stage.name, key, reason, tools: fingerprint.tools });
          const entry = await executeStage(
            stage,
            inputs,
            upstreamEntries,
            fingerprint,
            key,
            signal,
          );
          publishToRemote(entry);
          return await finishWithEntry(stage, entry, "built");
        } finally {
          slots.release();
        }
      } finally {
        await lock.release();
      }
    } catch (error) {
      if (signal.aborted) {
        emit({ type: "stage-cancelled", stage: stage.name });
        return { outcome: "cancelled" };
      }
      emit({ type: "stage-failed", stage: stage.name, error: errorMessage(error) });
      return { outcome: "failed" };
    }
  }

  /** The remote's verified entry for `key`, its objects downloaded into the store. */
  async function restoreFromRemote(
    stageName: string,
    key: CacheKey,
    signal: AbortSignal,
  ): Promise<CacheEntry | undefined> {
    const remote = options.context.remote;
    if (remote === undefined) return undefined;
    const started = Date.now();
    const found = await remote.fetchEntry(stageName, key, signal);
    if (found.kind === "rejected") {
      emit({ type: "remote-rejected", stage: stageName, key, why: found.why });
      return undefined;
    }
    if (found.kind !== "hit") return undefined;
    try {
      const { bytes } = await remote.restore(
        found.entry,
        options.context.store,
        (digests) => pins.pinObjects(digests, signal),
        signal,
      );
      emit({
        type: "stage-downloaded",
        stage: stageName,
        key,
        bytes,
        durationMs: Date.now() - started,
      });
      return found.entry;
    } catch (error) {
      if (signal.aborted) throw error;
      emit({ type: "remote-rejected", stage: stageName, key, why: errorMessage(error) });
      return undefined;
    }
  }

  /** Uploads run beside the build; the build waits for them before it ends. */
  function publishToRemote(entry: CacheEntry): void {
    const remote = options.context.remote;
    if (remote === undefined || !remote.canPublish) return;
    uploads.push(
      remote.publish(entry, options.context.store, buildSignal).then((published) => {
        if (published) emit({ type: "stage-uploaded", stage: entry.stage, key: entry.key });
      }),
    );
  }

  async function explainMiss(stage: StageDefinition, fingerprint: Fingerprint): Promise<string> {
    const record = await options.context.records.read(options.scope, stage.name);
    if (record === undefined) return "never built";
    const [first] = diffFingerprints(record.fingerprint, fingerprint);
    return first === undefined ? "cache entry was removed" : describeDifference(first);
  }

  async function finishWithEntry(
    stage: StageDefinition,
    entry: CacheEntry,
    outcome: "built" | "cached",
  ): Promise<StageResult> {
    await options.context.records.write(options.scope, stage.name, {
      key: entry.key,
      fingerprint: entry.fingerprint,
      outputsDigest: entry.outputsDigest,
      builtAt: new Date().toISOString(),
    });
    if (options.outputDir !== undefined) {
      await materializeOutputs(options.context.store, entry, join(options.outputDir, stage.name));
    }
    if (outcome === "cached") emit({ type: "stage-cached", stage: stage.name, key: entry.key });
    return { outcome, entry };
  }

  async function executeStage(
    stage: StageDefinition,
    inputs: StageInputs,
    upstreamEntries: ReadonlyMap<string, CacheEntry>,
    fingerprint: Fingerprint,
    key: CacheKey,
    signal: AbortSignal,
  ): Promise<CacheEntry> {
    const { store } = options.context;
    const workDir = await store.createWorkDir();
    const outDir = join(workDir, "out");
    const scratchDir = join(workDir, "scratch");
    const resumeDir = join(options.context.cacheDir, "resume", stage.name, key);
    const started = Date.now();
    try {
      await Promise.all([mkdir(outDir), mkdir(scratchDir)]);
      const context: StageContext = {
        stage: stage.name,
        config: inputs.config,
        inputFiles: inputs.inputFiles,
        resolveInput: (declared) => resolve(options.workspaceRoot, declared),
        upstream: new Map(
          [...upstreamEntries].map(([name, entry]) => [
            name,
            upstreamView(name, selectUpstreamOutputs(stage, name, entry.outputs)),
          ]),
        ),
        tools: inputs.tools,
        outDir,
        scratchDir,
        resumeDir,
        toolCacheDir: join(options.context.cacheDir, "tools"),
        signal,
        progress: (message, data, level) =>
          emit({
            type: "stage-progress",
            stage: stage.name,
            message,
            ...(data === undefined ? {} : { data }),
            ...(level === undefined ? {} : { level }),
          }),
        count: (done, total, unit, label) =>
          emit({
            type: "stage-counter",
            stage: stage.name,
            done,
            total,
            unit,
            ...(label === undefined ? {} : { label }),
          }),
      };
      await (stage.run as NonNullable<StageDefinition["run"]>)(context);
      // A run that ignored its signal and finished anyway is still discarded.
      signal.throwIfAborted();
      const outputs = await storeOutputs(outDir, signal);
      const entry: CacheEntry = {
        format: ENTRY_FORMAT,
        stage: stage.name,
        key,
        fingerprint,
        outputs,
        outputsDigest: digestText(canonicalJson(outputs)),
        createdAt: new Date().toISOString(),
        durationMs: Date.now() - started,
      };
      await store.writeEntry(entry);
      await rm(resumeDir, { recursive: true, force: true });
      emit({
        type: "stage-done",
        stage: stage.name,
        key,
        durationMs: entry.durationMs,
        outputs: Object.keys(outputs).length,
      });
      return entry;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  function upstreamView(name: string, outputs: CacheEntry["outputs"]): UpstreamOutputs {
    const files = new Map(
      Object.entries(outputs).map(([path, output]) => [
        path,
        options.context.store.objectPath(output.digest),
      ]),
    );
    return {
      files,
      path(relativePath) {
        const found = files.get(relativePath);
        if (found === undefined) {
          throw new Error(`upstream stage ${name} has no output ${relativePath}`);
        }
        return found;
      },
      async linkInto(directory) {
        for (const [relativePath, objectPath] of files) {
          const link = join(directory, relativePath);
          await mkdir(dirname(link), { recursive: true });
          await symlink(objectPath, link);
        }
        await mkdir(directory, { recursive: true });
        return directory;
      },
    };
  }

  async function storeOutputs(
    outDir: string,
    signal: AbortSignal,
  ): Promise<Record<string, OutputFile>> {
    const entries = await readdir(outDir, { withFileTypes: true, recursive: true });
    const outputs: Record<string, OutputFile> = {};
    const files = entries
      .filter((entry) => !entry.isDirectory())
      .map((entry) => {
        if (!entry.isFile()) {
          throw new Error(`output ${entry.name} is not a regular file (symlinks are not stored)`);
        }
        return join(entry.parentPath ?? entry.path, entry.name);
      })
      .sort();
    // Pinned before they enter the store, so a concurrent gc never takes an
    // object whose entry is not written yet.
    const digests = await Promise.all(files.map((file) => digestFile(file)));
    await pins.pinObjects(digests, signal);
    for (const [i, file] of files.entries()) {
      const info = await stat(file);
      const relativePath = relative(outDir, file).split(sep).join("/");
      outputs[relativePath] = {
        digest: await options.context.store.adoptFile(file, digests[i]),
        size: info.size,
        executable: (info.mode & 0o111) !== 0,
      };
    }
    return outputs;
  }

  const result = (async (): Promise<BuildResult> => {
    const outcomes: Record<string, StageOutcome> = {};
    for (const stage of order) {
      outcomes[stage.name] = (await results.get(stage.name))?.outcome ?? "skipped";
    }
    await Promise.allSettled(uploads);
    await pins.close();
    // What killed builds left: staging folders beside the outputs (see
    // materialize.ts), and locks of results they stored but never released.
    if (options.outputDir !== undefined) await removeDeadTempSiblings(options.outputDir);
    await options.context.locks.breakStaleLocks();
    await options.context.flush();
    const values = Object.values(outcomes);
    const buildResult: BuildResult = {
      ok: !values.includes("failed") && !values.includes("cancelled"),
      outcomes,
      durationMs: Date.now() - startedAt,
    };
    emit({ type: "build-done", result: buildResult });
    return buildResult;
  })();

  return {
    result,
    invalidate(stages) {
      for (const name of stages) {
        invalidated.add(name);
        controllers.get(name)?.abort(new StageCancelledError(name));
      }
    },
  };
}

/** Convenience for callers that do not need to invalidate: run and wait. */
export function build(options: BuildOptions): Promise<BuildResult> {
  return startBuild(options).result;
}

function isUsable(outcome: StageOutcome): boolean {
  return outcome === "built" || outcome === "cached";
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
