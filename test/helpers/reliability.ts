/**
 * Hostile-user trials on the real CLI and the real pipeline, shared by the
 * reliability tests (a few of each, in CI) and `npm run bench -- reliability`
 * (many): SIGKILL at points spread over a build (cold, and restoring from
 * the cache, which is mostly materialisation), one flipped byte in each kind
 * of cached object, gc looping during a build, two builds at once.
 *
 * Every trial ends by comparing `build/<recipe>/` with the bytes of an
 * uninterrupted build: a trial fails on any difference, a failed command,
 * a corrupt object served, or leftovers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { packageRoot } from "../../src/project-paths.js";
import { createTestWorkspace, type TestWorkspace, TINY_RECIPE } from "./workspace.js";

const cli = join(packageRoot, "bin", "tinyformer.js");
const STAMP = ".tinyformer-stamp.json";

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the real CLI in `ws`; with `killAfterMs`, sends SIGKILL then. */
export function runTinyformer(
  ws: TestWorkspace,
  args: string[],
  options: { killAfterMs?: number } = {},
): Promise<CliRun> & { child: ChildProcess } {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, "-C", ws.root, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
  const done = new Promise<CliRun>((resolve) => {
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return Object.assign(done, { child });
}

/** Digest of every file under `build/test/` (the stamps excepted), by relative path. */
export async function snapshotOutputs(ws: TestWorkspace): Promise<Map<string, string>> {
  const root = join(ws.root, "build", "test");
  const snapshot = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(root, { recursive: true, encoding: "utf8" });
  } catch {
    return snapshot;
  }
  for (const name of names.sort()) {
    if (name.endsWith(STAMP)) continue;
    const bytes = await readFile(join(root, name)).catch(() => undefined);
    if (bytes === undefined) continue; // a directory
    snapshot.set(name, createHash("sha256").update(bytes).digest("hex"));
  }
  return snapshot;
}

/** The first difference between two snapshots, or undefined when equal. */
export function compareSnapshots(
  expected: Map<string, string>,
  actual: Map<string, string>,
): string | undefined {
  for (const [path, digest] of expected) {
    const got = actual.get(path);
    if (got === undefined) return `${path} is missing`;
    if (got !== digest) return `${path} differs from an uninterrupted build`;
  }
  for (const path of actual.keys()) {
    if (!expected.has(path)) return `${path} should not be there`;
  }
  return undefined;
}

export interface Reference {
  ws: TestWorkspace;
  outputs: Map<string, string>;
  /** Wall time of the uninterrupted cold build and of a restore-only build. */
  coldMs: number;
  restoreMs: number;
}

/** A workspace with the tiny recipe, built once without interruption. */
export async function buildReference(): Promise<Reference> {
  const ws = await createTestWorkspace(TINY_RECIPE);
  const cold = await runTinyformer(ws, ["build"]);
  if (cold.code !== 0) throw new Error(`the reference build failed:\n${cold.stderr}`);
  const outputs = await snapshotOutputs(ws);
  await rm(join(ws.root, "build"), { recursive: true, force: true });
  const restore = await runTinyformer(ws, ["build"]);
  if (restore.code !== 0) throw new Error(`the restoring build failed:\n${restore.stderr}`);
  return { ws, outputs, coldMs: cold.ms, restoreMs: restore.ms };
}

export interface TrialResult {
  name: string;
  ok: boolean;
  problem?: string;
}

/** What a finished trial's workspace must look like; the first problem found, if any. */
async function checkAfterwards(ref: Reference): Promise<string | undefined> {
  const verify = await runTinyformer(ref.ws, ["cache", "verify"]);
  if (verify.code !== 0) return `cache verify failed: ${verify.stdout}${verify.stderr}`;
  const rebuild = await runTinyformer(ref.ws, ["build"]);
  if (rebuild.code !== 0) return `the next build failed: ${rebuild.stderr.slice(-400)}`;
  const differs = compareSnapshots(ref.outputs, await snapshotOutputs(ref.ws));
  if (differs !== undefined) return differs;
  const leftovers = (await readdir(join(ref.ws.root, "build", "test"))).filter((name) =>
    name.startsWith(".tmp-"),
  );
  if (leftovers.length > 0) return `staging folders left in build/test: ${leftovers.join(", ")}`;
  const locks = await readdir(join(ref.ws.root, ".tinyformer", "cache", "locks")).catch(() => []);
  if (locks.length > 0) return `locks left behind: ${locks.join(", ")}`;
  return undefined;
}

/**
 * SIGKILL a build `atMs` after it starts. `cold`: from an empty cache;
 * otherwise from a full cache with `build/` deleted, so the build is all
 * restoring and materialising.
 */
export async function killTrial(ref: Reference, atMs: number, cold: boolean): Promise<TrialResult> {
  const name = `kill -9 at ${atMs} ms into a ${cold ? "cold" : "restoring"} build`;
  if (cold) await rm(join(ref.ws.root, ".tinyformer"), { recursive: true, force: true });
  await rm(join(ref.ws.root, "build"), { recursive: true, force: true });
  const killed = await runTinyformer(ref.ws, ["build"], { killAfterMs: atMs });
  if (killed.signal !== "SIGKILL" && killed.code !== 0) {
    return { name, ok: false, problem: `the build failed before the kill: ${killed.stderr}` };
  }
  const problem = await checkAfterwards(ref);
  return problem === undefined ? { name, ok: true } : { name, ok: false, problem };
}

export interface CachedObject {
  stage: string;
  output: string;
  digest: string;
  path: string;
  size: number;
}

/** Every object of the reference build's entries, by stage and output path. */
export async function listCachedObjects(ref: Reference): Promise<CachedObject[]> {
  const cache = join(ref.ws.root, ".tinyformer", "cache");
  const found: CachedObject[] = [];
  const entriesRoot = join(cache, "entries");
  for (const stage of (await readdir(entriesRoot)).sort()) {
    for (const file of (await readdir(join(entriesRoot, stage))).sort()) {
      const entry = JSON.parse(await readFile(join(entriesRoot, stage, file), "utf8")) as {
        outputs: Record<string, { digest: string; size: number }>;
      };
      for (const [output, { digest, size }] of Object.entries(entry.outputs)) {
        const path = join(cache, "objects", digest.slice(0, 2), digest.slice(2));
        found.push({ stage, output, digest, path, size });
      }
    }
  }
  return found;
}

/**
 * Flips one byte of a cached object (at `position`, within its size), deletes
 * `build/`, builds: the build must report the damaged object, rebuild
 * and write the reference bytes. `served` is true when the corrupt bytes
 * reached `build/` or the build did not notice.
 */
export async function corruptionTrial(
  ref: Reference,
  object: CachedObject,
  position: number,
): Promise<TrialResult & { served: boolean }> {
  const name = `one flipped byte in ${object.stage}/${object.output}`;
  const bytes = await readFile(object.path);
  const at = position % Math.max(1, bytes.length);
  bytes[at] = (bytes[at] ?? 0) ^ 0x20;
  await chmod(object.path, 0o644);
  await writeFile(object.path, bytes);
  await rm(join(ref.ws.root, "build"), { recursive: true, force: true });
  const run = await runTinyformer(ref.ws, ["build"]);
  // Objects are shared by content: the damage is reported by the first stage
  // that looks the object up, which may be another stage with the same bytes.
  const noticed = new RegExp(`DAMAGED .* \\(object ${object.digest.slice(0, 12)}\\)`);
  const differs = compareSnapshots(ref.outputs, await snapshotOutputs(ref.ws));
  const served = differs !== undefined || !noticed.test(run.stderr);
  if (run.code !== 0) return { name, ok: false, served, problem: run.stderr.slice(-400) };
  if (served) {
    return {
      name,
      ok: false,
      served,
      problem: differs ?? `the build did not report the damage:\n${run.stdout}${run.stderr}`,
    };
  }
  const problem = await checkAfterwards(ref);
  return problem === undefined ? { name, ok: true, served } : { name, ok: false, served, problem };
}

/** `tinyformer build` while `cache gc --max-bytes 1` runs in a loop: the build must not notice. */
export async function gcDuringBuildTrial(ref: Reference): Promise<TrialResult> {
  const name = "cache gc --max-bytes 1 in a loop during a build";
  await rm(join(ref.ws.root, "build"), { recursive: true, force: true });
  await runTinyformer(ref.ws, ["build", "--set", "seed=4"]); // something for gc to evict
  const building = runTinyformer(ref.ws, ["build"]);
  let finished = false;
  void building.then(() => {
    finished = true;
  });
  let rounds = 0;
  while (!finished) {
    const gc = await runTinyformer(ref.ws, ["cache", "gc", "--max-bytes", "1"]);
    if (gc.code !== 0) return { name, ok: false, problem: `gc failed: ${gc.stderr}` };
    rounds++;
  }
  const run = await building;
  if (run.code !== 0) return { name, ok: false, problem: `after ${rounds} gc runs: ${run.stderr}` };
  const differs = compareSnapshots(ref.outputs, await snapshotOutputs(ref.ws));
  return differs === undefined ? { name, ok: true } : { name, ok: false, problem: differs };
}

/** Two builds of the same workspace at once, from an empty cache: both succeed, each stage runs once. */
export async function concurrentBuildsTrial(ref: Reference): Promise<TrialResult> {
  const name = "two concurrent cold builds";
  await rm(join(ref.ws.root, ".tinyformer"), { recursive: true, force: true });
  await rm(join(ref.ws.root, "build"), { recursive: true, force: true });
  const [one, two] = await Promise.all([
    runTinyformer(ref.ws, ["build"]),
    runTinyformer(ref.ws, ["build"]),
  ]);
  if (one.code !== 0 || two.code !== 0) {
    return { name, ok: false, problem: `${one.stderr}\n${two.stderr}` };
  }
  const built = (text: string) => (text.match(/^ {2}built {5}\S/gm) ?? []).length;
  const stages = new Set(
    [...ref.outputs.keys()].filter((path) => path.includes("/")).map((path) => path.split("/")[0]),
  ).size;
  const runs = built(one.stdout) + built(two.stdout);
  if (runs !== stages) {
    return { name, ok: false, problem: `${runs} stage runs for ${stages} stages` };
  }
  const problem = await checkAfterwards(ref);
  return problem === undefined ? { name, ok: true } : { name, ok: false, problem };
}
