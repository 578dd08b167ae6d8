/**
 * What one replica of a data-parallel training step computes on its shard of
 * the batch: the same gradient functions the single-process steps use
 * (`computeStepGradients`, `computeSandwichGradients`,
 * `computeDistillationGradients`), chosen by a plain-data description so the
 * step can be sent to a worker thread. The update itself is not here: it is
 * applied once, on the summed gradients, by the trainer.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { Supernet } from "../blocks/network.js";
import type { ArchitectureChoice } from "../blocks/search-space.js";
import type { VariableRegion } from "../blocks/types.js";
import { computeDistillationGradients } from "../supernet/distillation-step.js";
import { computeSandwichGradients } from "../supernet/sandwich-step.js";
import { computeStepGradients, type StepGradients } from "../training/loop.js";

/** One step's kind of gradient, as plain data (structured-clonable). */
export type ReplicaStep =
  /** One sub-network on the labels (a fixed network, or fine-tuning without a teacher). */
  | { readonly kind: "single"; readonly choice: ArchitectureChoice }
  /** The sandwich rule over these sub-networks, the largest first (supernet training). */
  | {
      readonly kind: "sandwich";
      readonly choices: readonly ArchitectureChoice[];
      readonly distillation: boolean;
    }
  /** One sub-network learning from the labels and a frozen teacher's predictions (fine-tuning). */
  | {
      readonly kind: "distillation";
      readonly choice: ArchitectureChoice;
      readonly teacherChoice: ArchitectureChoice;
    };

/** The networks a replica holds: the supernet it trains and, for distillation, a frozen teacher. */
export interface ReplicaNetworks {
  readonly supernet: Supernet;
  readonly teacher?: Supernet;
}

export interface ReplicaGradients extends StepGradients {
  /** For a sandwich step: the regions its sub-networks read (the update masks). */
  readonly regions?: readonly VariableRegion[];
}

/** The gradients of `step` on one shard. Call inside a `tidy`. */
export function computeReplicaGradients(
  networks: ReplicaNetworks,
  step: ReplicaStep,
  images: tf.Tensor4D,
  labels: tf.Tensor2D,
  labelSmoothing: number,
): ReplicaGradients {
  switch (step.kind) {
    case "single":
      return computeStepGradients({
        network: networks.supernet.subnet(step.choice),
        images,
        labels,
        labelSmoothing,
      });
    case "sandwich":
      return computeSandwichGradients({
        supernet: networks.supernet,
        images,
        labels,
        labelSmoothing,
        choices: step.choices,
        distillation: step.distillation,
      });
    case "distillation": {
      const teacher = networks.teacher;
      if (teacher === undefined) throw new Error("a distillation step needs a teacher network");
      const teacherNetwork = teacher.subnet(step.teacherChoice);
      return computeDistillationGradients(
        { network: networks.supernet.subnet(step.choice), images, labels, labelSmoothing },
        (x) => teacherNetwork.apply(x, { training: false }),
      );
    }
    default:
      throw new Error(`unknown replica step ${JSON.stringify(step satisfies never)}`);
  }
}
