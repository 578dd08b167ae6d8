/**
 * Headless Chromium driven over the Chrome DevTools Protocol on a pipe
 * (`--remote-debugging-pipe`: JSON messages separated by NUL bytes, the
 * browser reading on fd 3 and writing on fd 4), so tests need no client
 * package and no port. scripts/setup.sh installs Debian's `chromium`; where
 * none is found, tests that need one skip and say so.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { findExecutable, isExecutable } from "./local-executables.js";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** The browser to use: $CHROMIUM, or the first of the usual names on PATH. */
export function findChromium(): string | undefined {
  const configured = process.env.CHROMIUM;
  if (configured !== undefined && configured !== "")
    return isExecutable(configured) ? configured : undefined;
  return findExecutable(CANDIDATES);
}

/** `skip` for browser tests: false when a browser is there, else why the test does not run. */
export const needsChromium: string | false =
  findChromium() === undefined
    ? "not run: no Chromium found (set CHROMIUM or install it: scripts/setup.sh does), so report.html was not checked in a browser"
    : false;

export interface ProtocolEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

export interface Browser {
  /** Sends a command (to a page when `sessionId` is given) and resolves with its result. */
  send<T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
    sessionId?: string,
  ): Promise<T>;
  /** Every event received so far, in order (events keep arriving). */
  readonly events: readonly ProtocolEvent[];
  /** Resolves with the first event (from now on or already received) that matches. */
  waitFor(match: (event: ProtocolEvent) => boolean, timeoutMs?: number): Promise<ProtocolEvent>;
  /** The browser's standard error so far (for failure messages). */
  stderr(): string;
  close(): Promise<void>;
}

export async function launchChromium(
  executable: string,
  options: { width: number; height: number },
): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "tinyformer-chromium-"));
  const child: ChildProcess = spawn(
    executable,
    [
      "--headless",
      "--disable-gpu",
      "--no-sandbox",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--mute-audio",
      `--window-size=${options.width},${options.height}`,
      `--user-data-dir=${profile}`,
      "--remote-debugging-pipe",
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  let errors = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    errors = (errors + chunk).slice(-20_000);
  });
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  const events: ProtocolEvent[] = [];
  const waiters = new Set<{
    match: (event: ProtocolEvent) => boolean;
    resolve: (e: ProtocolEvent) => void;
  }>();
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let buffered = "";
  let exited: Error | undefined;
  const failAll = (error: Error) => {
    exited = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  child.on("exit", (code, signal) =>
    failAll(new Error(`chromium exited (${signal ?? code}):\n${errors.slice(-2000)}`)),
  );
  child.on("error", failAll);
  output.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf("\0");
    while (end >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      } & Partial<ProtocolEvent>;
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf("\0");
      if (message.id !== undefined) {
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) call?.reject(new Error(message.error.message));
        else call?.resolve(message.result);
      } else if (message.method !== undefined) {
        const event: ProtocolEvent = {
          method: message.method,
          params: message.params ?? {},
          ...(message.sessionId === undefined ? {} : { sessionId: message.sessionId }),
        };
        events.push(event);
        for (const waiter of waiters)
          if (waiter.match(event)) {
            waiters.delete(waiter);
            waiter.resolve(event);
          }
      }
    }
  });

  const browser: Browser = {
    events,
    stderr: () => errors,
    send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
      if (exited !== undefined) return Promise.reject(exited);
      const id = nextId++;
      const promise = new Promise<T>((resolve, reject) =>
        pending.set(id, { resolve: resolve as (r: unknown) => void, reject }),
      );
      input.write(
        `${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`,
      );
      return promise;
    },
    waitFor(match, timeoutMs = 15_000) {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (event: ProtocolEvent) => {
            clearTimeout(timer);
            resolve(event);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching browser event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async close() {
      if (exited === undefined) {
        const gone = new Promise((resolve) => child.once("exit", resolve));
        await browser.send("Browser.close").catch(() => {});
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await gone;
        clearTimeout(timer);
      }
      await rm(profile, { recursive: true, force: true });
    },
  };
  return browser;
}
