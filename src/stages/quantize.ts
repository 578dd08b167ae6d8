/**
 * The `quantize` stage: turns the float sparse model from `finetune` into
 * the INT8 model IR (per-channel symmetric weights, per-tensor asymmetric
 * activations calibrated on training images, TFLite multipliers), and
 * measures float and INT8 accuracy on the test split.
 *
 * Float accuracy is the float IR model (what the quantizer saw) run on the
 * training backend in batches (`src/evaluation/tfjs-float.ts`): thousands of
 * images a minute instead of the interpreter's tens a second; the backend's
 * identity is therefore a tool of this stage. INT8 accuracy is the reference
 * interpreter's `runInt8` (the oracle verify-host proves the generated C
 * equal to, byte for byte) on worker threads
 * (`src/evaluation/int8-predictions.ts`), so it stays exactly the C engine's
 * figure; the two run at the same time.
 *
 * Inputs:  dataset/manifest.json + *.tfds, finetune/model.json + model.bin (float IR)
 * Outputs: model-int8.json + model-int8.bin (INT8 IR), quantize.json (accuracies,
 *          float and INT8 confusion matrices, per-layer float-vs-INT8 error
 *          on a few calibration images)
 */
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { StageContext } from "../graph-runner/stage.js";
import { createBackendTool } from "../training/backend-tool.js";
import type { StageFactory } from "./index.js";

/** Images used for the per-layer error table: enough to be representative, few enough to be quick. */
const COMPARISON_IMAGES = 8;

export const FLOAT_MODEL_STEM = "model";
export const INT8_MODEL_STEM = "model-int8";
export const QUANTIZE_REPORT = "quantize.json";

export interface QuantizeReport {
  accuracy: { float: number; int8: number; images: number; split: string };
  /**
   * Counts of the evaluated images by true class (row) and predicted class
   * (column), for the float and the INT8 model; classes in label order.
   */
  confusion: { classNames: string[]; float: number[][]; int8: number[][] };
  calibration: { images: number; method: "minmax" | "percentile"; percentile?: number };
  layers: { tensor: string; cosine: number; maxAbs: number; floatMaxAbs: number }[];
}

