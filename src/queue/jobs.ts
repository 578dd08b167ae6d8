/**
 * What travels through the queue. A job's data is small JSON: a search
 * assessment names its job setup by digest (the setup itself is stored once
 * in Redis, see queue-executor.ts) and carries the candidate; a `sleep` job
 * is the synthetic, wall-time-bound job the tests and the benchmark measure
 * the queue with. Results are small JSON too (an assessment is three
 * predicted figures and an accuracy).
 *
 * Job ids are content digests, so submitting the same work twice (a
 * duplicate candidate, a restarted coordinator) finds the job already queued,
 * running or done instead of running it again.
 */
import { canonicalJson } from "../graph-runner/canonical-json.js";
import { digestText } from "../graph-runner/digest.js";
import type { Candidate } from "../search/candidate.js";

export type QueueJobData =
  | {
      readonly kind: "search-assess";
      /** The TinyFormer version that submitted it: a worker of another version refuses the job. */
      readonly version: string;
      /** SHA-256 of the setup's identity (its content, not its paths); the setup is in Redis under it. */
      readonly setupDigest: string;
      readonly candidate: Candidate;
    }
  | {
      readonly kind: "sleep";
      readonly ms: number;
      /** Returned as the result. */
      readonly value: unknown;
      /** `deterministic`: the job throws after sleeping (tests of failure handling). */
      readonly fail?: "deterministic";
    };

/** What a worker stores as a job's return value. */
export interface QueueJobResult {
  readonly value: unknown;
  /** The worker that ran it (progress per worker). */
  readonly worker: string;
}

/** What a worker reports while a job runs (BullMQ job progress). */
export interface QueueJobProgress {
  readonly worker: string;
}

/** Job id of a search assessment: digest of (setup digest, candidate). */
export function searchJobId(setupDigest: string, candidate: Candidate): string {
  return `assess-${digestText(canonicalJson({ setup: setupDigest, candidate }))}`;
}

/** One line for a worker's log. */
export function describeJob(data: QueueJobData): string {
  if (data.kind === "sleep") return `sleep ${data.ms} ms`;
  const blocks = data.candidate.layers.filter((layer) => layer.blockSize !== null).length;
  return `assess a candidate (${data.candidate.layers.length} layers, ${blocks} pruned) of setup ${data.setupDigest.slice(0, 12)}`;
}
