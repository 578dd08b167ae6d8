/**
 * A real redis-server on 127.0.0.1 (a free port, a temporary directory, no
 * persistence) and real `tinyformer worker` processes, for the queue tests
 * and benchmark. Each test takes its own Redis database number, so its jobs
 * never meet another test's workers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/project-paths.js";
import { findExecutable, freePort } from "./local-executables.js";

export function findRedisServer(): string | undefined {
  return findExecutable(["redis-server"], ["/usr/bin", "/usr/local/bin"]);
}

/** Why the queue tests cannot run here, or false when they can. */
export const needsRedis: string | false =
  findRedisServer() === undefined
    ? "redis-server is not installed (scripts/setup.sh installs it): the queue tests did not run"
    : false;

export interface RedisServer {
  /** `redis://127.0.0.1:PORT/DB`: a database of its own for each call. */
  url(database: number): string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const redis = findRedisServer();
  if (redis === undefined) throw new Error("redis-server is not installed");
  const dir = await mkdtemp(join(tmpdir(), "tinyformer-redis-"));
  const port = await freePort();
  const child = spawn(
    redis,
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--databases",
      "64",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  for (let attempt = 0; !/Ready to accept connections/.test(log); attempt++) {
    if (child.exitCode !== null || attempt > 200)
      throw new Error(`redis-server did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url: (database) => `redis://127.0.0.1:${port}/${database}`,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A `tinyformer worker` process and what it printed. */
export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Lines printed so far. */
  lines(): string[];
  /** Sandbox process ids it reported starting. */
  sandboxPids(): number[];
  /** Job ids it started (`running ID`). */
  ran(): string[];
  /** Resolves when a printed line matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL (no clean-up at all) and wait for the exit. */
  kill9(): Promise<void>;
}

export async function startWorkerProcess(
  url: string,
  options: { name: string; concurrency?: number; lockMs?: number },
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      join(packageRoot, "bin", "tinyformer.js"),
      "worker",
      "--redis",
      url,
      "--name",
      options.name,
      "-c",
      String(options.concurrency ?? 1),
      ...(options.lockMs === undefined ? [] : ["--lock-ms", String(options.lockMs)]),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onText = (chunk: Buffer) => {
    text += chunk.toString();
    const lines = text.split("\n");
    for (const waiter of [...waiters]) {
      const line = lines.find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  child.stdout?.on("data", onText);
  child.stderr?.on("data", onText);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const lines = () => text.split("\n").filter((line) => line !== "");
  const worker: WorkerProcess = {
    name: options.name,
    child,
    lines,
    sandboxPids: () =>
      lines().flatMap((line) => {
        const match = / sandbox pid (\d+)$/.exec(line);
        return match ? [Number(match[1])] : [];
      }),
    ran: () =>
      lines().flatMap((line) => {
        const match = /: running (\S+) /.exec(line);
        return match ? [match[1] as string] : [];
      }),
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const line = lines().find((candidate) => pattern.test(candidate));
        if (line !== undefined) {
          resolve(line);
          return;
        }
        const timer = setTimeout(
          () => reject(new Error(`worker ${options.name} did not print ${pattern}:\n${text}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (found) => {
            clearTimeout(timer);
            resolve(found);
          },
        });
        exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`worker ${options.name} exited:\n${text}`));
        });
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  await worker.waitFor(/waiting for jobs/);
  return worker;
}

/** Whether a process is still running (a zombie waiting to be reaped is not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits until none of the processes runs; returns those still running after `timeoutMs`. */
export async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isRunning);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A search small enough for a test: 4 candidates x 2 generations on 16x16 images. */
export const QUEUE_SEARCH_RECIPE = `seed: 11
backend: wasm
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 128
  test_limit: 16
  validation_fraction: 0.25
  input_resolution_px: 16
search_space:
  stem: { channels: [8, 12], stride: 1 }
  stages:
    - { block: mbv2, depth: [1, 2], channels: [12, 16], expansion: [2, 3], kernel_size: 3, stride: 2 }
sparsity:
  global_target: [0.25, 0.5, 0.75]
  block_sizes: [1, 4]
search:
  population: 4
  generations: 2
  parents: 2
  finalists: 2
  recalibration_images: 32
  validation_images: 24
training:
  supernas: { epochs: 1, batch_size: 32, learning_rate: 0.01 }
`;
