/**
 * A candidate's INT8 accuracy, as the search's finalists are ranked: pruned
 * one-shot and recalibrated exactly as for its float accuracy, exported,
 * quantized (activation ranges from the first calibration images, min-max)
 * and run by the reference interpreter on the same validation images. Every
 * variable it changes is restored afterwards.
 */
import type { ImageDataset } from "../datasets/image-dataset.js";
import { type ChannelStatistics, normalizeImages } from "../datasets/normalize.js";
import { argmax } from "../evaluation/evaluation-images.js";
import { runInt8 } from "../interpreter/run.js";
import { pruneOneShot } from "../pruning/one-shot.js";
import { quantizeInput, quantizeModel } from "../quantize/quantize-model.js";
import { withRestoredVariables } from "../supernet/parameter-state.js";
import { recalibrateBatchNorm } from "../supernet/recalibrate.js";
import type { AssessmentContext } from "./assess-candidate.js";
import { blockSizesOf, type Candidate } from "./candidate.js";

/** Images whose activation ranges calibrate the quantization of a finalist. */
export const FINALIST_CALIBRATION_IMAGES = 32;

function floatImage(set: ImageDataset, index: number, normalization: ChannelStatistics) {
  const size = set.height * set.width * set.channels;
  return normalizeImages(
    set.images.subarray(index * size, (index + 1) * size),
    set.channels,
    normalization,
  );
}

export function measureInt8Accuracy(context: AssessmentContext, candidate: Candidate): number {
  const evaluation = context.evaluation;
  if (evaluation === undefined) throw new Error("measuring INT8 accuracy needs validation images");
  const { supernet } = context;
  const network = supernet.subnet(candidate.architecture);
  return withRestoredVariables(supernet.parameters.all(), () => {
    pruneOneShot(network.layers(), candidate.layers);
    recalibrateBatchNorm(network, {
      images: evaluation.recalibration,
      normalization: evaluation.normalization,
    });
    const floatModel = network.exportModel({ blockSizes: blockSizesOf(candidate) });
    const calibration = Array.from(
      { length: Math.min(FINALIST_CALIBRATION_IMAGES, evaluation.recalibration.count) },
      (_, i) => floatImage(evaluation.recalibration, i, evaluation.normalization),
    );
    const int8Model = quantizeModel(floatModel, calibration);
    const { validation } = evaluation;
    let correct = 0;
    for (let i = 0; i < validation.count; i++) {
      const input = quantizeInput(int8Model, floatImage(validation, i, evaluation.normalization));
      const output = runInt8(int8Model, input).outputs[0];
      if (output !== undefined && argmax(output) === validation.labels[i]) correct++;
    }
    return correct / validation.count;
  });
}
