/** Reads symbol addresses from an ARM ELF file with arm-none-eabi-nm. */
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import { requireTool, TARGET_NM } from "./tools.js";

/**
 * Addresses of the named symbols (Thumb bit cleared); a symbol the program
 * does not contain is absent from the map.
 */
export async function readSymbolAddresses(
  elf: string,
  names: readonly string[],
): Promise<Map<string, number>> {
  const nm = await requireTool(TARGET_NM);
  const result = await execTool(nm, [elf]);
  if (result.exitCode !== 0) {
    const { command, stdout, stderr, exitCode } = result;
    throw new ToolchainError({ reason: "run-failed", exitCode, command, stdout, stderr });
  }
  const all = new Map<string, number>();
  for (const line of result.stdout.split("\n")) {
    const m = /^([0-9a-fA-F]+)\s+\w\s+(\S+)$/.exec(line.trim());
    if (m) all.set(m[2] as string, Number.parseInt(m[1] as string, 16) & ~1);
  }
  const out = new Map<string, number>();
  for (const name of names) {
    const addr = all.get(name);
    if (addr !== undefined) out.set(name, addr);
  }
  return out;
}
