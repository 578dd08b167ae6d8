/**
 * `npm run bench -- noop`: wall time of a whole-process no-op
 * `tinyformer build` over a 10-stage graph with 1,000 declared input files
 * (median of several runs, Node start-up included), next to a bare
 * `node -e ""` start for scale; and SHA-256 throughput on a 256 MB file.
 *
 * The graph uses the test suite's fake stages through the real CLI, so the
 * measured path is exactly config loading, fingerprinting, cache lookups and
 * output checks, the work a no-op build does.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestFile } from "../src/graph-runner/digest.js";
import type { FakeStageSpec } from "../test/helpers/fake-stages.js";
import { createTestWorkspace } from "../test/helpers/workspace.js";

const STAGES = 10;
const FILES_PER_STAGE = 100;
const RUNS = 9;
const SHA_BYTES = 256 * 1024 * 1024;

export async function main(args: string[]): Promise<void> {
  const runs = Number(args[0] ?? RUNS);
  const ws = await createTestWorkspace();
  try {
    const stages: FakeStageSpec[] = [];
    const old = new Date(Date.now() - 3_600_000);
    for (let s = 0; s < STAGES; s++) {
      const dir = `inputs/stage-${s}`;
      await mkdir(join(ws.root, dir), { recursive: true });
      for (let f = 0; f < FILES_PER_STAGE; f++) {
        const path = join(ws.root, dir, `file-${f}.txt`);
        await writeFile(path, `stage ${s} file ${f}\n`.repeat(50));
        // Files older than the stat memo's racy-clean margin, as in a real workspace.
        await utimes(path, old, old);
      }
      stages.push({
        name: `stage-${s}`,
        upstream: s === 0 ? [] : [`stage-${s - 1}`],
        configKeys: ["seed"],
        inputs: [dir],
        output: "constant",
      });
    }
    // Configuration files as old as the inputs, so the configuration memo is usable.
    for (const file of ["tinyformer.yaml", "recipes/test.yaml", "boards/stm32f746.yaml"]) {
      await utimes(join(ws.root, file), old, old);
    }
    const fakeCli = join(
      dirname(fileURLToPath(import.meta.url)),
      "..",
      "test",
      "helpers",
      "fake-cli.js",
    );
    const env = {
      ...process.env,
      TINYFORMER_FAKE_PIPELINE: JSON.stringify({ stages, logFile: ws.logFile }),
    };
    const run = (argv: string[]) => {
      const started = process.hrtime.bigint();
      execFileSync(process.execPath, argv, { cwd: ws.root, env, stdio: "pipe" });
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    run([fakeCli, "build"]);
    if (ws.invocations().length !== STAGES)
      throw new Error("the cold build did not run every stage");
    const noop: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      noop.push(run([fakeCli, "build"]));
      bare.push(run(["-e", ""]));
    }
    if (ws.invocations().length !== STAGES) throw new Error("a no-op build ran a stage");
    const shaMbPerS = await measureSha256();
    const result = {
      noop_median_ms: round(median(noop)),
      node_startup_median_ms: round(median(bare)),
      noop_runs_ms: noop.map(round),
      stages: STAGES,
      input_files: STAGES * FILES_PER_STAGE,
      sha256_mb_per_s: round(shaMbPerS),
    };
    process.stderr.write(
      `no-op build: median ${result.noop_median_ms} ms over ${runs} runs (bare node: ${result.node_startup_median_ms} ms)\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await ws.cleanup();
  }
}

async function measureSha256(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "tinyformer-sha-"));
  const file = join(dir, "big.bin");
  try {
    const handle = await open(file, "w");
    const chunk = randomBytes(16 * 1024 * 1024);
    for (let written = 0; written < SHA_BYTES; written += chunk.length) await handle.write(chunk);
    await handle.close();
    await digestFile(file); // warm the page cache: measure hashing, not the disk
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      await digestFile(file);
      times.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return SHA_BYTES / 1e6 / median(times);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
