/**
 * INT8 predictions on worker threads are the interpreter's, image by image,
 * whatever the number of workers or the chunk size; failures and
 * cancellation end the evaluation with a clear error.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  argmax,
  type EvaluationImages,
  floatImage,
} from "../../src/evaluation/evaluation-images.js";
import { predictInt8Classes } from "../../src/evaluation/int8-predictions.js";
import { runInt8 } from "../../src/interpreter/run.js";
import { quantizeInput, quantizeModel } from "../../src/quantize/quantize-model.js";
import { buildMobileVitSample, createRandomImages } from "../support/sample-models.js";

const NORMALIZATION = { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };

function randomImages(count: number, seed: number): EvaluationImages {
  const pixels = 32 * 32 * 3;
  let state = seed;
  const images = Uint8Array.from({ length: count * pixels }, () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state >>> 23;
  });
  return { images, count, pixels, channels: 3, normalization: NORMALIZATION };
}

const floatModel = buildMobileVitSample({ seed: 2 });
const int8Model = quantizeModel(floatModel, createRandomImages(4, [1, 32, 32, 3], 9));
const set = randomImages(14, 11);
const expected = Int32Array.from({ length: set.count }, (_, i) =>
  argmax(runInt8(int8Model, quantizeInput(int8Model, floatImage(set, i))).outputs[0]),
);

describe("INT8 predictions", () => {
  it("are runInt8's class for every image, in this thread and on 1-3 workers", async () => {
    // A sample whose predictions all agree would not catch a misplaced chunk.
    assert.ok(new Set(expected).size > 1, `classes ${expected.join(",")}`);
    for (const workers of [1, 2, 3]) {
      const progress: number[] = [];
      const got = await predictInt8Classes(int8Model, set, {
        workers,
        chunk: 3,
        onProgress: (done) => progress.push(done),
      });
      assert.deepEqual(got, expected, `${workers} workers`);
      assert.equal(progress.at(-1), set.count);
      assert.deepEqual(
        progress,
        [...progress].sort((a, b) => a - b),
      );
    }
  });

  it("report a worker's failure with its message", async () => {
    // A float model is not an INT8 one: quantizing its input throws inside the worker.
    await assert.rejects(
      predictInt8Classes(floatModel, set, { workers: 2, chunk: 4 }),
      /INT8 evaluation worker failed: input image has no quantization/,
    );
  });

  it("stop when cancelled", async () => {
    const controller = new AbortController();
    const run = predictInt8Classes(int8Model, set, {
      workers: 2,
      chunk: 1,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error("cancelled by the test")),
    });
    await assert.rejects(run, /cancelled by the test/);
    const aborted = AbortSignal.abort(new Error("already cancelled"));
    await assert.rejects(
      predictInt8Classes(int8Model, set, { workers: 1, signal: aborted }),
      /already cancelled/,
    );
  });
});
