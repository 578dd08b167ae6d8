/**
 * Builds the C kernel runner (templates/c/harness/tf_kernel_runner.c plus the
 * whole kernel library) for the host or for a board under QEMU, and runs
 * batches of kernel cases through it: one process per batch, cases passed in
 * a file, results (and, under QEMU, instruction counts per case) read back.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BoardProfile } from "../../src/config/types.js";
import {
  harnessDir,
  kernelIncludeDir,
  listKernelSources,
  markerSources,
} from "../../src/toolchain/c-sources.js";
import { compileHost } from "../../src/toolchain/compile-host.js";
import { compileTarget } from "../../src/toolchain/compile-target.js";
import { ToolchainError } from "../../src/toolchain/errors.js";
import { execTool } from "../../src/toolchain/exec.js";
import { runQemu } from "../../src/toolchain/run-qemu.js";
import {
  type CaseResult,
  decodeResultFile,
  type EncodedCase,
  encodeCaseFile,
} from "./kernel-cases.js";

const runnerSource = join(harnessDir, "tf_kernel_runner.c");

export type KernelRunnerTarget =
  | { kind: "host"; sanitize?: boolean }
  | { kind: "qemu"; board: BoardProfile; pluginCacheDir?: string };

export interface KernelRunner {
  target: KernelRunnerTarget;
  executable: string;
}

export interface KernelRunResult {
  results: CaseResult[];
  /**
   * Instructions per case (QEMU only): the region count minus the empty
   * region measured first, i.e. the kernel call itself.
   */
  instructions: number[] | undefined;
}

/** Compiles the runner into `dir` (created by the caller). */
export async function buildKernelRunner(
  target: KernelRunnerTarget,
  dir: string,
): Promise<KernelRunner> {
  const sources = [runnerSource, ...listKernelSources()];
  const includeDirs = [kernelIncludeDir, harnessDir];
  if (target.kind === "host") {
    const { output } = await compileHost({
      sources: [...sources, ...markerSources],
      includeDirs,
      output: join(dir, target.sanitize ? "kernel-runner-asan" : "kernel-runner"),
      sanitize: target.sanitize ?? false,
    });
    return { target, executable: output };
  }
  const { output } = await compileTarget({
    board: target.board,
    sources,
    includeDirs,
    output: join(dir, "kernel-runner.elf"),
  });
  return { target, executable: output };
}

/** Runs the cases in one process and returns their results in order. */
export async function runKernelCases(
  runner: KernelRunner,
  cases: readonly EncodedCase[],
  options: { timeoutMs?: number } = {},
): Promise<KernelRunResult> {
  const work = await mkdtemp(join(tmpdir(), "tf-kernels-"));
  try {
    await writeFile(join(work, "cases.bin"), encodeCaseFile(cases));
    let instructions: number[] | undefined;
    if (runner.target.kind === "host") {
      const r = await execTool(runner.executable, [], { cwd: work, timeoutMs: options.timeoutMs });
      const { command, stdout, stderr, exitCode } = r;
      if (r.timedOut) {
        const timeoutMs = options.timeoutMs ?? 120_000;
        throw new ToolchainError({ reason: "timeout", timeoutMs, command, stdout, stderr });
      }
      if (exitCode !== 0) {
        throw new ToolchainError({ reason: "run-failed", exitCode, command, stdout, stderr });
      }
    } else {
      const r = await runQemu({
        elf: runner.executable,
        board: runner.target.board,
        cwd: work,
        countInstructions: true,
        pluginCacheDir: runner.target.pluginCacheDir,
        timeoutMs: options.timeoutMs,
      });
      const [empty = 0, ...perCase] = r.regionInstructions;
      instructions = perCase.map((n) => n - empty);
    }
    const results = decodeResultFile(await readFile(join(work, "results.bin")));
    if (results.length !== cases.length) {
      throw new Error(`kernel runner returned ${results.length} results for ${cases.length} cases`);
    }
    return { results, instructions };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
