/** Messages between the search and its worker processes (worker-main.ts). */
import type { Candidate } from "./candidate.js";
import type { Assessment } from "./evolution.js";
import type { SearchJobSetup } from "./job.js";

export type ToWorker =
  | { readonly kind: "setup"; readonly setup: SearchJobSetup }
  | { readonly kind: "assess"; readonly id: number; readonly candidate: Candidate };

export type FromWorker =
  | { readonly kind: "ready" }
  | { readonly kind: "assessed"; readonly id: number; readonly assessment: Assessment }
  | { readonly kind: "failed"; readonly id: number | null; readonly message: string };
