/**
 * Renders build and watch events as terminal lines. The runner only emits
 * events; this is the one place that decides how they read.
 */
import { displayPath } from "../config/display-path.js";
import type { BuildEvent } from "../graph-runner/events.js";
import type { WatchEvent } from "../graph-runner/watch.js";
import { unreachable } from "./unreachable.js";

export interface ReporterOutput {
  out(line: string): void;
  err(line: string): void;
}

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
): (event: BuildEvent | WatchEvent) => void {
  let notImplemented: string[] = [];
  // Watch mode: builds are numbered, and one an edit superseded is "restarted", not "FAILED".
  let builds = 0;
  let superseded = false;
  const label = (word: string) => `  ${word.padEnd(9)} `;
  return (event) => {
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
        return;
      case "stage-start": {
        const tools = Object.entries(event.tools).map(([name, version]) => `${name} ${version}`);
        output.out(
          `${label("run")}${event.stage}: ${event.reason}${tools.length > 0 ? ` [${tools.join("; ")}]` : ""}`,
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
}
