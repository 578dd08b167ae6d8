/**
 * The images both verify stages run: the first N of the dataset's test
 * split (validation when there is none), normalised with the recipe's
 * statistics and quantized with the INT8 model's input parameters, exactly as
 * the quantize stage evaluates them.
 */
import { join } from "node:path";
import type { StageContext } from "../graph-runner/stage.js";
import type { Model } from "../model-ir/types.js";
import { linkUpstream } from "./codegen.js";
import { INT8_MODEL_STEM } from "./quantize.js";

export interface VerificationInputs {
  model: Model;
  split: "test" | "validation";
  inputs: Int8Array[];
}

export async function loadVerificationInputs(
  context: StageContext,
  requested: number,
): Promise<VerificationInputs> {
  const [{ loadDatasetArtifacts }, { normalizeImages }, { loadModel }, { quantizeInput }] =
    await Promise.all([
      import("../datasets/artifacts.js"),
      import("../datasets/normalize.js"),
      import("../model-ir/index.js"),
      import("../quantize/index.js"),
    ]);
  const normalization = context.config["dataset.normalization"] as {
    mean: number[];
    std: number[];
  };
  const dataset = await loadDatasetArtifacts(await linkUpstream(context, "dataset"));
  const loaded = await loadModel(join(await linkUpstream(context, "quantize"), INT8_MODEL_STEM));
  if (!loaded.ok) throw new Error("quantize produced an invalid INT8 model");
  const model = loaded.model;
  const split = dataset.splits.test !== undefined ? "test" : "validation";
  const images = dataset.splits.test ?? dataset.splits.validation;
  if (images === undefined) throw new Error("the dataset has no test or validation split");
  const pixels = images.height * images.width * images.channels;
  const count = Math.min(requested, images.count);
  const inputs = Array.from({ length: count }, (_, i) =>
    quantizeInput(
      model,
      normalizeImages(images.images.subarray(i * pixels, (i + 1) * pixels), images.channels, {
        mean: normalization.mean,
        std: normalization.std,
      }),
    ),
  );
  return { model, split, inputs };
}
