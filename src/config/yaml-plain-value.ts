/**
 * Turns a parsed YAML document into the plain JSON-like value configuration
 * is made of, refusing what the yaml package's own conversion would let
 * through or fail on without a position:
 *
 *   - aliases that repeat more than MAX_ALIAS_VALUES values in total (an
 *     "alias bomb": nine anchors of nine aliases each expand a few hundred
 *     bytes into a billion values); the problem points at the alias that
 *     crossed the limit;
 *   - values nested deeper than MAX_NESTING_DEPTH through aliases (the
 *     syntax tree was checked already, see yaml-nesting.ts), and an alias
 *     inside the value it names, which would never end;
 *   - keys that are lists, maps or aliases, which have no JSON form;
 *   - scalars of YAML 1.1 types (timestamps, binary) that are not JSON.
 *
 * Every key becomes an own property, `__proto__` and `constructor`
 * included, so that the schema reports them as unknown keys instead of
 * assignment swallowing them or replacing the object's prototype.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import { defineKey } from "./own-keys.js";
import { MAX_NESTING_DEPTH, NESTING_MESSAGE } from "./yaml-nesting.js";
import type { Range } from "./yaml-source.js";

/** Values aliases may repeat in one file; a recipe has a few hundred values in all. */
export const MAX_ALIAS_VALUES = 10_000;

export interface PlainValueProblem {
  range: Range;
  message: string;
}

export type PlainValueResult =
  | { ok: true; value: unknown }
  | { ok: false; problem: PlainValueProblem };

/** An anchored value already converted: what an alias to it copies. */
interface Converted {
  value: unknown;
  /** Values in it (itself included): what copying it costs. */
  size: number;
  /** Levels of maps and lists in it (0 for a scalar). */
  height: number;
}

class Refusal extends Error {
  constructor(readonly problem: PlainValueProblem) {
    super(problem.message);
  }
}

/** The document's value; `shift` is added to every offset (a document parsed from a slice). */
export function toPlainValue(document: Document, shift = 0): PlainValueResult {
  const converter = new Converter(shift);
  try {
    const root = document.contents as Node | null;
    return { ok: true, value: root === null ? null : converter.convert(root, 0).value };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, problem: error.problem };
    throw error;
  }
}

class Converter {
  /**
   * Anchor name → the latest node so far that defines it, in document order
   * (as YAML resolves aliases), with its value once converted: an alias to a
   * node still being converted is inside it.
   */
  readonly #anchors = new Map<string, { converted?: Converted }>();
  #aliasValues = 0;

  constructor(readonly shift: number) {}

  /** `depth`: maps and lists around the node. */
  convert(node: Node, depth: number): Converted {
    if (isAlias(node)) return this.#expand(node.source, node, depth);
    const anchor = (node as { anchor?: string }).anchor;
    const entry: { converted?: Converted } = {};
    if (anchor !== undefined) this.#anchors.set(anchor, entry);
    entry.converted = this.#convertNode(node, depth);
    return entry.converted;
  }

  #convertNode(node: Node, depth: number): Converted {
    if (isScalar(node)) return { value: this.#scalar(node.value, node), size: 1, height: 0 };
    if (depth + 1 > MAX_NESTING_DEPTH) this.#refuse(node, NESTING_MESSAGE);
    if (isSeq(node)) {
      const value: unknown[] = [];
      let size = 1;
      let height = 1;
      for (const item of node.items) {
        // `[a: 1]` is a list holding the map { a: 1 }.
        const child = isPair(item)
          ? this.#map([item], item.key as Node, depth + 1)
          : this.#child(item as Node | null, depth + 1);
        value.push(child.value);
        size += child.size;
        height = Math.max(height, child.height + 1);
      }
      return { value, size, height };
    }
    if (isMap(node)) return this.#map(node.items, node, depth);
    return this.#refuse(node, "not a value configuration can hold");
  }

  #map(pairs: readonly unknown[], at: Node, depth: number): Converted {
    if (depth + 1 > MAX_NESTING_DEPTH) this.#refuse(at, NESTING_MESSAGE);
    const value: Record<string, unknown> = {};
    let size = 1;
    let height = 1;
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const key = this.#key(pair.key as Node | null);
      const child = this.#child(pair.value as Node | null, depth + 1);
      // Not assignment: `__proto__` stays a key like any other.
      defineKey(value, key, child.value);
      size += child.size;
      height = Math.max(height, child.height + 1);
    }
    return { value, size, height };
  }

  #child(node: Node | null, depth: number): Converted {
    return node === null ? { value: null, size: 1, height: 0 } : this.convert(node, depth);
  }

  /** A key as a string, the way JSON and the locations in yaml-source.ts spell it. */
  #key(node: Node | null): string {
    if (node === null) return "";
    if (!isScalar(node)) {
      this.#refuse(
        node,
        isAlias(node)
          ? "a key must be written out, not an alias"
          : "a key must be a single value, not a list or map",
      );
    }
    return plainKeyText(node.value);
  }

  #expand(name: string, alias: Node, depth: number): Converted {
    const entry = this.#anchors.get(name);
    // The yaml parser reports an alias without an anchor before this runs.
    if (entry === undefined) return this.#refuse(alias, `alias *${name} names no anchor`);
    const target = entry.converted;
    if (target === undefined) {
      return this.#refuse(alias, `alias *${name} is inside the value it names: it would never end`);
    }
    this.#aliasValues += target.size;
    if (this.#aliasValues > MAX_ALIAS_VALUES) {
      this.#refuse(
        alias,
        `alias *${name}: the aliases so far repeat more than ${MAX_ALIAS_VALUES} values (an alias bomb?); write the values out or use fewer aliases`,
      );
    }
    if (target.height > 0 && depth + target.height > MAX_NESTING_DEPTH) {
      this.#refuse(alias, `alias *${name}: ${NESTING_MESSAGE}`);
    }
    // A copy, as if written out: a later default or --set must change only this place.
    return { ...target, value: structuredClone(target.value) };
  }

  #scalar(value: unknown, node: Node): unknown {
    if (
      value === null ||
      typeof value === "string" ||
      typeof value === "number" ||
      typeof value === "boolean"
    ) {
      return value;
    }
    return this.#refuse(
      node,
      `not a plain value (a YAML ${value instanceof Date ? "timestamp" : typeof value === "bigint" ? "big integer" : "binary value"}): quote it to make it a string`,
    );
  }

  #refuse(node: Node, message: string): never {
    const [start, end] = node.range ?? [0, 0];
    throw new Refusal({ range: { offset: start + this.shift, length: end - start }, message });
  }
}

/** How a scalar key reads as a JSON key: `1` → "1", `true` → "true", an empty key → "". */
export function plainKeyText(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}
