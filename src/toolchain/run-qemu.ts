/**
 * Runs a bare-metal ELF under qemu-system-arm with semihosting and,
 * optionally, the insn_count plugin. Semihosting file I/O is relative to
 * `cwd`, which is how harnesses read inputs and write outputs.
 *
 * Instruction counts: the plugin counts instructions between calls of
 * tf_region_begin() and tf_region_end() (templates/c/harness/tf_markers.c)
 * and the result lists one count per region, in order (none when the program
 * does not call the markers: the linker drops them), plus the whole run. Counts include the
 * marker calls themselves (a handful of instructions, the same every time);
 * subtract a measured empty region to remove them.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BoardProfile } from "../config/types.js";
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import { ensureInsnCountPlugin } from "./qemu-plugin.js";
import { readSymbolAddresses } from "./symbols.js";
import { QEMU_SYSTEM_ARM, requireTool } from "./tools.js";

export interface QemuRunOptions {
  elf: string;
  /** Supplies the emulated machine and CPU (board.emulator). */
  board: BoardProfile;
  /** Working directory: semihosting opens files relative to it. */
  cwd: string;
  /** Count instructions per marked region. @default false */
  countInstructions?: boolean;
  /** Where the plugin is built (see ensureInsnCountPlugin). */
  pluginCacheDir?: string;
  /** @default 120000 */
  timeoutMs?: number;
}

export interface QemuRunResult {
  /** The program's exit status (semihosting SYS_EXIT); always 0 here, else we throw. */
  exitCode: number;
  /** What the program printed through semihosting. */
  stdout: string;
  stderr: string;
  /** Instructions per marked region, in execution order (empty without counting). */
  regionInstructions: number[];
  /** Instructions executed by the whole run (undefined without counting). */
  totalInstructions: number | undefined;
}

export async function runQemu(options: QemuRunOptions): Promise<QemuRunResult> {
  const qemu = await requireTool(QEMU_SYSTEM_ARM);
  const args = [
    "-M",
    options.board.emulator.machine,
    "-cpu",
    options.board.emulator.cpu,
    "-nographic",
    "-monitor",
    "none",
    "-serial",
    "none",
    "-semihosting-config",
    "enable=on,target=native",
    "-kernel",
    options.elf,
  ];
  let countDir: string | undefined;
  try {
    let countFile: string | undefined;
    if (options.countInstructions) {
      const plugin = await ensureInsnCountPlugin(options.pluginCacheDir);
      const symbols = await readSymbolAddresses(options.elf, ["tf_region_begin", "tf_region_end"]);
      countDir = await mkdtemp(join(tmpdir(), "tf-insn-"));
      countFile = join(countDir, "counts.txt");
      const begin = symbols.get("tf_region_begin");
      const end = symbols.get("tf_region_end");
      const markers =
        begin === undefined || end === undefined
          ? ""
          : `,begin=0x${begin.toString(16)},end=0x${end.toString(16)}`;
      args.push("-plugin", `${plugin}${markers},out=${countFile}`);
    }
    const timeoutMs = options.timeoutMs ?? 120_000;
    const result = await execTool(qemu, args, { cwd: options.cwd, timeoutMs });
    if (result.timedOut) {
      throw new ToolchainError({ reason: "timeout", timeoutMs, ...output(result) });
    }
    if (result.exitCode !== 0) {
      throw new ToolchainError({
        reason: "run-failed",
        exitCode: result.exitCode,
        ...output(result),
      });
    }
    const counts =
      countFile === undefined ? undefined : parseCounts(await readFile(countFile, "utf8"));
    return {
      exitCode: 0,
      stdout: result.stdout,
      stderr: result.stderr,
      regionInstructions: counts?.regions ?? [],
      totalInstructions: counts?.total,
    };
  } finally {
    if (countDir !== undefined) await rm(countDir, { recursive: true, force: true });
  }
}

function output(r: { command: string; stdout: string; stderr: string }) {
  return { command: r.command, stdout: r.stdout, stderr: r.stderr };
}

/** The plugin's output: one count per region, then `total N`. */
export function parseCounts(text: string): { regions: number[]; total: number | undefined } {
  const regions: number[] = [];
  let total: number | undefined;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "") continue;
    if (t.startsWith("total ")) total = Number(t.slice(6));
    else regions.push(Number(t));
  }
  return { regions, total };
}
