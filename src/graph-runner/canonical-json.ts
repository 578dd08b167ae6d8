/**
 * Deterministic JSON: object keys sorted at every depth, no whitespace.
 *
 * Cache keys are hashes of manifests; two processes (or two YAML files that
 * list the same keys in a different order) must serialise equal values to
 * equal bytes, which plain `JSON.stringify` does not promise.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value));
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== undefined) sorted[key] = sortKeysDeep(child);
    }
    return sorted;
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new Error(`canonicalJson: cannot encode non-finite number ${value}`);
  }
  if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") {
    throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
  }
  return value;
}
