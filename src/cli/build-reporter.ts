/**
 * Renders build and watch events as terminal lines. The runner only emits
 * events; this is the one place that decides how they read.
 */
import { displayPath } from "../config/display-path.js";
import type { BuildEvent } from "../graph-runner/events.js";
import type { WatchEvent } from "../graph-runner/watch.js";
import { ProgressBoard } from "./progress-board.js";
import { unreachable } from "./unreachable.js";

export interface ReporterOutput {
  out(line: string): void;
  err(line: string): void;
  /**
   * Present on a terminal: replaces the live lines drawn under the log (one
   * per running stage, with its bar and ETA). Absent (a pipe, CI, a test):
   * plain lines only, and counters are not printed.
   */
  live?(lines: readonly string[]): void;
  /** Columns the live lines may use (the terminal's width). */
  readonly columns?: number;
}

/** Redraws at most this often when counters stream in; the clock ticks once a second. */
const REDRAW_EVERY_MS = 100;
const TICK_MS = 1000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/**
 * `normal`: a line per stage and its progress, batches left out; `verbose`:
 * batches too; `quiet`: only problems (failures, damage, warnings) and the
 * closing line of each build.
 */
export type Verbosity = "quiet" | "normal" | "verbose";

/** Events a quiet build does not print: everything that is neither a problem nor the verdict. */
const CHATTY = new Set<string>([
  "stage-cached",
  "stage-start",
  "stage-progress",
  "stage-waiting",
  "stage-done",
  "stage-downloaded",
  "stage-skipped",
  "stage-cancelled",
]);