export const createQuantizeStage: StageFactory = (options) => ({
  implementation: import.meta.url,
  // The float accuracy is measured on the training backend.
  tools: [createBackendTool(options.backend)],
  configKeys: [
    "quantization.calibration_images",
    "quantization.activation_range",
    "quantization.percentile",
    "quantization.evaluation_images",
    "dataset.normalization",
  ],
  async run(context) {
    const [
      { loadDatasetArtifacts },
      { normalizeImages },
      ir,
      { quantizeModel },
      interpreter,
      { createTrainingBackend },
      { predictFloatClasses },
      { predictInt8Classes },
    ] = await Promise.all([
      import("../datasets/artifacts.js"),
      import("../datasets/normalize.js"),
      import("../model-ir/index.js"),
      import("../quantize/index.js"),
      import("../interpreter/index.js"),
      import("../training/backend.js"),
      import("../evaluation/tfjs-float.js"),
      import("../evaluation/int8-predictions.js"),
    ]);
    const config = readConfig(context);
    const dataset = await loadDatasetArtifacts(await linkUpstream(context, "dataset"));
    const loaded = await ir.loadModel(
      join(await linkUpstream(context, "finetune"), FLOAT_MODEL_STEM),
    );
    if (!loaded.ok) {
      const issues = loaded.issues.map((issue) => `  ${issue.path}: ${issue.message}`);
      throw new Error(`finetune produced an invalid float model:\n${issues.join("\n")}`);
    }
    const floatModel = loaded.model;

    const train = dataset.splits.train;
    if (train === undefined) throw new Error("the dataset has no training split to calibrate on");
    const evaluation = dataset.splits.test ?? dataset.splits.validation;
    if (evaluation === undefined) throw new Error("the dataset has no test or validation split");
    const pixels = train.height * train.width * train.channels;
    const toFloat = (images: Uint8Array, index: number) =>
      normalizeImages(
        images.subarray(index * pixels, (index + 1) * pixels),
        train.channels,
        config.normalization,
      );

    const calibrationCount = Math.min(config.calibrationImages, train.count);
    const calibration = Array.from({ length: calibrationCount }, (_, i) =>
      toFloat(train.images, i),
    );
    context.progress(`calibrating on ${calibrationCount} training images (${config.method})`);
    const int8Model = quantizeModel(floatModel, calibration, {
      calibration: { method: config.method, percentile: config.percentile },
    });

    const count =
      config.evaluationImages > 0
        ? Math.min(config.evaluationImages, evaluation.count)
        : evaluation.count;
    // An accuracy over no images is 0 / 0: say which split is empty instead.
    if (count === 0) throw new Error(`the dataset's ${splitName(dataset)} split has no images`);
    const backend = await createTrainingBackend({
      backend: options.backend,
      onWarning: (message) => context.progress(message),
    });
    const workers = Math.max(1, options.evaluationWorkers ?? availableParallelism());
    context.progress(
      `measuring accuracy on ${count} ${splitName(dataset)} images: float on ${backend.version}, INT8 by the interpreter on ${workers} thread${workers === 1 ? "" : "s"}`,
    );
    const images = {
      images: evaluation.images,
      count,
      pixels,
      channels: train.channels,
      normalization: config.normalization,
    };
    const predicted = { float: 0, int8: 0 };
    const reportProgress = () => {
      const done = predicted.float + predicted.int8;
      context.count(done, 2 * count, "predictions", "float and INT8 accuracy");
    };
    // Both evaluations at once: INT8 on worker threads, float on this one.
    // If either fails, the other is stopped.
    const stop = new AbortController();
    const signal = AbortSignal.any([context.signal, stop.signal]);
    const int8Run = predictInt8Classes(int8Model, images, {
      workers,
      signal,
      onProgress: (done) => {
        predicted.int8 = done;
        reportProgress();
      },
    });
    int8Run.catch(() => stop.abort());
    let floatClasses: Int32Array;
    try {
      floatClasses = await predictFloatClasses(backend.tf, floatModel, images, {
        signal,
        onProgress: (done) => {
          predicted.float = done;
          reportProgress();
        },
      });
    } catch (error) {
      stop.abort();
      await int8Run.catch(() => undefined);
      throw error;
    }
    const int8Classes = await int8Run;

    const classNames = [...dataset.manifest.classNames];
    const emptyMatrix = () => classNames.map(() => classNames.map(() => 0));
    const confusion = { classNames, float: emptyMatrix(), int8: emptyMatrix() };
    let floatCorrect = 0;
    let int8Correct = 0;
    for (let i = 0; i < count; i++) {
      const label = evaluation.labels[i] as number;
      const floatClass = floatClasses[i] as number;
      const int8Class = int8Classes[i] as number;
      if (floatClass === label) floatCorrect++;
      if (int8Class === label) int8Correct++;
      count1(confusion.float, label, floatClass);
      count1(confusion.int8, label, int8Class);
    }
    const report: QuantizeReport = {
      accuracy: {
        float: floatCorrect / count,
        int8: int8Correct / count,
        images: count,
        split: splitName(dataset),
      },
      confusion,
      calibration: {
        images: calibrationCount,
        method: config.method,
        ...(config.method === "percentile" ? { percentile: config.percentile } : {}),
      },
      layers: interpreter.compareModels(
        floatModel,
        int8Model,
        calibration.slice(0, COMPARISON_IMAGES),
      ),
    };
    await ir.writeModel(join(context.outDir, INT8_MODEL_STEM), int8Model);
    await writeJson(join(context.outDir, QUANTIZE_REPORT), report);
    context.progress(
      `accuracy on ${count} ${report.accuracy.split} images: float ${percent(report.accuracy.float)}, INT8 ${percent(report.accuracy.int8)}`,
    );
  },
});

/** Counts one image of class `label` predicted as `predicted` (ignored outside the matrix). */
function count1(matrix: number[][], label: number, predicted: number): void {
  const row = matrix[label];
  if (row !== undefined && predicted >= 0 && predicted < row.length)
    row[predicted] = (row[predicted] as number) + 1;
}

/** The split accuracy is measured on: test, or validation when there is no test split. */
function splitName(dataset: { splits: { test?: unknown } }): "test" | "validation" {
  return dataset.splits.test !== undefined ? "test" : "validation";
}

function readConfig(context: StageContext) {
  const { config } = context;
  const normalization = config["dataset.normalization"] as { mean: number[]; std: number[] };
  return {
    calibrationImages: config["quantization.calibration_images"] as number,
    method: config["quantization.activation_range"] as "minmax" | "percentile",
    percentile: config["quantization.percentile"] as number,
    evaluationImages: config["quantization.evaluation_images"] as number,
    normalization: { mean: normalization.mean, std: normalization.std },
  };
}

async function linkUpstream(context: StageContext, stage: string): Promise<string> {
  const upstream = context.upstream.get(stage);
  if (upstream === undefined)
    throw new Error(`the quantize stage needs the ${stage} stage's outputs`);
  return upstream.linkInto(join(context.scratchDir, stage));
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(1)} %`;

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
