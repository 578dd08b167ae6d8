/**
 * `npm run bench -- eval-throughput [--images N] [--old N] [--workers 1,2]`:
 * how long the quantize stage takes to measure float and INT8 accuracy on
 * the CIFAR-10 test set (../shared/datasets/cifar10/test_batch.bin, all
 * 10,000 images by default) for `recipes/resnet-cifar10.yaml`'s ResNet-8.
 *
 * The model is built by the real code without training: the recipe's
 * network from its seeded initialisation, pruned one-shot to the recipe's
 * sparsity plan (the block counts fine-tuning reaches), exported to the
 * float IR and quantized on the recipe's number of calibration images from
 * data_batch_1.bin. Its accuracy is chance; the work per image is the trained
 * model's (same layers, same non-zero blocks).
 *
 * Timed, side by side in one run:
 *   old        the interpreter, one image at a time in this thread, float
 *              (runFloat) and INT8 (runInt8) separately, on the first
 *              `--old` images (default 300); the 10,000-image figure is that
 *              rate extrapolated, and labelled so
 *   float      the float IR on the training backend, batches of 100
 *   int8       runInt8 on each worker count of `--workers` (default 1 and
 *              the machine's available parallelism)
 *   together   both at once as the stage runs them (float on this thread,
 *              INT8 on the default worker count)
 * It also checks that the INT8 classes equal runInt8's on the old subset and
 * counts where the float classes differ from runFloat's there.
 *
 * Each figure is wall seconds with the process's CPU seconds beside it
 * (worker threads included): on a machine shared with other work the wall
 * time follows the load (printed too), the CPU time much less.
 *
 * Last stdout line: {"test_images", "float_s", "int8_s", "together_s",
 * "float_cpu_s", "int8_by_workers": {"<n>": {"wall_s", "cpu_s"}},
 * "together_cpu_s", "old": {...}, "int8_equal_on_old_subset",
 * "int8_equal_across_runs", "float_equal_across_runs",
 * "float_differences_on_old_subset", "backend", "available_parallelism",
 * "load_average"}; float_s and int8_s are the new paths alone (INT8 on the
 * default worker count, one per available core).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { createNetwork } from "../src/blocks/network.js";
import { givenSearchSpace } from "../src/blocks/search-space.js";
import { loadRecipe } from "../src/config/load-recipe.js";
import { decodeCifar10Records, missingCifar10Message } from "../src/datasets/cifar10-binary.js";
import { argmax, type EvaluationImages, floatImage } from "../src/evaluation/evaluation-images.js";
import { predictInt8Classes } from "../src/evaluation/int8-predictions.js";
import { predictFloatClasses } from "../src/evaluation/tfjs-float.js";
import { runFloat, runInt8 } from "../src/interpreter/run.js";
import { packageRoot } from "../src/project-paths.js";
import { pruneOneShot } from "../src/pruning/one-shot.js";
import { resolvePruningPlan } from "../src/pruning/plan.js";
import { quantizeInput, quantizeModel } from "../src/quantize/quantize-model.js";
import { createTrainingBackend } from "../src/training/backend.js";

const DATASET = join(packageRoot, "..", "shared", "datasets", "cifar10");

interface Args {
  images: number;
  old: number;
  workers: number[];
}

function parseArgs(args: string[]): Args {
  const parsed: Args = {
    images: 10_000,
    old: 300,
    workers: [...new Set([1, availableParallelism()])],
  };
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1] ?? "";
    const positive = (name: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`${name} needs a positive integer, got ${value}`);
      return n;
    };
    if (args[i] === "--images") parsed.images = positive("--images");
    else if (args[i] === "--old") parsed.old = positive("--old");
    else if (args[i] === "--workers")
      parsed.workers = value.split(",").map((item) => {
        const n = Number(item);
        if (!Number.isInteger(n) || n < 1)
          throw new Error(`--workers needs positive integers, got ${value}`);
        return n;
      });
    else throw new Error(`unknown argument ${args[i]}`);
    i++;
  }
  return parsed;
}

async function readRecords(file: string, limit: number) {
  const path = join(DATASET, file);
  if (!existsSync(path)) throw new Error(missingCifar10Message(DATASET, file));
  return decodeCifar10Records(new Uint8Array(await readFile(path)), path, limit);
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/**
 * Wall and CPU seconds of `run` (CPU: user + system of the whole process,
 * worker threads included). On a machine shared with other work the wall
 * time depends on the load; the CPU time much less.
 */
