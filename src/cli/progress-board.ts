/**
 * What a terminal shows while a build runs: one line per running stage with
 * its place in the build (stage i/N), a bar, k/N of what it counts, the
 * phase it is in, the time it has run and an estimate of the time left.
 *
 * Pure state and text: it knows nothing of terminals (live-output.ts draws
 * it) and takes the clock as a function, so tests can drive time.
 */

interface Counter {
  done: number;
  total: number;
  unit: string;
  label: string | undefined;
  /** First observation of this phase, for the rate behind the estimate. */
  since: { at: number; done: number };
}

interface RunningStage {
  readonly name: string;
  readonly startedAt: number;
  counter: Counter | undefined;
  /** `waiting` while another build produces the same result. */
  waiting: boolean;
}

/** Seconds of a phase before its estimate is shown (the first batches include warm-up). */
const ESTIMATE_AFTER_MS = 3000;
const BAR_WIDTH = 20;

/** `45 s`, `3m 05s`, `1h 02m`: durations as a person reads them, never negative. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** A bar of `width` cells, `fraction` of them full. */
export function renderBar(fraction: number, width = BAR_WIDTH): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${"█".repeat(full)}${"░".repeat(width - full)}`;
}

/**
 * Time left at the rate observed since the phase's first observation, or
 * undefined while there is too little to go on.
 */
export function estimateRemainingMs(counter: Counter, now: number): number | undefined {
  const elapsed = now - counter.since.at;
  const progressed = counter.done - counter.since.done;
  if (elapsed < ESTIMATE_AFTER_MS || progressed <= 0) return undefined;
  return (elapsed / progressed) * Math.max(0, counter.total - counter.done);
}

export class ProgressBoard {
  #order: readonly string[] = [];
  readonly #running = new Map<string, RunningStage>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A build over these stages (dependency order) began; forgets the last one. */
  start(stages: readonly string[]): void {
    this.#order = stages;
    this.#running.clear();
  }

  /** `3/10`: the stage's place in the build, when it is one of the build's stages. */
  position(stage: string): string | undefined {
    const index = this.#order.indexOf(stage);
    return index < 0 ? undefined : `${index + 1}/${this.#order.length}`;
  }

  stageStarted(stage: string): void {
    this.#running.set(stage, {
      name: stage,
      startedAt: this.#now(),
      counter: undefined,
      waiting: false,
    });
  }

  stageWaiting(stage: string): void {
    const running = this.#running.get(stage);
    if (running === undefined) {
      this.stageStarted(stage);
      this.stageWaiting(stage);
      return;
    }
    running.waiting = true;
  }

  /** Done, failed, cancelled or cached: the stage leaves the board. */
  stageEnded(stage: string): void {
    this.#running.delete(stage);
  }

  count(stage: string, done: number, total: number, unit: string, label?: string): void {
    const running = this.#running.get(stage);
    if (running === undefined) return;
    const now = this.#now();
    const previous = running.counter;
    // A new phase (another total or unit, or a count that went back) restarts the rate.
    const samePhase =
      previous !== undefined &&
      previous.total === total &&
      previous.unit === unit &&
      done >= previous.done;
    running.counter = {
      done,
      total,
      unit,
      label,
      since: samePhase ? previous.since : { at: now, done },
    };
  }

  get idle(): boolean {
    return this.#running.size === 0;
  }

  /** One line per running stage, in the build's order, each at most `width` columns. */
  lines(width = 100): string[] {
    const now = this.#now();
    const order = (stage: RunningStage) => this.#order.indexOf(stage.name);
    return [...this.#running.values()]
      .sort((a, b) => order(a) - order(b))
      .map((stage) => fitToWidth(this.#line(stage, now), width));
  }

  #line(stage: RunningStage, now: number): string {
    const position = this.position(stage.name);
    const head = `  ${stage.name}${position === undefined ? "" : ` [${position}]`}`;
    const elapsed = formatDuration(now - stage.startedAt);
    if (stage.waiting) return `${head}  waiting for another build (${elapsed})`;
    const counter = stage.counter;
    if (counter === undefined) return `${head}  running (${elapsed})`;
    const remaining = estimateRemainingMs(counter, now);
    const parts = [
      `${head}  ${renderBar(counter.done / counter.total)} ${counter.done}/${counter.total} ${counter.unit}`,
      ...(counter.label === undefined ? [] : [counter.label]),
      elapsed,
      remaining === undefined ? "estimating time left" : `${formatDuration(remaining)} left`,
    ];
    return parts.join(" · ");
  }
}

/** Cuts a line to the terminal's width so a narrow window does not wrap the board. */
function fitToWidth(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}
