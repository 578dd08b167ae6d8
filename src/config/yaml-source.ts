/**
 * Parses YAML while keeping, for every value, where it came from: a map from
 * JSON Pointer (the form ajv reports) to the source ranges of the value and
 * of its key. Later checks use it to point at the exact line and column.
 */
import { isMap, isPair, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { createDiagnostic, type Diagnostic, type SourceText } from "./diagnostic.js";

export interface Range {
  offset: number;
  length: number;
}

export interface NodeLocation {
  /** The value's text (for a map or list, all of it). */
  value: Range;
  /** The key's text, when the value sits in a map. */
  key?: Range;
  /**
   * True when the value replaces, as a whole, whatever layers of lower
   * precedence hold at this pointer (a list, a scalar, a `--set` value);
   * false for a map, which merges with theirs key by key.
   */
  replaces: boolean;
}

export interface LocatedDocument {
  source: SourceText;
  /** Plain JSON-like value; undefined when the file does not parse. */
  value: unknown;
  /** JSON Pointer → location. */
  locations: Map<string, NodeLocation>;
  diagnostics: Diagnostic[];
}

export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function parseYamlSource(source: SourceText): LocatedDocument {
  const document = parseDocument(source.text, { prettyErrors: false, uniqueKeys: true });
  const diagnostics = [...document.errors, ...document.warnings].map((problem) =>
    createDiagnostic(
      source,
      { offset: problem.pos[0], length: Math.max(0, problem.pos[1] - problem.pos[0]) },
      cleanYamlMessage(problem.message),
    ),
  );
  const locations = new Map<string, NodeLocation>();
  if (diagnostics.length > 0) return { source, value: undefined, locations, diagnostics };
  const root = document.contents as Node | null;
  locations.set("", { value: rangeOf(root, 0) ?? { offset: 0, length: 0 }, replaces: false });
  if (root !== null) collectLocations(root, "", locations);
  return { source, value: document.toJS({ maxAliasCount: 1000 }) ?? null, locations, diagnostics };
}

function rangeOf(node: Node | null | undefined, shift: number): Range | undefined {
  const range = node?.range;
  if (range === undefined || range === null) return undefined;
  return { offset: range[0] + shift, length: Math.max(0, range[1] - range[0]) };
}

/**
 * Records the location of every value below `node` (not of `node` itself)
 * under `pointer`; `shift` is added to every offset, for a node parsed from a
 * slice of its source text.
 */
export function collectLocations(
  node: Node,
  pointer: string,
  out: Map<string, NodeLocation>,
  shift = 0,
): void {
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const keyNode = item.key as Node | null;
      const keyText = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const childPointer = `${pointer}/${escapePointerSegment(keyText)}`;
      const keyRange = rangeOf(keyNode, shift);
      const valueNode = item.value as Node | null;
      const valueRange = rangeOf(valueNode, shift) ?? keyRange ?? { offset: 0, length: 0 };
      out.set(childPointer, {
        value: valueRange,
        ...(keyRange ? { key: keyRange } : {}),
        replaces: !isMap(valueNode),
      });
      if (valueNode !== null) collectLocations(valueNode, childPointer, out, shift);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const childPointer = `${pointer}/${index}`;
      const range = rangeOf(item as Node, shift);
      if (range !== undefined) out.set(childPointer, { value: range, replaces: !isMap(item) });
      collectLocations(item as Node, childPointer, out, shift);
    });
  }
}

/** The yaml package prefixes some messages with their code; users need only the words. */
export function cleanYamlMessage(message: string): string {
  return message.replace(/\s+at line \d+, column \d+.*$/s, "").trim();
}