async function timed<T>(
  run: () => T | Promise<T>,
): Promise<{ value: T; wall: number; cpu: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const value = await run();
  const cpu = process.cpuUsage(cpuStart);
  return { value, wall: seconds(start), cpu: (cpu.user + cpu.system) / 1e6 };
}
const log = (line: string) => process.stderr.write(`${line}\n`);

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const { recipe } = await loadRecipe(join(packageRoot, "recipes", "resnet-cifar10.yaml"), {
    workspaceRoot: packageRoot,
  });
  const test = await readRecords("test_batch.bin", args.images);
  const train = await readRecords("data_batch_1.bin", recipe.quantization.calibration_images);
  const backend = await createTrainingBackend({ backend: "wasm" });

  const network = createNetwork(givenSearchSpace(recipe), {
    classes: 10,
    inputResolution: 32,
    seed: recipe.seed,
  });
  const plan = resolvePruningPlan(network.layers(), recipe.sparsity);
  pruneOneShot(network.layers(), plan);
  const blockSizes = Object.fromEntries(
    plan.flatMap((layer) => (layer.blockSize === undefined ? [] : [[layer.name, layer.blockSize]])),
  );
  const floatModel = network.exportModel({ name: "resnet-cifar10", batch: 1, blockSizes });
  network.supernet.dispose();
  const normalization = recipe.dataset.normalization;
  const pixels = 32 * 32 * 3;
  const set = (images: Uint8Array, count: number): EvaluationImages => ({
    images,
    count,
    pixels,
    channels: 3,
    normalization,
  });
  const calibrationSet = set(train.images, train.labels.length);
  const int8Model = quantizeModel(
    floatModel,
    Array.from({ length: calibrationSet.count }, (_, i) => floatImage(calibrationSet, i)),
  );
  const count = test.labels.length;
  const testSet = set(test.images, count);
  log(
    `ResNet-8 of recipes/resnet-cifar10.yaml, untrained, pruned; ${count} test images; ${backend.version}`,
  );

  // Old path: the interpreter, one image at a time (after one untimed
  // image each: compilation and the weight spans are not per-image costs).
  runFloat(floatModel, floatImage(testSet, 0));
  runInt8(int8Model, quantizeInput(int8Model, floatImage(testSet, 0)));
  const oldCount = Math.min(args.old, count);
  const oldFloat = await timed(() =>
    Int32Array.from({ length: oldCount }, (_, i) =>
      argmax(runFloat(floatModel, floatImage(testSet, i)).outputs[0]),
    ),
  );
  const oldInt8 = await timed(() =>
    Int32Array.from({ length: oldCount }, (_, i) =>
      argmax(runInt8(int8Model, quantizeInput(int8Model, floatImage(testSet, i))).outputs[0]),
    ),
  );
  const perImage = (s: number) => round((1000 * s) / oldCount);
  const old = {
    images: oldCount,
    float_ms_per_image: perImage(oldFloat.wall),
    int8_ms_per_image: perImage(oldInt8.wall),
    float_cpu_ms_per_image: perImage(oldFloat.cpu),
    int8_cpu_ms_per_image: perImage(oldInt8.cpu),
    extrapolated_test_images_s: round(((oldFloat.wall + oldInt8.wall) * count) / oldCount),
  };
  log(
    `old (interpreter, one thread, ${oldCount} images): float ${old.float_ms_per_image} ms/image (CPU ${old.float_cpu_ms_per_image}), INT8 ${old.int8_ms_per_image} ms/image (CPU ${old.int8_cpu_ms_per_image}); ${count} images extrapolated: ${old.extrapolated_test_images_s} s`,
  );

  const float = await timed(() => predictFloatClasses(backend.tf, floatModel, testSet));
  const floatClasses = float.value;
  log(
    `float on ${backend.name}, batches of 100: ${round(float.wall)} s (CPU ${round(float.cpu)} s, ${round(count / float.wall)} images/s)`,
  );

  const int8ByWorkers: Record<string, { wall_s: number; cpu_s: number }> = {};
  let int8Classes: Int32Array = new Int32Array(0);
  for (const workers of args.workers) {
    const int8 = await timed(() => predictInt8Classes(int8Model, testSet, { workers }));
    int8Classes = int8.value;
    int8ByWorkers[String(workers)] = { wall_s: round(int8.wall), cpu_s: round(int8.cpu) };
    log(
      `INT8 on ${workers} worker thread(s): ${round(int8.wall)} s (CPU ${round(int8.cpu)} s, ${round(count / int8.wall)} images/s)`,
    );
  }
  const defaultWorkers = availableParallelism();
  const together = await timed(() =>
    Promise.all([
      predictFloatClasses(backend.tf, floatModel, testSet),
      predictInt8Classes(int8Model, testSet, { workers: defaultWorkers }),
    ]),
  );
  const [floatTogether, int8Together] = together.value;
  log(
    `both at once (INT8 on ${defaultWorkers} threads): ${round(together.wall)} s (CPU ${round(together.cpu)} s)`,
  );
  const loadAverage = loadavg()[0] ?? 0;
  log(`load average over the last minute: ${round(loadAverage)} on ${defaultWorkers} cores`);

  const sameAs = (a: Int32Array, b: Int32Array) => a.every((v, i) => v === b[i]);
  let floatDifferences = 0;
  for (let i = 0; i < oldCount; i++) if (floatClasses[i] !== oldFloat.value[i]) floatDifferences++;
  const result = {
    test_images: count,
    float_s: round(float.wall),
    int8_s: int8ByWorkers[String(defaultWorkers)]?.wall_s ?? null,
    together_s: round(together.wall),
    float_cpu_s: round(float.cpu),
    int8_by_workers: int8ByWorkers,
    together_cpu_s: round(together.cpu),
    old,
    int8_equal_on_old_subset: sameAs(int8Classes.subarray(0, oldCount), oldInt8.value),
    int8_equal_across_runs: sameAs(int8Classes, int8Together),
    float_equal_across_runs: sameAs(floatClasses, floatTogether),
    float_differences_on_old_subset: floatDifferences,
    backend: backend.version,
    available_parallelism: defaultWorkers,
    load_average: round(loadAverage),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
