/**
 * Stops calling a remote that keeps failing: after `threshold` failures in a
 * row the circuit opens and calls are skipped for a back-off period (doubling
 * up to a ceiling); the first call after it is a trial, whose success closes
 * the circuit again. A build with an unreachable remote then costs a few
 * timeouts, not one per stage.
 */
export interface CircuitBreakerOptions {
  threshold?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #now: () => number;
  #failures = 0;
  #backoffMs: number;
  #openUntil = 0;
  #opened = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.threshold ?? 3;
    this.#initialBackoffMs = options.backoffMs ?? 30_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#backoffMs = this.#initialBackoffMs;
  }

  /** False while the circuit is open: skip the call. */
  allows(): boolean {
    return this.#now() >= this.#openUntil;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#backoffMs = this.#initialBackoffMs;
  }

  /** Records a failure; true when this one opened the circuit. */
  failed(): boolean {
    this.#failures++;
    if (this.#failures < this.#threshold) return false;
    this.#openUntil = this.#now() + this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
    // The trial call after the back-off reopens the circuit if it fails too.
    this.#failures = this.#threshold - 1;
    this.#opened++;
    return true;
  }

  /** How many times the circuit has opened. */
  get timesOpened(): number {
    return this.#opened;
  }
}
