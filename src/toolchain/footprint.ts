/**
 * Flash and SRAM footprint of a linked target program: output-section sizes
 * from arm-none-eabi-size, and the read-only data the linker script folds
 * into `.text` (harness/linker.ld.hbs) from the input sections listed in the
 * map file.
 */
import { readFile } from "node:fs/promises";
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import { requireTool, TARGET_SIZE } from "./tools.js";

export interface SectionFootprint {
  /** Code (and the vector table, exception tables, init/fini arrays) in flash. */
  textBytes: number;
  /** Constants (weights, quantization parameters, lookup tables) in flash. */
  rodataBytes: number;
  /** Initialised variables: in SRAM, with their initial values in flash. */
  dataBytes: number;
  /** Zero-initialised variables (the arena) in SRAM. */
  bssBytes: number;
}

/** Output sections that live in flash only. */
const FLASH_SECTIONS = new Set([
  ".text",
  ".ARM.extab",
  ".ARM.exidx",
  ".preinit_array",
  ".init_array",
  ".fini_array",
]);

/** Output-section sizes of an ELF file (`arm-none-eabi-size -A -d`). */
export async function readSectionSizes(elf: string): Promise<Map<string, number>> {
  const size = await requireTool(TARGET_SIZE);
  const result = await execTool(size, ["-A", "-d", elf]);
  if (result.exitCode !== 0) {
    const { command, stdout, stderr, exitCode } = result;
    throw new ToolchainError({ reason: "run-failed", exitCode, command, stdout, stderr });
  }
  return parseSectionSizes(result.stdout);
}

/** Parses the System V format of `size -A -d`: "name size addr" per section. */
export function parseSectionSizes(text: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\.\S+)\s+(\d+)\s+(\d+)\s*$/.exec(line.trim());
    if (m) sizes.set(m[1] as string, Number(m[2]));
  }
  return sizes;
}

/**
 * Total size of the `.rodata*` input sections the linker kept, from a GNU ld
 * map file. Sections the linker discarded (listed before the memory map) are
 * not counted. An input section's address and size follow its name on the
 * same line, or on the next line when the name is long.
 */
export function parseMapRodataBytes(map: string): number {
  const start = map.indexOf("Linker script and memory map");
  const lines = (start < 0 ? map : map.slice(start)).split("\n");
  let total = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const named = /^ (\.rodata\S*)(.*)$/.exec(line);
    if (named === null) continue;
    const rest = (named[2] as string).trim() === "" ? (lines[i + 1] ?? "") : (named[2] as string);
    const m = /^\s*0x[0-9a-fA-F]+\s+0x([0-9a-fA-F]+)/.exec(rest);
    if (m) total += Number.parseInt(m[1] as string, 16);
  }
  return total;
}

/** The footprint of a program linked by compileTarget (its ELF and map file). */
export async function readFootprint(elf: string, mapFile: string): Promise<SectionFootprint> {
  const sizes = await readSectionSizes(elf);
  const rodataBytes = parseMapRodataBytes(await readFile(mapFile, "utf8"));
  let flashOnly = 0;
  for (const [name, bytes] of sizes) if (FLASH_SECTIONS.has(name)) flashOnly += bytes;
  return {
    textBytes: flashOnly - rodataBytes,
    rodataBytes,
    dataBytes: sizes.get(".data") ?? 0,
    bssBytes: sizes.get(".bss") ?? 0,
  };
}
