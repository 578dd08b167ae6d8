/**
 * `npm run bench -- train-quality [--epochs 8] [--seed 1] [--threads 1] [--no-reference]`
 *
 * How much the `supernas` stage learns per epoch, against PyTorch on the same
 * recipe: ResNet-8 (the reference network, 78,042 parameters) trained through
 * the real dataset and supernas stages on CIFAR-10's `data_batch_1.bin`
 * (../shared/datasets/cifar10, its first 10,000 images, 10 % seeded
 * validation split), batch 128, SGD 0.05 with momentum 0.9, weight decay
 * 1e-4, label smoothing 0.1, one warm-up epoch then cosine, random crop
 * (pad 4) and flip, CIFAR normalisation: the settings of the reference
 * script `../shared/reference/quality.py`. When `/usr/bin/python3` imports
 * torch, that script runs beside ours (1 thread by default) on the same
 * file and epochs; its final validation accuracy is `reference`, else null.
 *
 * Last stdout line:
 *   {"epochs": 8, "validation": [per-epoch accuracy], "final_validation": a,
 *    "reference": a | null, "reference_validation": [per-epoch] | null,
 *    "reference_test": a | null, "parameters": 78042, "seconds": s}
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { buildProject } from "../src/api/build.js";
import { openProject } from "../src/api/project.js";
import { createPipelineThrough } from "../src/pipeline/pipeline.js";
import { packageRoot } from "../src/project-paths.js";
import type { SupernasReport } from "../src/stages/supernas.js";
import { referenceSearchSpace } from "../src/training/reference-networks.js";
import { createTestWorkspace } from "../test/helpers/workspace.js";
import { type ReferenceResult, runReference, torchAvailable } from "./_quality-reference.js";

const DATASET = join(packageRoot, "..", "shared", "datasets", "cifar10");
const REFERENCE_SCRIPT = join(packageRoot, "..", "shared", "reference", "quality.py");
/** data_batch_1.bin: the first 10,000 training records, whatever else the directory holds. */
const TRAIN_IMAGES = 10_000;

interface Options {
  epochs: number;
  seed: number;
  threads: number;
  reference: boolean;
}

function parseArgs(args: string[]): Options {
  const options: Options = { epochs: 8, seed: 1, threads: 1, reference: true };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const parsed = Number(args[++i]);
      if (!(Number.isInteger(parsed) && parsed >= 0)) throw new Error(`${arg} needs a count`);
      return parsed;
    };
    if (arg === "--epochs") options.epochs = Math.max(1, value());
    else if (arg === "--seed") options.seed = value();
    else if (arg === "--threads") options.threads = Math.max(1, value());
    else if (arg === "--no-reference") options.reference = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

/** The recipe of the comparison, in the project's terms. */
function recipe(options: Options): Record<string, unknown> {
  return {
    seed: options.seed,
    board: "stm32f746",
    dataset: {
      format: "cifar10-binary",
      path: DATASET,
      train_limit: TRAIN_IMAGES,
      validation_fraction: 0.1,
      normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
      augmentation: { random_crop_padding_px: 4, horizontal_flip: true },
    },
    search_space: referenceSearchSpace("resnet"),
    sparsity: { global_target: 0.5 },
    training: {
      supernas: {
        epochs: options.epochs,
        batch_size: 128,
        optimizer: "sgd",
        learning_rate: 0.05,
        momentum: 0.9,
        weight_decay: 1e-4,
        warmup_epochs: 1,
        label_smoothing: 0.1,
      },
    },
  };
}

/** Trains through the dataset and supernas stages in a scratch workspace. */
async function trainOurs(options: Options): Promise<SupernasReport> {
  const ws = await createTestWorkspace();
  const root = ws.root;
  try {
    await ws.write("tinyformer.yaml", "cache_dir: .tinyformer/cache\njobs: 1\n");
    await writeFile(join(root, "recipes", "quality.yaml"), stringify(recipe(options)));
    const project = await openProject({
      cwd: root,
      recipe: "recipes/quality.yaml",
      createStages: (pipeline) => createPipelineThrough(pipeline, "supernas"),
    });
    const result = await buildProject(project, {
      onEvent: (event) => {
        if (event.type === "stage-progress" && event.level !== "detail")
          process.stderr.write(`ours: ${event.stage}: ${event.message}\n`);
        if (event.type === "stage-failed")
          process.stderr.write(`ours: ${event.stage} failed: ${event.error}\n`);
      },
    });
    if (!result.ok) throw new Error("the supernas build failed");
    return JSON.parse(
      await readFile(join(root, "build", "quality", "supernas", "supernas.json"), "utf8"),
    ) as SupernasReport;
  } finally {
    await ws.cleanup();
  }
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

export async function main(args: string[]): Promise<void> {
  const options = parseArgs(args);
  if (!existsSync(join(DATASET, "data_batch_1.bin")))
    throw new Error(`train-quality needs CIFAR-10's data_batch_1.bin in ${DATASET}`);
  const withReference = options.reference && existsSync(REFERENCE_SCRIPT) && torchAvailable();
  if (options.reference && !withReference)
    process.stderr.write(
      `train-quality: no PyTorch reference (needs ${REFERENCE_SCRIPT} and python3-torch)\n`,
    );
  const started = performance.now();
  // Side by side: both see the same machine load.
  const reference: Promise<ReferenceResult | null> = withReference
    ? runReference({
        script: REFERENCE_SCRIPT,
        dataDirectory: DATASET,
        threads: options.threads,
        epochs: options.epochs,
      })
    : Promise.resolve(null);
  // A failed reference must not leave an unhandled rejection while ours trains.
  reference.catch(() => undefined);
  const report = await trainOurs(options);
  const theirs = await reference;
  const validation = report.history.map((epoch) => round(epoch.validationAccuracy ?? Number.NaN));
  console.log(
    JSON.stringify({
      epochs: report.epochs.completed,
      validation,
      final_validation: validation.at(-1) ?? null,
      reference: theirs?.finalValidation ?? null,
      reference_validation: theirs?.validation ?? null,
      reference_test: theirs?.finalTest ?? null,
      parameters: report.parameters,
      seconds: Math.round((performance.now() - started) / 1000),
    }),
  );
}
