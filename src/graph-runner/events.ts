/**
 * Typed events the runner emits while it builds. Loggers render them; the
 * runner itself never writes to the console.
 */
import type { CacheKey } from "./digest.js";
import type { CacheProblem } from "./object-store.js";

export type BuildEvent =
  /** A build started over these stages, in topological order. */
  | { type: "build-start"; stages: readonly string[] }
  /** The stage's key is in the cache; its outputs were restored. */
  | { type: "stage-cached"; stage: string; key: CacheKey }
  /** A cached result failed its integrity checks; it was evicted and the stage runs again. */
  | { type: "cache-damaged"; stage: string; key: CacheKey; problems: readonly CacheProblem[] }
  /** Not in the local cache; restored from the remote cache instead of running. */
  | { type: "stage-downloaded"; stage: string; key: CacheKey; bytes: number; durationMs: number }
  /** The remote cache offered an entry that failed verification; the stage runs locally. */
  | { type: "remote-rejected"; stage: string; key: CacheKey; why: string }
  /** The remote cache is failing or refusing; the build goes on locally. Said once. */
  | { type: "remote-warning"; message: string }
  /** The stage's result was published to the remote cache. */
  | { type: "stage-uploaded"; stage: string; key: CacheKey }
  /** The stage started running; `reason` says why it was not a hit. */
  | {
      type: "stage-start";
      stage: string;
      key: CacheKey;
      reason: string;
      /** Identity of each tool the stage runs (compilers, the ML backend): what this run uses. */
      tools: Record<string, string>;
    }
  /** Progress reported by the stage itself. */
  | {
      type: "stage-progress";
      stage: string;
      message: string;
      data?: Record<string, unknown>;
      /** `detail`: fine-grained (a batch); shown with `--verbose`. */
      level?: "detail";
    }
  /**
   * How far the stage is through its current phase: `done` of `total` `unit`s
   * (batches, candidates, images). Sent often; a terminal draws a bar and an
   * ETA from it. `label` names the phase's position (`epoch 3/6`).
   */
  | {
      type: "stage-counter";
      stage: string;
      done: number;
      total: number;
      unit: string;
      label?: string;
    }
  /** Another build holds this key; waiting for it. */
  | { type: "stage-waiting"; stage: string; key: CacheKey }
  /** The stage ran and its outputs are stored. */
  | { type: "stage-done"; stage: string; key: CacheKey; durationMs: number; outputs: number }
  /** The stage threw; nothing was recorded. */
  | { type: "stage-failed"; stage: string; error: string }
  /** The stage was aborted; nothing was recorded. */
  | { type: "stage-cancelled"; stage: string }
  /** Not run because an upstream stage failed, was cancelled or is not implemented. */
  | { type: "stage-skipped"; stage: string; reason: string }
  /** The stage has no implementation yet; nothing was produced for it. */
  | { type: "stage-not-implemented"; stage: string }
  | { type: "build-done"; result: BuildResult };

export type StageOutcome =
  | "built"
  | "cached"
  | "failed"
  | "cancelled"
  | "skipped"
  | "not-implemented";

export interface BuildResult {
  /** True when no stage failed or was cancelled. Not-implemented stages do not fail a build. */
  ok: boolean;
  outcomes: Record<string, StageOutcome>;
  durationMs: number;
}
