/**
 * The input sections a GNU ld link kept, read from its map file (`-Map`):
 * for each, the output section it went to, its name, its size and the file
 * (object, or `archive(member)`) it came from. Sections the linker discarded
 * (--gc-sections; listed before the memory map) are not included, nor is
 * the padding between sections (`*fill*`).
 *
 * In the memory map an input section's line starts with one space and its
 * name; its address, size and file follow on the same line, or on the next
 * line when the name is long. An output section's line starts in column 0.
 */

export interface KeptSection {
  /** The output section, e.g. `.text`, `.data`, `.bss`. */
  output: string;
  /** The input section, e.g. `.text.tf_model_run`, `.rodata.l3_weight`. */
  name: string;
  bytes: number;
  /** The object or `archive(member)` path, as the linker printed it. */
  file: string;
}

const ADDRESS_SIZE_FILE = /^\s*0x[0-9a-fA-F]+\s+0x([0-9a-fA-F]+)\s+(\S.*?)\s*$/;

export function parseLinkMap(map: string): KeptSection[] {
  const start = map.indexOf("Linker script and memory map");
  const lines = (start < 0 ? map : map.slice(start)).split("\n");
  const kept: KeptSection[] = [];
  let output = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const outputLine = /^(\.[^\s]+|[A-Za-z_][^\s]*)(\s|$)/.exec(line);
    if (outputLine !== null) {
      output = outputLine[1] as string;
      continue;
    }
    const named = /^ ([^\s*][^\s]*)(.*)$/.exec(line);
    if (named === null) continue;
    const rest = (named[2] as string).trim() === "" ? (lines[i + 1] ?? "") : (named[2] as string);
    const m = ADDRESS_SIZE_FILE.exec(rest);
    if (m === null) continue;
    const bytes = Number.parseInt(m[1] as string, 16);
    if (bytes > 0) kept.push({ output, name: named[1] as string, bytes, file: m[2] as string });
  }
  return kept;
}
