/**
 * The nesting limit of configuration files, checked before any value is
 * built. The yaml package composes nested collections recursively: a file
 * nested a thousand levels deep (`[[[[...]]]]`) exhausts the call stack, and
 * the error it then reports says only "Maximum call stack size exceeded".
 * Real configuration nests a handful of levels, so a deep file is a mistake
 * or an attack.
 *
 * Two passes, neither recursive. The yaml parser (text to syntax tree) is
 * safe with deep flow collections but recurses once per block level it
 * closes at a dedent, so a first pass over the lines bounds the block
 * indentation; then a walk of the syntax tree, with its own stack, finds the
 * first collection past MAX_NESTING_DEPTH.
 */
import { CST, Parser } from "yaml";

/** Maps and lists inside one another; a recipe uses about five. */
export const MAX_NESTING_DEPTH = 64;

export const NESTING_MESSAGE = `nesting deeper than ${MAX_NESTING_DEPTH} levels of maps and lists`;

export interface TooDeep {
  /** Where the first collection past the limit starts. */
  offset: number;
  length: number;
}

/**
 * Indentation levels open at once beyond which the parser is not run: far
 * above any nesting MAX_NESTING_DEPTH allows (one level per block
 * collection, or per line of a scalar indented further each line), far
 * below the ~2000 where the parser overflows the stack.
 */
const MAX_INDENTATION_LEVELS = 256;

/** The first collection nested deeper than `limit`, undefined when there is none. */
export function findTooDeepNesting(text: string, limit = MAX_NESTING_DEPTH): TooDeep | undefined {
  const runaway = findRunawayIndentation(text);
  if (runaway !== undefined) return runaway;
  const pending: { token: CST.Token; depth: number }[] = [];
  for (const token of new Parser().parse(text)) pending.push({ token, depth: 0 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { token, depth } = next;
    if (token.type === "document") {
      if (token.value !== undefined) pending.push({ token: token.value, depth });
      continue;
    }
    if (!CST.isCollection(token)) continue;
    if (depth + 1 > limit) return { offset: token.offset, length: openerLength(token) };
    // A collection's keys can be collections too (`? [a]: b`, `{[a]: b}`).
    for (const item of token.items) {
      if (item.key) pending.push({ token: item.key, depth: depth + 1 });
      if (item.value) pending.push({ token: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Where the lines open more than MAX_INDENTATION_LEVELS indentation levels
 * at once: each line (and each `- `, `? `, `: ` indicator that starts a
 * compact collection on it) closes the levels at or right of its column and
 * opens one there.
 */
function findRunawayIndentation(text: string): TooDeep | undefined {
  const open: number[] = [];
  for (const { start, line } of lines(text)) {
    // Columns where the line opens a level: its indentation, then after each indicator.
    let column = leadingSpaces(line, 0);
    if (column === line.length || line[column] === "#") continue;
    for (;;) {
      while (open.length > 0 && (open[open.length - 1] as number) >= column) open.pop();
      open.push(column);
      if (open.length > MAX_INDENTATION_LEVELS) return { offset: start + column, length: 1 };
      if (!/^[-?:] ./.test(line.slice(column, column + 3))) break;
      column = leadingSpaces(line, column + 2);
    }
  }
  return undefined;
}

function leadingSpaces(line: string, from: number): number {
  let column = from;
  while (line[column] === " ") column++;
  return column;
}

/** The lines of `text` (YAML breaks lines at LF, CRLF and CR) and where each starts. */
function* lines(text: string): Generator<{ start: number; line: string }> {
  const lineBreak = /\r\n|\r|\n/g;
  let start = 0;
  for (let found = lineBreak.exec(text); found !== null; found = lineBreak.exec(text)) {
    yield { start, line: text.slice(start, found.index) };
    start = found.index + found[0].length;
  }
  yield { start, line: text.slice(start) };
}

/** `[` or `{` for a flow collection; a block collection is marked by its first character. */
function openerLength(token: CST.BlockMap | CST.BlockSequence | CST.FlowCollection): number {
  return token.type === "flow-collection" ? token.start.source.length : 1;
}
