/**
 * Who owns a lock or a pin: pid, host and the process's start time. A pid
 * alone is not enough: after a crash the pid may belong to an unrelated
 * process (pids are reused), and on a cache shared between machines a pid
 * means nothing on another host.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Start time in clock ticks since boot (Linux `/proc/<pid>/stat`); absent elsewhere. */
  start?: string;
}

let current: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  if (current === undefined) {
    const start = processStart(process.pid);
    current = { pid: process.pid, host: hostname(), ...(start === undefined ? {} : { start }) };
  }
  return current;
}

/**
 * False only when the owner is certainly gone: same host, and no process
 * with that pid, or one that started at another time. An owner on another
 * host is assumed alive (its liveness cannot be checked from here).
 */
export function isAlive(owner: ProcessIdentity): boolean {
  if (owner.host !== currentProcess().host) return true;
  if (!isProcessAlive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const start = processStart(owner.pid);
  return start === undefined || start === owner.start;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Field 22 of `/proc/<pid>/stat` (after the parenthesised command name, which may hold spaces). */
function processStart(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Parses an identity written by `currentProcess`; undefined for anything else. */
export function parseProcessIdentity(value: unknown): ProcessIdentity | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { pid, host, start } = value as Record<string, unknown>;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof host !== "string") return undefined;
  return { pid, host, ...(typeof start === "string" ? { start } : {}) };
}
