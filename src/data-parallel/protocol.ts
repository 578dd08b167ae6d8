/**
 * Messages between the data-parallel trainer (`trainer.ts`) and its worker
 * threads (`worker-main.ts`). Parameters and results travel through shared
 * memory laid out by `variable-layout.ts`: the trainer writes every variable
 * of the supernet into one shared buffer before a step; each worker writes
 * its gradients (trainable variables) and its updated running statistics
 * (state variables) into a buffer of its own.
 */
import type { NetworkOptions } from "../blocks/network.js";
import type { ArchitectureChoice, SearchSpace } from "../blocks/search-space.js";
import type { ChannelStatistics } from "../datasets/normalize.js";
import type { TrainingBackendName } from "../training/backend.js";
import type { ReplicaStep } from "./replica-step.js";

/** The worker's `workerData`. */
export interface ReplicaSetup {
  readonly backend: TrainingBackendName;
  /** The trainer's backend version: a worker on another one would train different bytes. */
  readonly backendVersion: string;
  readonly searchSpace: SearchSpace;
  /** The supernet's options, with a seed of the replica's own (its dropout stream). */
  readonly networkOptions: NetworkOptions;
  /** A frozen teacher (distillation): its space, options and every variable's values in layout order. */
  readonly teacher?: {
    readonly searchSpace: SearchSpace;
    readonly networkOptions: NetworkOptions;
    readonly values: Float32Array;
  };
  readonly geometry: { readonly height: number; readonly width: number; readonly channels: number };
  readonly classes: number;
  readonly normalization: ChannelStatistics;
  /** Float32 values of every supernet variable, written by the trainer before each step. */
  readonly parameters: SharedArrayBuffer;
  /** Float32, same layout: this worker's gradients and running statistics after a step. */
  readonly results: SharedArrayBuffer;
}

export type ToReplica =
  | {
      readonly kind: "step";
      readonly id: number;
      /** The shard's augmented uint8 NHWC images and labels. */
      readonly images: Uint8Array;
      readonly labels: Uint8Array;
      readonly labelSmoothing: number;
      readonly step: ReplicaStep;
    }
  | {
      /** Summed loss and hits of one sub-network, in evaluation mode, on a share of the images. */
      readonly kind: "evaluate";
      readonly id: number;
      readonly images: Uint8Array;
      readonly labels: Uint8Array;
      readonly choice: ArchitectureChoice;
      readonly batchSize: number;
    }
  | {
      /** Batch-norm recalibration of one sub-network on whole batches; running statistics to the results buffer. */
      readonly kind: "recalibrate";
      readonly id: number;
      readonly images: Uint8Array;
      readonly labels: Uint8Array;
      readonly choice: ArchitectureChoice;
      readonly batchSize: number;
    };

export type FromReplica =
  | { readonly kind: "ready" }
  | {
      readonly kind: "done";
      readonly id: number;
      readonly loss: number;
      readonly accuracy: number;
      /** Layout indices of the variables that got a gradient, ascending. */
      readonly gradients: readonly number[];
    }
  | {
      readonly kind: "evaluated";
      readonly id: number;
      readonly lossSum: number;
      readonly correct: number;
    }
  | { readonly kind: "recalibrated"; readonly id: number }
  | { readonly kind: "failed"; readonly message: string };
