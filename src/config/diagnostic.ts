/**
 * Problems found in configuration files, located by source offset and
 * rendered as `path:line:col: message` with the source line and an underline.
 * Offsets are stored and converted to line:column only when printing.
 */

/** Text a diagnostic can point into: a YAML file or a `--set` argument. */
export interface SourceText {
  /** Shown as the path: a file path relative to the working directory, or `<--set #1>`. */
  name: string;
  text: string;
}

export interface Diagnostic {
  source: SourceText;
  /** Start of the offending text (0-based, UTF-16 code units). */
  offset: number;
  /** Length of the offending text; 0 points between characters. */
  length: number;
  message: string;
  /**
   * The JSON Pointer of the configuration value the problem is about, when
   * it is about one: checks after the schema skip values it already rejected.
   */
  pointer?: string;
}

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** YAML breaks lines at LF, CRLF and a lone CR; so do positions. */
export function positionOf(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function createDiagnostic(
  source: SourceText,
  range: { offset: number; length: number } | undefined,
  message: string,
): Diagnostic {
  return { source, offset: range?.offset ?? 0, length: range?.length ?? 0, message };
}

/** `file:line:col: message` alone, for machine-readable output. */
export function renderDiagnosticLine(diagnostic: Diagnostic): string {
  const { line, column } = positionOf(diagnostic.source.text, diagnostic.offset);
  return `${diagnostic.source.name}:${line}:${column}: ${diagnostic.message}`;
}

/** The location line, then the source line and a `^~~~` underline beneath it. */
export function renderDiagnostic(diagnostic: Diagnostic): string {
  const { text } = diagnostic.source;
  const { line, column } = positionOf(text, diagnostic.offset);
  const lineStart = diagnostic.offset - (column - 1);
  const lineEnd = /\r|\n/.exec(text.slice(lineStart))?.index;
  const sourceLine = text.slice(lineStart, lineEnd === undefined ? undefined : lineStart + lineEnd);
  const width = Math.max(1, Math.min(diagnostic.length, sourceLine.length - (column - 1)));
  const gutter = `${line} | `;
  return [
    renderDiagnosticLine(diagnostic),
    `${gutter}${sourceLine}`,
    `${" ".repeat(gutter.length + column - 1)}^${"~".repeat(width - 1)}`,
  ].join("\n");
}

/** Sorted by source then offset, duplicates (same place, same message) removed. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const id = `${d.source.name}\0${d.offset}\0${d.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return unique.sort((a, b) =>
    a.source.name === b.source.name ? a.offset - b.offset : a.source.name < b.source.name ? -1 : 1,
  );
}

/** Thrown when configuration is invalid; carries every problem found. */
export class ConfigError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    const sorted = sortDiagnostics(diagnostics);
    super(sorted.map(renderDiagnosticLine).join("\n"));
    this.name = "ConfigError";
    this.diagnostics = sorted;
  }
}