export function createBuildReporter(
  output: ReporterOutput,
  verbosity: Verbosity = "normal",
  now: () => number = Date.now,
): (event: BuildEvent | WatchEvent) => void {
  let notImplemented: string[] = [];
  // Watch mode: builds are numbered, and one an edit superseded is "restarted", not "FAILED".
  let builds = 0;
  let superseded = false;
  const label = (word: string) => `  ${word.padEnd(9)} `;
  const board = new ProgressBoard(now);
  // Quiet output has no bars; a plain (non-terminal) output has no live lines.
  const live = verbosity === "quiet" ? undefined : output.live?.bind(output);
  let drawnAt = Number.NEGATIVE_INFINITY;
  let ticker: NodeJS.Timeout | undefined;
  const draw = (force: boolean) => {
    if (live === undefined) return;
    if (!force && now() - drawnAt < REDRAW_EVERY_MS) return;
    drawnAt = now();
    live(board.lines(output.columns ?? 100));
    // Elapsed time and ETA move without events: tick while a stage runs.
    if (board.idle && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    } else if (!board.idle && ticker === undefined) {
      ticker = setInterval(() => draw(true), TICK_MS);
      ticker.unref();
    }
  };
  const stageName = (stage: string) => {
    const position = board.position(stage);
    return position === undefined ? stage : `${stage} [${position}]`;
  };
  const print = (event: BuildEvent | WatchEvent) => {
    if (verbosity === "quiet" && CHATTY.has(event.type)) return;
    if (event.type === "stage-progress" && event.level === "detail" && verbosity !== "verbose") {
      return;
    }
    switch (event.type) {
      case "build-start":
        notImplemented = [];
        builds++;
        if (builds > 1 && verbosity !== "quiet") output.out(`build #${builds}`);
        return;
      case "stage-cached":
        output.out(`${label("cached")}${event.stage}`);
        return;
      case "cache-damaged":
        for (const problem of event.problems) {
          const what =
            problem.output === ""
              ? `cache entry ${problem.digest.slice(0, 12)}`
              : `cached output ${problem.output} (object ${problem.digest.slice(0, 12)})`;
          output.err(`${label("DAMAGED")}${event.stage}: ${what}: ${problem.problem}; evicted`);
        }
        return;
      case "stage-downloaded":
        output.out(
          `${label("remote")}${event.stage} (${(event.bytes / 1e6).toFixed(1)} MB in ${seconds(event.durationMs)})`,
        );
        return;
      case "remote-rejected":
        output.err(
          `${label("REJECTED")}${event.stage}: remote cache entry: ${event.why}; building locally`,
        );
        return;
      case "remote-warning":
        output.err(`warning: ${event.message}`);
        return;
      case "stage-uploaded":
      case "stage-counter":
        return;
      case "stage-start": {
        const tools = Object.entries(event.tools).map(([name, version]) => `${name} ${version}`);
        output.out(
          `${label("run")}${stageName(event.stage)}: ${event.reason}${tools.length > 0 ? ` [${tools.join("; ")}]` : ""}`,
        );
        return;
      }
      case "stage-progress":
        output.out(`${label("")}${event.stage}: ${event.message}`);
        return;
      case "stage-waiting":
        output.out(`${label("waiting")}${event.stage}: another build is producing the same result`);
        return;
      case "stage-done":
        output.out(
          `${label("built")}${event.stage} (${seconds(event.durationMs)}, ${event.outputs} output files)`,
        );
        return;
      case "stage-failed":
        output.err(`${label("FAILED")}${event.stage}: ${event.error}`);
        return;
      case "stage-cancelled":
        output.out(`${label("cancelled")}${event.stage}`);
        return;
      case "stage-skipped":
        output.out(`${label("skipped")}${event.stage}: ${event.reason}`);
        return;
      case "stage-not-implemented":
        notImplemented.push(event.stage);
        return;
      case "build-done": {
        if (notImplemented.length > 0) {
          output.out(`  not implemented yet (nothing produced): ${notImplemented.join(", ")}`);
        }
        const counts = new Map<string, number>();
        for (const outcome of Object.values(event.result.outcomes)) {
          counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
        }
        const summary = ["built", "cached", "failed", "cancelled", "skipped"]
          .filter((outcome) => counts.has(outcome))
          .map((outcome) => `${counts.get(outcome)} ${outcome}`)
          .join(", ");
        const failed = Object.values(event.result.outcomes).includes("failed");
        const verdict = event.result.ok
          ? "done"
          : superseded && !failed
            ? "restarted after an edit"
            : "FAILED";
        superseded = false;
        output.out(
          `${verdict} in ${seconds(event.result.durationMs)}${summary === "" ? "" : `: ${summary}`}`,
        );
        return;
      }
      case "watch-ready":
        output.out(
          `watching ${event.paths.length} paths; edit the recipe or an input to rebuild (Ctrl-C stops)`,
        );
        return;
      case "watch-change":
        output.out(`\nchanged: ${event.paths.map(displayPath).join(", ")}`);
        return;
      case "watch-invalid":
        for (const problem of event.problems) output.err(problem);
        output.err("configuration is invalid; still watching, fix it to rebuild");
        return;
      case "watch-restart":
        if (event.cancelled.length > 0) {
          superseded = true;
          output.out(`  restarting from: ${event.cancelled.join(", ")}`);
        }
        return;
      case "watch-idle":
        output.out("waiting for changes...");
        return;
      default:
        unreachable(event);
    }
  };
  return (event) => {
    const changed = follow(board, event);
    if (event.type === "stage-counter") {
      draw(false);
      return;
    }
    // The live lines first, so a printed line (which the terminal output
    // draws them again under) never brings back a stage that just ended.
    if (changed) draw(true);
    print(event);
  };
}

/** Keeps the board in step with the build: who runs, and how far. True when it changed. */
function follow(board: ProgressBoard, event: BuildEvent | WatchEvent): boolean {
  switch (event.type) {
    case "build-start":
      board.start(event.stages);
      return true;
    case "stage-start":
      board.stageStarted(event.stage);
      return true;
    case "stage-waiting":
      board.stageWaiting(event.stage);
      return true;
    case "stage-counter":
      board.count(event.stage, event.done, event.total, event.unit, event.label);
      return true;
    case "stage-cached":
    case "stage-downloaded":
    case "stage-done":
    case "stage-failed":
    case "stage-cancelled":
    case "stage-skipped":
      board.stageEnded(event.stage);
      return true;
    default:
      return false;
  }
}
