/**
 * Flash and SRAM footprint of a linked target program: output-section sizes
 * from arm-none-eabi-size, and the read-only data the linker script folds
 * into `.text` (harness/linker.ld.hbs) from the input sections listed in the
 * map file.
 */
import { readFile } from "node:fs/promises";
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import { parseLinkMap } from "./link-map.js";
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
export const FLASH_SECTIONS: ReadonlySet<string> = new Set([
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
 * not counted.
 */
export function parseMapRodataBytes(map: string): number {
  return parseLinkMap(map)
    .filter((section) => section.name.startsWith(".rodata"))
    .reduce((sum, section) => sum + section.bytes, 0);
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
