/**
 * A worker slot's sandbox: the child process a queued job runs in, so the
 * worker's own event loop stays free to renew BullMQ's job locks however
 * long and CPU-bound the job is (a CPU-bound processor in the worker's loop
 * loses its lock and its job runs twice).
 *
 * The child is started in its own process group, under `setpriv --pdeathsig
 * KILL` where util-linux provides it, so the kernel kills it the moment the
 * worker dies, even by `kill -9`; it also exits when its IPC channel closes
 * and when its parent process id changes (sandbox-main.ts). Cancelling a job
 * kills the child's whole process group at once (a job may be in the middle
 * of a synchronous computation that no message could interrupt); the next
 * job starts a new child.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { QueueJobData } from "./jobs.js";

const SANDBOX_MAIN = fileURLToPath(new URL("./sandbox-main.js", import.meta.url));
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => existsSync(path));

export type ToSandbox = {
  readonly kind: "run";
  readonly id: string;
  readonly job: QueueJobData;
  /** The job setup a search assessment names (parsed JSON), fetched by the worker. */
  readonly setup?: unknown;
};

export type FromSandbox =
  | { readonly kind: "done"; readonly id: string; readonly value: unknown }
  | { readonly kind: "failed"; readonly id: string; readonly message: string };

/** The job threw: running it again would throw again. */
export class JobError extends Error {
  override name = "JobError";
}

/** The sandbox died under the job (killed, out of memory, crashed): worth running again. */
export class SandboxExitError extends Error {
  override name = "SandboxExitError";
}

export class SandboxSlot {
  private child: ChildProcess | undefined;
  private stderr = "";

  /** The running child's process id (tests look for orphans by it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  constructor(private readonly onSpawn?: (pid: number) => void) {}

  private start(): ChildProcess {
    const command = SETPRIV ?? process.execPath;
    const args = [
      ...(SETPRIV === undefined ? [] : ["--pdeathsig", "KILL", "--", process.execPath]),
      SANDBOX_MAIN,
    ];
    const child = spawn(command, args, {
      detached: true,
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, TINYFORMER_SANDBOX_PARENT: String(process.pid) },
    });
    this.stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-2000);
    });
    // The worker must not wait for its sandboxes to exit.
    child.unref();
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    if (child.pid !== undefined) this.onSpawn?.(child.pid);
    return child;
  }

  /** Starts the child now if none runs (so its process id is known before the job). */
  ensureStarted(): void {
    if (this.child === undefined) this.start();
  }

  /** Runs one job; rejects with JobError, SandboxExitError or the signal's reason. */
  run(message: ToSandbox, signal: AbortSignal): Promise<unknown> {
    signal.throwIfAborted();
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        child.off("message", onMessage);
        child.off("exit", onExit);
        signal.removeEventListener("abort", onAbort);
      };
      const onMessage = (reply: FromSandbox) => {
        if (reply.id !== message.id) return;
        cleanup();
        if (reply.kind === "done") resolve(reply.value);
        else reject(new JobError(reply.message));
      };
      const onExit = (code: number | null, signalName: NodeJS.Signals | null) => {
        cleanup();
        const tail = this.stderr.trim();
        reject(
          new SandboxExitError(
            `the sandbox exited (${signalName ?? `code ${code}`}) while running the job${tail === "" ? "" : `: ${tail}`}`,
          ),
        );
      };
      const onAbort = () => {
        cleanup();
        this.kill();
        reject(signal.reason);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      signal.addEventListener("abort", onAbort, { once: true });
      child.send(message, (error) => {
        if (error) onExit(null, null);
      });
    });
  }

  /** Kills the child's process group now (SIGKILL): nothing it started keeps running. */
  kill(): void {
    const child = this.child;
    this.child = undefined;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
}
