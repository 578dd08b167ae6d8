/**
 * `--set a.b=value` overrides. The value is read as YAML (so `--set
 * sparsity.block_sizes=[4,8]` gives a list) and the override becomes one more
 * source layer, so schema errors in it point into the argument itself:
 * `<--set #1>:1:17: sparsity.global_target: must be <= 0.99`.
 */
import type { Node } from "yaml";
import { createDiagnostic, type Diagnostic, type SourceText } from "./diagnostic.js";
import { defineKey, ownValue } from "./own-keys.js";
import {
  collectLocations,
  escapePointerSegment,
  type LocatedDocument,
  type NodeLocation,
  parseYamlText,
} from "./yaml-source.js";

export interface SetOverride {
  /** Key path segments; numeric segments index lists. */
  path: string[];
  value: unknown;
  layer: LocatedDocument;
}

export function parseSetOverride(
  argument: string,
  index: number,
): { override?: SetOverride; diagnostics: Diagnostic[] } {
  const source: SourceText = { name: `<--set #${index + 1}>`, text: argument };
  const equals = argument.indexOf("=");
  if (equals <= 0) {
    return {
      diagnostics: [
        createDiagnostic(
          source,
          { offset: 0, length: argument.length },
          "expected KEY=VALUE, e.g. seed=3",
        ),
      ],
    };
  }
  const keyText = argument.slice(0, equals);
  const valueText = argument.slice(equals + 1);
  const path = keyText.split(".");
  const emptySegment = path.indexOf("");
  if (emptySegment >= 0) {
    return {
      diagnostics: [
        createDiagnostic(source, { offset: 0, length: equals }, `invalid key "${keyText}"`),
      ],
    };
  }
  const parsed = valueText === "" ? undefined : parseYamlText(source, valueText, equals + 1);
  const [problem] = parsed?.diagnostics ?? [];
  if (parsed?.document === undefined && problem !== undefined) {
    // A syntax error underlines the whole value; a limit (nesting, aliases), the place.
    return {
      diagnostics: [
        parsed?.syntax === true
          ? createDiagnostic(
              source,
              { offset: equals + 1, length: valueText.length },
              `value is not valid YAML: ${problem.message}`,
            )
          : problem,
      ],
    };
  }
  const document = parsed?.document;
  const value: unknown = parsed === undefined ? "" : parsed.value;
  const locations = new Map<string, NodeLocation>();
  let pointer = "";
  let keyStart = 0;
  path.forEach((segment, i) => {
    pointer += `/${escapePointerSegment(segment)}`;
    const key = { offset: keyStart, length: segment.length };
    const isLast = i === path.length - 1;
    // Only the last segment's value is applied, and it replaces what was there.
    locations.set(pointer, {
      key,
      value: isLast ? { offset: equals + 1, length: valueText.length } : key,
      replaces: isLast,
    });
    keyStart += segment.length + 1;
  });
  // Inside the value (a list, a map), every item has its own location too.
  const root = document?.contents as Node | null | undefined;
  if (root !== null && root !== undefined) collectLocations(root, pointer, locations, equals + 1);
  return {
    override: { path, value, layer: { source, value, locations, diagnostics: [] } },
    diagnostics: [],
  };
}

/**
 * Sets `path` in `target` (a merged configuration), creating maps as needed.
 * Only own keys are followed and written: `--set __proto__.x=1` names a key
 * like any other (the schema rejects it), never Object.prototype.
 */
export function applySetOverride(
  target: Record<string, unknown>,
  override: SetOverride,
): Diagnostic | undefined {
  let node: unknown = target;
  for (let i = 0; i < override.path.length; i++) {
    const segment = override.path[i] as string;
    const isLast = i === override.path.length - 1;
    const container = node as Record<string, unknown> | unknown[];
    if (Array.isArray(container)) {
      const index = Number(segment);
      if (!Number.isInteger(index) || index < 0 || index > container.length) {
        const keyStart = override.path.slice(0, i).reduce((n, s) => n + s.length + 1, 0);
        return createDiagnostic(
          override.layer.source,
          { offset: keyStart, length: segment.length },
          `${override.path.slice(0, i).join(".")} is a list of ${container.length}; "${segment}" is not an index in it`,
        );
      }
      if (isLast) container[index] = override.value;
      else {
        if (!isPlainContainer(container[index])) container[index] = {};
        node = container[index];
      }
      continue;
    }
    if (isLast) defineKey(container, segment, override.value);
    else {
      if (!isPlainContainer(ownValue(container, segment))) defineKey(container, segment, {});
      node = ownValue(container, segment);
    }
  }
  return undefined;
}

function isPlainContainer(value: unknown): boolean {
  return value !== null && typeof value === "object";
}
