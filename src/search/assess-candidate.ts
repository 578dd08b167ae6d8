/**
 * Assessing one candidate against a trained supernet — the search's unit of
 * work, a pure function of (supernet weights, candidate, fixed images,
 * budgets):
 *
 *   prune its layers one-shot by magnitude ─► export the float IR ─► quantize
 *   ─► predict flash, SRAM, instructions ─► over a budget? rejected, not
 *   evaluated : recalibrate batch norm on fixed training images ─► accuracy on
 *   the fixed validation subset
 *
 * Every variable the assessment changes (pruned weights, running statistics)
 * is restored afterwards, so assessments do not depend on their order.
 */
import type { Network, Supernet } from "../blocks/network.js";
import type { ImageDataset } from "../datasets/image-dataset.js";
import type { ChannelStatistics } from "../datasets/normalize.js";
import { pruneOneShot } from "../pruning/one-shot.js";
import { quantizeModel } from "../quantize/quantize-model.js";
import type { EstimateBoard, ResourceEstimate } from "../resources/index.js";
import { withRestoredVariables } from "../supernet/parameter-state.js";
import { recalibrateBatchNorm } from "../supernet/recalibrate.js";
import { evaluateNetwork } from "../training/loop.js";
import { findBudgetViolations, type ResourceBudgets } from "./budgets.js";
import { blockSizesOf, type Candidate } from "./candidate.js";
import type { Assessment, ResourcePrediction } from "./evolution.js";
import { estimateModelResources, summarizeEstimate } from "./resources.js";

export interface AssessmentContext {
  readonly supernet: Supernet;
  readonly budgets: ResourceBudgets;
  /** The board estimates are for (their tables' provenance is checked against it). */
  readonly board?: EstimateBoard;
  /** Float inputs (normalised, NHWC) the quantizer calibrates on; sizes do not depend on them. */
  readonly calibrationInputs: readonly Float32Array[];
  /** Absent: predict only (the configuration check before any training). */
  readonly evaluation?: {
    readonly validation: ImageDataset;
    readonly recalibration: ImageDataset;
    readonly normalization: ChannelStatistics;
  };
}

/** The estimate of the candidate pruned one-shot from the current weights (the caller restores them). */
function estimatePruned(
  context: AssessmentContext,
  network: Network,
  candidate: Candidate,
): ResourceEstimate {
  pruneOneShot(network.layers(), candidate.layers);
  const floatModel = network.exportModel({ blockSizes: blockSizesOf(candidate) });
  return estimateModelResources(
    quantizeModel(floatModel, context.calibrationInputs),
    context.board,
  );
}

/** The full resource estimate of a candidate (per layer): what the report shows for the chosen one. */
export function estimateCandidate(
  context: AssessmentContext,
  candidate: Candidate,
): ResourceEstimate {
  const network = context.supernet.subnet(candidate.architecture);
  return withRestoredVariables(context.supernet.parameters.all(), () =>
    estimatePruned(context, network, candidate),
  );
}

export function assessCandidate(context: AssessmentContext, candidate: Candidate): Assessment {
  const { supernet } = context;
  const network = supernet.subnet(candidate.architecture);
  return withRestoredVariables(supernet.parameters.all(), (): Assessment => {
    const predicted: ResourcePrediction = summarizeEstimate(
      estimatePruned(context, network, candidate),
    );
    const violations = findBudgetViolations(predicted, context.budgets);
    const evaluation = context.evaluation;
    if (violations.length > 0 || evaluation === undefined)
      return { predicted, violations, accuracy: null };
    recalibrateBatchNorm(network, {
      images: evaluation.recalibration,
      normalization: evaluation.normalization,
    });
    const { accuracy } = evaluateNetwork(network, evaluation.validation, evaluation.normalization);
    return { predicted, violations, accuracy };
  });
}
