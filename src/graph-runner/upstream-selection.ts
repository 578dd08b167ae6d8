/**
 * A stage may declare that of an upstream stage it reads only some outputs
 * (`upstreamOutputs`). Its key then depends on those files alone, so a change
 * in the upstream's other outputs (a log, a report) does not rerun it, and
 * its view of that upstream holds only those files, so it cannot read
 * another by mistake.
 */
import { canonicalJson } from "./canonical-json.js";
import { type ContentDigest, digestText } from "./digest.js";
import type { CacheEntry } from "./object-store.js";
import type { StageDefinition } from "./stage.js";

/** The outputs of `upstream` that `stage` reads (all of them when it does not say). */
export function selectUpstreamOutputs(
  stage: Pick<StageDefinition, "name" | "upstreamOutputs">,
  upstream: string,
  outputs: CacheEntry["outputs"],
): CacheEntry["outputs"] {
  const wanted = stage.upstreamOutputs?.[upstream];
  if (wanted === undefined) return outputs;
  const selected: CacheEntry["outputs"] = {};
  for (const path of wanted) {
    const output = outputs[path];
    if (output === undefined)
      throw new Error(
        `stage ${stage.name} reads ${path} of upstream stage ${upstream}, which did not produce it`,
      );
    selected[path] = output;
  }
  return selected;
}

/** What `stage`'s key records of an upstream entry: its outputs digest, or that of the outputs it reads. */
export function upstreamDigest(
  stage: Pick<StageDefinition, "name" | "upstreamOutputs">,
  upstream: string,
  entry: Pick<CacheEntry, "outputs" | "outputsDigest">,
): ContentDigest {
  if (stage.upstreamOutputs?.[upstream] === undefined) return entry.outputsDigest;
  return digestText(canonicalJson(selectUpstreamOutputs(stage, upstream, entry.outputs)));
}
