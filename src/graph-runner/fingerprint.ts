/**
 * The fingerprint of a stage run: every input that can change its outputs.
 * The cache key is the SHA-256 of its canonical JSON, so two runs with equal
 * fingerprints are interchangeable and anything not listed here must not
 * influence a stage's outputs.
 */
import { canonicalJson } from "./canonical-json.js";
import { type CacheKey, type ContentDigest, digestText } from "./digest.js";

export interface Fingerprint {
  /** Bumped when the key layout itself changes, so old entries stop matching. */
  format: typeof FINGERPRINT_FORMAT;
  /** Entries of different stages never collide, even with equal inputs. */
  stage: string;
  /** Digest of the stage's code: every module its implementation can load (code-identity.ts). */
  code: ContentDigest;
  /** Identity (version line) of each external tool the stage runs. */
  tools: Record<string, string>;
  /** Value of each configuration key the stage declares, by dotted path; absent keys are null. */
  config: Record<string, unknown>;
  /** Digest of each declared input file, by workspace-relative path. */
  files: Record<string, ContentDigest>;
  /**
   * Digest of each upstream stage's *outputs* (not its key): a rerun that
   * yields identical bytes leaves this unchanged and stops there (early cutoff).
   */
  upstream: Record<string, ContentDigest>;
}

export const FINGERPRINT_FORMAT = 2;

export function computeCacheKey(fingerprint: Fingerprint): CacheKey {
  return digestText(canonicalJson(fingerprint)) as string as CacheKey;
}

/**
 * Digest of everything but the upstream part: what a stage reads directly.
 * Watch mode compares these to find the first stages an edit affects.
 */
export function computeLocalDigest(fingerprint: Omit<Fingerprint, "upstream">): ContentDigest {
  const { format, stage, code, tools, config, files } = fingerprint;
  return digestText(canonicalJson({ format, stage, code, tools, config, files }));
}

/** One component in which two fingerprints differ, in words a user can act on. */
export interface FingerprintDifference {
  component: "format" | "code" | "tools" | "config" | "files" | "upstream";
  /** Dotted config key, file path, tool or upstream stage name ("" for format/code). */
  name: string;
  before: unknown;
  after: unknown;
}

/**
 * Lists every difference, ordered by component as a user would look for a
 * cause: implementation, tools, recipe keys, input files, upstream outputs.
 */
export function diffFingerprints(before: Fingerprint, after: Fingerprint): FingerprintDifference[] {
  const differences: FingerprintDifference[] = [];
  if (before.format !== after.format) {
    differences.push({ component: "format", name: "", before: before.format, after: after.format });
  }
  if (before.code !== after.code) {
    differences.push({ component: "code", name: "", before: before.code, after: after.code });
  }
  for (const component of ["tools", "config", "files", "upstream"] as const) {
    const a = before[component] as Record<string, unknown>;
    const b = after[component] as Record<string, unknown>;
    const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const name of names) {
      if (canonicalJson(a[name] ?? null) !== canonicalJson(b[name] ?? null)) {
        differences.push({ component, name, before: a[name], after: b[name] });
      }
    }
  }
  return differences;
}

/** One line per difference, e.g. `recipe key seed: 1 → 2`. */
export function describeDifference(difference: FingerprintDifference): string {
  const show = (value: unknown): string => {
    if (value === undefined) return "(absent)";
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  };
  const shortDigest = (value: unknown): string =>
    typeof value === "string" ? value.slice(0, 12) : "(absent)";
  switch (difference.component) {
    case "format":
      return `cache key format changed (${show(difference.before)} → ${show(difference.after)})`;
    case "code":
      return `the stage's code changed (${shortDigest(difference.before)} → ${shortDigest(difference.after)})`;
    case "tools":
      return `tool ${difference.name}: ${show(difference.before)} → ${show(difference.after)}`;
    case "config": {
      // A key holding a map (`search_space`) names the value inside it that changed.
      const [first, ...others] = changedValues(
        difference.before,
        difference.after,
        difference.name,
      );
      if (first === undefined) return `recipe key ${difference.name} changed`;
      const more =
        others.length === 0
          ? ""
          : ` (and ${others.length} more change${others.length === 1 ? "" : "s"} in ${difference.name})`;
      return `recipe key ${first.path}: ${show(first.before)} → ${show(first.after)}${more}`;
    }
    case "files":
      if (difference.before === undefined) return `input file ${difference.name} added`;
      if (difference.after === undefined) return `input file ${difference.name} removed`;
      return `input file ${difference.name} changed (${shortDigest(difference.before)} → ${shortDigest(difference.after)})`;
    case "upstream":
      return `outputs of upstream stage ${difference.name} changed (${shortDigest(difference.before)} → ${shortDigest(difference.after)})`;
  }
}

interface ChangedValue {
  /** Dotted path, list items by index: `search_space.stages[2].heads`. */
  path: string;
  before: unknown;
  after: unknown;
}

/**
 * Where two configuration values differ: the innermost values, in sorted key
 * order. Maps are compared key by key and lists of equal length item by
 * item; anything else that differs (a value that became a list, a list that
 * grew) is one change.
 */
function changedValues(before: unknown, after: unknown, path: string): ChangedValue[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedValues(before[key], after[key], `${path}.${key}`));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => changedValues(item, after[index], `${path}[${index}]`));
  }
  return canonicalJson(before ?? null) === canonicalJson(after ?? null)
    ? []
    : [{ path, before, after }];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
