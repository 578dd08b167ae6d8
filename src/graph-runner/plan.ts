/**
 * Predicts what a build would do without running anything: `status`,
 * `build --dry-run` and `why` all read this. A stage downstream of one that
 * will run cannot know its key yet (its upstream outputs do not exist), so
 * it is reported as stale because of that upstream. A stage the remote cache
 * has a verified entry for is reported as coming from there, and its
 * downstream stages are planned with that entry's outputs.
 */
import type { CacheKey } from "./digest.js";
import {
  computeCacheKey,
  describeDifference,
  diffFingerprints,
  type Fingerprint,
  type FingerprintDifference,
} from "./fingerprint.js";
import { topologicalOrder } from "./graph.js";
import { type CacheEntry, describeDamage } from "./object-store.js";
import type { BuildOptions } from "./runner.js";
import { gatherStageInputs } from "./stage-inputs.js";
import { upstreamDigest } from "./upstream-selection.js";

export type PlannedAction = "run" | "cached" | "not-implemented";
export type StageState = "fresh" | "stale" | "never-built" | "not-implemented";

export interface StagePlan {
  name: string;
  action: PlannedAction;
  state: StageState;
  reason: string;
  /** Known when every upstream is cached and the inputs could be read. */
  key?: CacheKey;
  /** Against the last build of this scope, when there was one and the key is known. */
  differences?: FingerprintDifference[];
  /** The upstream stage that will run first and makes this one stale. */
  staleBecauseOf?: string;
  /** Not in the local cache, but a verified entry is in the remote cache. */
  fromRemote?: true;
}

export type PlanOptions = Pick<
  BuildOptions,
  "context" | "stages" | "config" | "workspaceRoot" | "scope" | "force"
>;

export async function planBuild(options: PlanOptions): Promise<StagePlan[]> {
  const plans = new Map<string, StagePlan>();
  // Each planned stage's entry (outputs and their digest), for its downstream keys.
  const entries = new Map<string, Pick<CacheEntry, "outputs" | "outputsDigest">>();
  const { context } = options;
  for (const stage of topologicalOrder(options.stages)) {
    const record = await context.records.read(options.scope, stage.name);
    const plan = ((): StagePlan | undefined => {
      if (stage.run === undefined) {
        return {
          name: stage.name,
          action: "not-implemented",
          state: "not-implemented",
          reason: "not implemented yet",
        };
      }
      for (const name of stage.upstream) {
        const upstream = plans.get(name) as StagePlan;
        if (upstream.action === "not-implemented") {
          return {
            name: stage.name,
            action: "not-implemented",
            state: "not-implemented",
            reason: `upstream ${name} is not implemented yet`,
          };
        }
      }
      for (const name of stage.upstream) {
        const upstream = plans.get(name) as StagePlan;
        if (upstream.action === "run") {
          return {
            name: stage.name,
            action: "run",
            state: record === undefined ? "never-built" : "stale",
            reason: record === undefined ? "never built" : `upstream ${name} will run`,
            staleBecauseOf: upstream.staleBecauseOf ?? name,
          };
        }
      }
      return undefined;
    })();
    if (plan !== undefined) {
      plans.set(stage.name, plan);
      continue;
    }
    let fingerprint: Fingerprint;
    try {
      const inputs = await gatherStageInputs(context, stage, options.config, options.workspaceRoot);
      fingerprint = {
        ...inputs.local,
        upstream: Object.fromEntries(
          stage.upstream.map((name) => [
            name,
            upstreamDigest(stage, name, entries.get(name) as CacheEntry),
          ]),
        ) as Fingerprint["upstream"],
      };
    } catch (error) {
      plans.set(stage.name, {
        name: stage.name,
        action: "run",
        state: record === undefined ? "never-built" : "stale",
        reason: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    const key = computeCacheKey(fingerprint);
    const differences =
      record === undefined ? undefined : diffFingerprints(record.fingerprint, fingerprint);
    const withDiff = differences === undefined ? {} : { differences };
    const forced = options.force?.includes(stage.name) ?? false;
    const found = await context.store.lookup(stage.name, key, { evict: false });
    const hit = found.kind === "hit" ? found.entry : undefined;
    if (hit !== undefined) {
      entries.set(stage.name, hit);
      plans.set(stage.name, {
        name: stage.name,
        action: forced ? "run" : "cached",
        state: "fresh",
        reason: forced ? "forced with --force" : "up to date",
        key,
        ...withDiff,
      });
      continue;
    }
    const first = differences?.[0];
    const remote =
      forced || context.remote === undefined
        ? undefined
        : await context.remote.fetchEntry(stage.name, key);
    if (remote?.kind === "hit") {
      // Downstream keys follow from the remote entry's outputs, as after a download.
      entries.set(stage.name, remote.entry);
      plans.set(stage.name, {
        name: stage.name,
        action: "cached",
        state: record === undefined ? "never-built" : "stale",
        reason: "in the remote cache: will be downloaded, not run",
        fromRemote: true,
        key,
        ...withDiff,
      });
      continue;
    }
    plans.set(stage.name, {
      name: stage.name,
      action: "run",
      state: record === undefined ? "never-built" : "stale",
      reason:
        found.kind === "damaged"
          ? describeDamage(found.problems)
          : record === undefined
            ? "never built"
            : first === undefined
              ? "cache entry was removed"
              : describeDifference(first),
      key,
      ...withDiff,
    });
  }
  await context.flush();
  return [...plans.values()];
}
