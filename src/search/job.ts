/**
 * The search's job description: everything an assessment depends on besides
 * the candidate, as plain JSON, so the same job runs in this process, in a
 * worker process (worker-executor.ts), or on a remote worker later. Inputs
 * travel as files named by path and content digest, never as large payloads.
 *
 *   job setup (checkpoint digest, dataset, fixed image counts, budgets)
 *     + candidate  ─►  assessment (predicted resources, accuracy)
 *
 * `loadAssessmentContext` turns a setup into the in-memory context; the stage
 * and every worker build theirs with it, so they assess identically.
 */
import { join } from "node:path";
import type { SearchSpace } from "../blocks/search-space.js";
import type { ImageDataset } from "../datasets/image-dataset.js";
import { type ChannelStatistics, normalizeImages } from "../datasets/normalize.js";
import type { EstimateBoard } from "../resources/index.js";
import type { TrainingBackendName } from "../training/backend.js";
import type { AssessmentContext } from "./assess-candidate.js";
import type { ResourceBudgets } from "./budgets.js";

export interface SearchJobSetup {
  readonly format: "tinyformer-search-job-1";
  /** The backend the coordinator trains on: assessments must run on the same one. */
  readonly backend: TrainingBackendName;
  /** The supernet checkpoint (docs/checkpoint-format.md) and its weights' SHA-256. */
  readonly checkpoint: { readonly directory: string; readonly weightsSha256: string };
  /** The dataset stage's outputs. */
  readonly datasetDirectory: string;
  readonly searchSpace: SearchSpace;
  readonly seed: number;
  readonly normalization: ChannelStatistics;
  readonly budgets: ResourceBudgets;
  /** The board the predictions are for (name and compiler flags, for the tables' provenance). */
  readonly board: EstimateBoard;
  /** The first N validation images (0 = all). */
  readonly validationImages: number;
  readonly recalibrationImages: number;
}

/** Images the quantizer calibrates on while predicting resources (sizes do not depend on them). */
export const PREDICTION_CALIBRATION_IMAGES = 2;

export interface LoadedAssessmentContext {
  readonly context: AssessmentContext;
  dispose(): void;
}

/**
 * Builds the assessment context of a job: the backend, the supernet restored
 * from its checkpoint (whose digest must match), the fixed validation subset
 * and recalibration images. Loads tfjs.
 */
export async function loadAssessmentContext(
  setup: SearchJobSetup,
): Promise<LoadedAssessmentContext> {
  const [
    { createTrainingBackend },
    { loadDatasetArtifacts },
    { createSupernet },
    checkpoint,
    { selectRecalibrationImages },
  ] = await Promise.all([
    import("../training/backend.js"),
    import("../datasets/artifacts.js"),
    import("../blocks/network.js"),
    import("../training/checkpoint.js"),
    import("../supernet/recalibration-images.js"),
  ]);
  await createTrainingBackend({ backend: setup.backend });
  const dataset = await loadDatasetArtifacts(setup.datasetDirectory);
  const restored = await checkpoint.loadCheckpoint(setup.checkpoint.directory);
  if (restored.manifest.weightsSha256 !== setup.checkpoint.weightsSha256) {
    throw new Error(
      `${join(setup.checkpoint.directory, restored.manifest.weightsFile)}: weights digest ${restored.manifest.weightsSha256} is not the job's ${setup.checkpoint.weightsSha256}`,
    );
  }
  const supernet = createSupernet(setup.searchSpace, {
    classes: dataset.manifest.classNames.length,
    inputResolution: dataset.manifest.image.height,
    seed: setup.seed,
  });
  try {
    checkpoint.restoreCheckpoint(restored, { parameters: supernet.parameters });
    const context = createAssessmentContext({
      supernet,
      budgets: setup.budgets,
      board: setup.board,
      normalization: setup.normalization,
      train: requireSplit(dataset.splits.train, "training"),
      validation: requireSplit(dataset.splits.validation, "validation"),
      validationImages: setup.validationImages,
      recalibration: selectRecalibrationImages(requireSplit(dataset.splits.train, "training"), {
        count: setup.recalibrationImages,
        seed: setup.seed,
      }),
    });
    return { context, dispose: () => supernet.dispose() };
  } catch (error) {
    supernet.dispose();
    throw error;
  }
}

function requireSplit<T>(split: T | undefined, name: string): T {
  if (split === undefined) throw new Error(`the dataset has no ${name} split`);
  return split;
}

/** The context from loaded pieces (shared by the stage, which has them already, and workers). */
export function createAssessmentContext(pieces: {
  readonly supernet: AssessmentContext["supernet"];
  readonly budgets: ResourceBudgets;
  readonly board?: EstimateBoard;
  readonly normalization: ChannelStatistics;
  readonly train: ImageDataset;
  readonly validation: ImageDataset;
  readonly validationImages: number;
  readonly recalibration: ImageDataset;
}): AssessmentContext {
  const { validation } = pieces;
  const count =
    pieces.validationImages === 0
      ? validation.count
      : Math.min(pieces.validationImages, validation.count);
  const subset: typeof validation = {
    ...validation,
    count,
    images: validation.images.subarray(
      0,
      count * validation.height * validation.width * validation.channels,
    ),
    labels: validation.labels.subarray(0, count),
  };
  return {
    supernet: pieces.supernet,
    budgets: pieces.budgets,
    ...(pieces.board === undefined ? {} : { board: pieces.board }),
    calibrationInputs: calibrationInputsOf(pieces.recalibration, pieces.normalization),
    evaluation: {
      validation: subset,
      recalibration: pieces.recalibration,
      normalization: pieces.normalization,
    },
  };
}

/** The first recalibration images as the quantizer's float inputs. */
function calibrationInputsOf(
  images: ImageDataset,
  normalization: ChannelStatistics,
): Float32Array[] {
  const size = images.height * images.width * images.channels;
  const count = Math.min(PREDICTION_CALIBRATION_IMAGES, images.count);
  return Array.from({ length: count }, (_, i) =>
    normalizeImages(
      images.images.subarray(i * size, (i + 1) * size),
      images.channels,
      normalization,
    ),
  );
}
