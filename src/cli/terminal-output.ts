/**
 * Output for an interactive terminal: log lines scroll as usual while the
 * live lines (progress-board.ts) stay drawn under them, redrawn in place.
 * log-update does the cursor work; this only keeps the live lines under
 * whatever else is written, including stderr.
 */
import { createLogUpdate } from "log-update";
import type { ReporterOutput } from "./build-reporter.js";

export interface TerminalOutput extends ReporterOutput {
  live(lines: readonly string[]): void;
  /** Removes the live lines and shows the cursor again. */
  close(): void;
}

export function createTerminalOutput(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): TerminalOutput {
  const frame = createLogUpdate(stdout);
  let current: readonly string[] = [];
  const redraw = () => {
    if (current.length === 0) frame.clear();
    else frame(current.join("\n"));
  };
  return {
    out(line) {
      // Not frame.persist: it wraps and clips the line to the terminal's
      // size, which drops it outright on a terminal reporting 0 rows.
      frame.clear();
      stdout.write(`${line}\n`);
      redraw();
    },
    err(line) {
      frame.clear();
      stderr.write(`${line}\n`);
      redraw();
    },
    live(lines) {
      current = lines;
      redraw();
    },
    close() {
      current = [];
      frame.clear();
      frame.done();
    },
    get columns() {
      return stdout.columns;
    },
  };
}

/**
 * A live terminal for stdout: a TTY, not a dumb one, not asked to stay plain,
 * and with a size (a pseudo-terminal nobody sized, as under `script` without
 * a terminal of its own, reports 0 x 0: nothing could be drawn in it).
 */
export function wantsLiveOutput(stdout: NodeJS.WriteStream = process.stdout): boolean {
  return (
    stdout.isTTY === true &&
    (stdout.columns ?? 0) > 0 &&
    (stdout.rows ?? 0) > 0 &&
    process.env.TERM !== "dumb" &&
    process.env.CI === undefined
  );
}
