/**
 * Why a queued job failed, sorted into what resubmitting can cure and what it
 * cannot. Workers prefix the reasons they raise; BullMQ's own reasons (a job
 * stalled too often, a lost lock, a dropped connection) are transient.
 *
 * - transient: the worker or its sandbox died, the job stalled (its worker
 *   was killed or starved), the lock or the connection was lost, or the job
 *   was cancelled by another coordinator: run it again.
 * - deterministic: the job itself threw (an assessment error, a bad setup):
 *   running it again gives the same error, so the build fails with it.
 */
export type FailureClass = "transient" | "deterministic" | "cancelled";

export const TRANSIENT_PREFIX = "transient: ";
export const DETERMINISTIC_PREFIX = "deterministic: ";
export const CANCELLED_REASON = "cancelled";

const TRANSIENT_PATTERNS = [
  /stalled more than allowable limit/i,
  /missing lock/i,
  /lock mismatch/i,
  /could not renew lock/i,
  /connection (is )?closed/i,
  /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE/,
  /worker (is )?closing/i,
];

export function classifyFailure(reason: string): FailureClass {
  if (reason === CANCELLED_REASON) return "cancelled";
  if (reason.startsWith(TRANSIENT_PREFIX)) return "transient";
  if (reason.startsWith(DETERMINISTIC_PREFIX)) return "deterministic";
  return TRANSIENT_PATTERNS.some((pattern) => pattern.test(reason)) ? "transient" : "deterministic";
}

/** The reason without its class prefix, for messages. */
export function failureMessage(reason: string): string {
  for (const prefix of [TRANSIENT_PREFIX, DETERMINISTIC_PREFIX])
    if (reason.startsWith(prefix)) return reason.slice(prefix.length);
  return reason;
}
