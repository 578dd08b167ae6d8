/**
 * Parses YAML while keeping, for every value, where it came from: a map from
 * JSON Pointer (the form ajv reports) to the source ranges of the value and
 * of its key. Later checks use it to point at the exact line and column.
 * Hostile text (nesting thousands deep, alias bombs, `__proto__` keys) gives
 * diagnostics like any other mistake: see yaml-nesting.ts and
 * yaml-plain-value.ts.
 */
import { type Document, isMap, isPair, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { createDiagnostic, type Diagnostic, type SourceText } from "./diagnostic.js";
import { findTooDeepNesting, NESTING_MESSAGE } from "./yaml-nesting.js";
import { plainKeyText, toPlainValue } from "./yaml-plain-value.js";

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
  const locations = new Map<string, NodeLocation>();
  const parsed = parseYamlText(source, source.text, 0);
  if (parsed.document === undefined) {
    return { source, value: undefined, locations, diagnostics: parsed.diagnostics };
  }
  const root = parsed.document.contents as Node | null;
  locations.set("", { value: rangeOf(root, 0) ?? { offset: 0, length: 0 }, replaces: false });
  if (root !== null) collectLocations(root, "", locations);
  return { source, value: parsed.value, locations, diagnostics: [] };
}

export type ParsedYaml =
  | { document: Document; value: unknown; diagnostics: [] }
  | {
      document?: undefined;
      value?: undefined;
      diagnostics: Diagnostic[];
      /** The yaml parser's own syntax errors, rather than a limit of ours. */
      syntax: boolean;
    };

/**
 * `text` (found at `shift` in `source`, for a `--set` value) as a document
 * and its plain value, or the problems that stop it: nesting past the limit
 * (checked first: deeper text would exhaust the parser's stack), syntax
 * errors, then what the plain value refuses.
 */
export function parseYamlText(source: SourceText, text: string, shift: number): ParsedYaml {
  // The yaml package reads a lone CR as no line break at all: the whole file
  // would be one line, and its errors make no sense.
  const loneCr = /\r(?!\n)/.exec(text);
  if (loneCr !== null) {
    const message =
      "a line break here is a carriage return alone (old Mac line ends): save the file with LF or CRLF line ends";
    return {
      diagnostics: [createDiagnostic(source, { offset: loneCr.index + shift, length: 1 }, message)],
      syntax: false,
    };
  }
  const tooDeep = findTooDeepNesting(text);
  if (tooDeep !== undefined) {
    const range = { offset: tooDeep.offset + shift, length: tooDeep.length };
    return { diagnostics: [createDiagnostic(source, range, NESTING_MESSAGE)], syntax: false };
  }
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    return {
      diagnostics: problems.map((problem) =>
        createDiagnostic(
          source,
          { offset: problem.pos[0] + shift, length: Math.max(0, problem.pos[1] - problem.pos[0]) },
          cleanYamlMessage(problem.message),
        ),
      ),
      syntax: true,
    };
  }
  const plain = toPlainValue(document, shift);
  if (!plain.ok) {
    const problem = createDiagnostic(source, plain.problem.range, plain.problem.message);
    return { diagnostics: [problem], syntax: false };
  }
  return { document, value: plain.value, diagnostics: [] };
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
      // Non-scalar keys never get this far: yaml-plain-value.ts refuses them.
      const keyText = isScalar(keyNode) ? plainKeyText(keyNode.value) : String(keyNode);
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
