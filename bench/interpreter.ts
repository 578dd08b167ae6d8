/**
 * Reference interpreter throughput: `npm run bench -- interpreter [--seconds N]`.
 *
 * Builds the ~194K-parameter MobileViT-style sample (32x32x3 input, stem,
 * two MobileNetV2 blocks, one MobileViT block with two attention layers,
 * partly block-pruned), quantizes it with 8 random calibration images, then
 * times `runInt8` (the oracle the generated C is checked against) and, for
 * comparison, `runFloat`. Last stdout line:
 * {"inferences_per_s": <int8>, "float_inferences_per_s": ..., ...}.
 */
import { performance } from "node:perf_hooks";
import { runFloat, runInt8 } from "../src/interpreter/run.js";
import { product } from "../src/model-ir/shapes.js";
import { quantizeInput, quantizeModel } from "../src/quantize/quantize-model.js";
import { buildMobileVitSample, createRandomImages } from "../test/support/sample-models.js";

function parseSeconds(args: string[]): number {
  const i = args.indexOf("--seconds");
  const v = i >= 0 ? Number(args[i + 1]) : 5;
  if (!(v > 0)) throw new Error(`--seconds needs a positive number, got ${args[i + 1]}`);
  return v;
}

/** Runs `fn` repeatedly for about `seconds` after one warm-up call; returns calls per second. */
function measure(seconds: number, fn: () => void): number {
  fn();
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    fn();
    runs += 1;
    elapsed = performance.now() - start;
  }
  return (runs * 1000) / elapsed;
}

export async function main(args: string[]): Promise<void> {
  const seconds = parseSeconds(args);
  const floatModel = buildMobileVitSample();
  const params = floatModel.graph.tensors
    .filter((t) => t.data !== undefined)
    .reduce((n, t) => n + product(t.shape), 0);
  const images = createRandomImages(9, [1, 32, 32, 3], 2024);
  const int8Model = quantizeModel(floatModel, images.slice(0, 8));
  const input = quantizeInput(int8Model, images[8] ?? new Float32Array());
  const floatInput = images[8] ?? new Float32Array();
  process.stderr.write(
    `model: ${params} parameters, ${int8Model.graph.ops.length} ops, ${int8Model.blob.byteLength} bytes int8 blob\n`,
  );
  const int8PerSecond = measure(seconds, () => {
    runInt8(int8Model, input);
  });
  process.stderr.write(`int8: ${int8PerSecond.toFixed(2)} inferences/s\n`);
  const floatPerSecond = measure(Math.max(1, seconds / 2), () => {
    runFloat(floatModel, floatInput);
  });
  process.stderr.write(`float: ${floatPerSecond.toFixed(2)} inferences/s\n`);
  process.stdout.write(
    `${JSON.stringify({
      inferences_per_s: Number(int8PerSecond.toFixed(3)),
      float_inferences_per_s: Number(floatPerSecond.toFixed(3)),
      parameters: params,
      ops: int8Model.graph.ops.length,
    })}\n`,
  );
}
