/**
 * `npm run bench -- nas [--train N] [--test N] [--quick] [--space default]
 *   [--arms searched,random,baseline] [--epochs S,F]`:
 * what the search buys, on
 * CIFAR-10 from ../shared/datasets/cifar10 (the first N training images,
 * default 4000, and the first N test images, default 2000: a subset so the
 * whole benchmark fits in about 40 minutes on two cores), at the STM32F746's
 * budgets. Three arms, each with the same number of training steps, built by
 * the same pipeline (trained, pruned, quantized, compiled, verified):
 *
 *   searched  a ResNet + MobileViT space (or, with `--space default`, the
 *             default recipe's) at the board's budgets: supernet,
 *             evolutionary search, fine-tuning, set as the default recipe
 *             sets them except for the epochs: 6 for the supernet and 6 for
 *             fine-tuning (the default recipe: 8 and 4), which left both the
 *             searched model and the benchmark's run time better
 *   random    the same supernet (cached), a random search with as many
 *             evaluated candidates (one generation), the same fine-tuning
 *   baseline  the shipped ResNet-style and MobileNetV2-style fixed networks,
 *             dense, each scaled in width to the smallest width whose
 *             predicted flash is at least the searched model's, trained for
 *             the searched arm's supernet + fine-tuning epochs; the better of
 *             the two is reported (both are printed on stderr)
 *
 * Last stdout line: {"searched": {"accuracy_int8", "flash_bytes",
 * "sram_bytes", "instructions"}, "baseline": {..., "recipe"}, "random":
 * {...}, "prediction_error": {"flash", "sram", "instructions"},
 * "evaluations", "search_s"}; prediction errors are |predicted - measured| /
 * measured for the searched model (the search's prediction against the
 * linker and the emulator). `--epochs S,F` moves the searched and random
 * arms' training between the supernet (S epochs, default 6) and fine-tuning
 * (F, default 6); the baselines get S + F. `--quick` is a smoke run (one epoch each, a
 * small search, 600 training and 200 test images): it checks the benchmark
 * works, its figures mean nothing.
 */

import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildProject } from "../src/api/build.js";
import { openProject } from "../src/api/project.js";
import { givenSearchSpace } from "../src/blocks/search-space.js";
import { loadRecipe } from "../src/config/load-recipe.js";
import type { SearchSpaceConfig, SearchStage } from "../src/config/types.js";
import { packageRoot } from "../src/project-paths.js";
import type { BuildReport } from "../src/report/types.js";
import type { SparsenasReport } from "../src/stages/sparsenas.js";
import { createTestWorkspace } from "../test/helpers/workspace.js";

const DATASET = join(packageRoot, "..", "shared", "datasets", "cifar10");

/**
 * A hybrid of the paper's families: ResNet stages at full and half
 * resolution, a MobileViT stage at a quarter (the default recipe's space is
 * MobileNetV2 + MobileViT; `--space default` uses it instead).
 */
const HYBRID_SPACE = `search_space:
  stem: { channels: [16, 24], stride: 1 }
  stages:
    - { block: resnet, depth: 1, channels: [16, 24], kernel_size: 3, stride: 1 }
    - { block: resnet, depth: [1, 2], channels: [32, 48], kernel_size: 3, stride: 2 }
    - { block: mobilevit, depth: [1, 2], channels: [48, 64], embed_dim: [48, 64], heads: [2, 4], mlp_ratio: [1, 2], patch_size: 2, stride: 2 }
`;

const SPARSITY = `sparsity:
  global_target: [0.3, 0.5, 0.7, 0.9]
  block_sizes: [1, 4, 8, 16]
`;

/** Training and search sizes: the benchmark's, or a smoke run's (`--quick`). */
interface Scale {
  readonly supernetEpochs: number;
  readonly finetuneEpochs: number;
  readonly population: number;
  readonly generations: number;
}

const FULL: Scale = { supernetEpochs: 6, finetuneEpochs: 6, population: 16, generations: 6 };
const QUICK: Scale = { supernetEpochs: 1, finetuneEpochs: 1, population: 6, generations: 2 };

function datasetSection(train: number, test: number): string {
  return `dataset:
  format: cifar10-binary
  path: ${DATASET}
  train_limit: ${train}
  test_limit: ${test}
  validation_fraction: 0.1
quantization: { calibration_images: 128 }
verification: { host_images: 20, target_images: 2 }
`;
}

function searchRecipe(
  train: number,
  test: number,
  scale: Scale,
  space: string,
  search: string,
): string {
  return `seed: 1
board: stm32f746
backend: wasm
${datasetSection(train, test)}${space}${SPARSITY}search: ${search}
training:
  supernas: { epochs: ${scale.supernetEpochs}, batch_size: 64, learning_rate: 0.003, sandwich_random_subnets: 1 }
  sparsenas: { epochs: ${scale.finetuneEpochs}, batch_size: 64, learning_rate: 0.004, warmup_epochs: 1, ramp_fraction: 0.5 }
`;
}

interface ArmResult {
  accuracy_int8: number;
  flash_bytes: number;
  sram_bytes: number;
  instructions: number;
}

async function buildArm(
  root: string,
  recipe: string,
  onProgress?: (stage: string, message: string, at: number) => void,
): Promise<{ report: BuildReport; sparsenas: SparsenasReport; seconds: number }> {
  const started = performance.now();
  const project = await openProject({ cwd: root, recipe });
  const result = await buildProject(project, {
    onEvent: (event) => {
      if (event.type === "stage-progress") {
        process.stderr.write(`  ${event.stage}: ${event.message}\n`);
        onProgress?.(event.stage, event.message, performance.now());
      } else if (event.type === "stage-failed") {
        process.stderr.write(`  FAILED ${event.stage}: ${event.error}\n`);
      }
    },
  });
  if (!result.ok) throw new Error(`${recipe}: the build failed`);
  const name = project.recipe.name;
  const read = async <T>(stage: string, file: string) =>
    JSON.parse(await readFile(join(root, "build", name, stage, file), "utf8")) as T;
  return {
    report: await read<BuildReport>("report", "report.json"),
    sparsenas: await read<SparsenasReport>("sparsenas", "sparsenas.json"),
    seconds: (performance.now() - started) / 1000,
  };
}

const armOf = (report: BuildReport): ArmResult => ({
  accuracy_int8: report.accuracy.int8,
  flash_bytes: report.memory.flash.used_bytes,
  sram_bytes: report.memory.sram.used_bytes,
  instructions: report.performance.instructions_per_inference,
});

/** The fixed recipe's space with every width (channels, embed dim) times `factor`, in multiples of 8. */
function scaleSpace(space: SearchSpaceConfig, factor: number): SearchSpaceConfig {
  const scale = (value: unknown) =>
    typeof value === "number" ? Math.max(8, Math.round((value * factor) / 8) * 8) : value;
  return {
    ...space,
    stem: { ...space.stem, channels: scale(space.stem.channels) as number },
    stages: space.stages.map(
      (stage) =>
        ({
          ...stage,
          channels: scale(stage.channels),
          ...("embed_dim" in stage ? { embed_dim: scale(stage.embed_dim) } : {}),
        }) as SearchStage,
    ),
  };
}

/** Predicted flash of a dense fixed network (the resource evaluator on a fresh supernet). */
async function predictDenseFlash(space: SearchSpaceConfig): Promise<number> {
  const [{ createSupernet }, { assessCandidate }, { createTrainingBackend }] = await Promise.all([
    import("../src/blocks/network.js"),
    import("../src/search/assess-candidate.js"),
    import("../src/training/backend.js"),
  ]);
  await createTrainingBackend({ backend: "wasm" });
  const supernet = createSupernet(space, { classes: 10, inputResolution: 32, seed: 1 });
  try {
    const network = supernet.subnet();
    const candidate = {
      architecture: network.choice,
      layers: network.layers().map((layer) => ({
        name: layer.name,
        target: 0,
        blockSize: null,
        rowLength: layer.rowLength,
      })),
    };
    const assessed = assessCandidate(
      {
        supernet,
        budgets: { flashBytes: Number.POSITIVE_INFINITY, sramBytes: Number.POSITIVE_INFINITY },
        calibrationInputs: [new Float32Array(32 * 32 * 3)],
      },
      candidate,
    );
    return assessed.predicted.flashBytes;
  } finally {
    supernet.dispose();
  }
}

/** The shipped fixed recipe, dense, at the smallest width factor whose flash reaches `flash`. */
async function baselineRecipe(
  file: string,
  flash: number,
  train: number,
  test: number,
  scale: Scale,
): Promise<{ text: string; factor: number; predictedFlash: number }> {
  const { recipe } = await loadRecipe(join(packageRoot, "recipes", file), {
    workspaceRoot: packageRoot,
  });
  let chosen = { factor: 2, predictedFlash: 0 };
  for (const factor of [0.5, 0.625, 0.75, 0.875, 1, 1.25, 1.5, 1.75, 2]) {
    const predictedFlash = await predictDenseFlash(scaleSpace(givenSearchSpace(recipe), factor));
    chosen = { factor, predictedFlash };
    if (predictedFlash >= flash) break;
  }
  const space = scaleSpace(givenSearchSpace(recipe), chosen.factor);
  const run = recipe.training.supernas;
  const text = `seed: 1
board: stm32f746
backend: wasm
${datasetSection(train, test)}search_space: ${JSON.stringify(space)}
sparsity: { global_target: 0 }
training:
  supernas: { epochs: ${Math.max(1, scale.supernetEpochs + scale.finetuneEpochs - 1)}, batch_size: 64, optimizer: ${run.optimizer}, learning_rate: ${run.learning_rate}, warmup_epochs: 1 }
  sparsenas: { epochs: 1, batch_size: 64, learning_rate: 0.0005 }
`;
  return { text, ...chosen };
}

/** The default recipe's search space (recipes/default.yaml), without its latency budget. */
async function defaultRecipeSpace(): Promise<string> {
  const { recipe } = await loadRecipe(join(packageRoot, "recipes", "default.yaml"), {
    workspaceRoot: packageRoot,
  });
  return `search_space: ${JSON.stringify(givenSearchSpace(recipe))}\n`;
}

/** `--epochs S,F`: the supernet's and fine-tuning's epochs instead of the scale's. */
function withEpochs(scale: Scale, args: string[]): Scale {
  const at = args.indexOf("--epochs");
  if (at < 0) return scale;
  const epochs = (args[at + 1] ?? "").split(",").map(Number);
  const [supernetEpochs, finetuneEpochs] = epochs;
  if (
    epochs.length !== 2 ||
    supernetEpochs === undefined ||
    finetuneEpochs === undefined ||
    !epochs.every((n) => Number.isInteger(n) && n >= 1)
  )
    throw new Error(`nas: --epochs takes two positive integers S,F, not ${args[at + 1]}`);
  return { ...scale, supernetEpochs, finetuneEpochs };
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

export async function main(args: string[]): Promise<void> {
  if (!existsSync(join(DATASET, "data_batch_1.bin"))) {
    process.stderr.write(`nas: CIFAR-10 not found at ${DATASET}; nothing measured\n`);
    process.stdout.write(`${JSON.stringify({ skipped: "no CIFAR-10 beside the checkout" })}\n`);
    return;
  }
  const quick = args.includes("--quick");
  const spaceAt = args.indexOf("--space");
  const space =
    spaceAt >= 0 && args[spaceAt + 1] === "default" ? await defaultRecipeSpace() : HYBRID_SPACE;
  // The searched arm always runs: the others are sized from it.
  const armsAt = args.indexOf("--arms");
  const arms = new Set(
    armsAt >= 0 ? (args[armsAt + 1] ?? "").split(",") : ["searched", "random", "baseline"],
  );
  const scale = withEpochs(quick ? QUICK : FULL, args);
  const train = option(args, "--train", quick ? 600 : 4000);
  const test = option(args, "--test", quick ? 200 : 2000);
  const ws = await createTestWorkspace();
  const root = ws.root;
  try {
    await ws.write("tinyformer.yaml", "cache_dir: .tinyformer/cache\njobs: 2\n");
    const write = (name: string, text: string) =>
      writeFile(join(root, "recipes", `${name}.yaml`), text);

    process.stderr.write(`nas: searched arm (${train} training, ${test} test images)\n`);
    await write(
      "searched",
      searchRecipe(
        train,
        test,
        scale,
        space,
        `{ population: ${scale.population}, generations: ${scale.generations}, parents: 4 }`,
      ),
    );
    let searchStart = 0;
    let searchEnd = 0;
    const searched = await buildArm(root, "recipes/searched.yaml", (stage, message, at) => {
      if (stage !== "sparsenas") return;
      if (message.startsWith("searching ")) searchStart = at;
      if (message.startsWith("chose candidate ")) searchEnd = at;
    });
    const evaluations = searched.sparsenas.search?.evaluated ?? 0;

    let random: ArmResult | null = null;
    if (arms.has("random")) {
      process.stderr.write(`nas: random arm (${evaluations} random candidates)\n`);
      await write(
        "random",
        searchRecipe(
          train,
          test,
          scale,
          space,
          `{ population: ${evaluations}, generations: 1, parents: 1, crossover_fraction: 0 }`,
        ),
      );
      random = armOf((await buildArm(root, "recipes/random.yaml")).report);
    }

    const flash = searched.report.memory.flash.used_bytes;
    const baselines: { recipe: string; factor: number; arm: ArmResult }[] = [];
    for (const file of arms.has("baseline")
      ? ["resnet-cifar10.yaml", "mobilenetv2-cifar10.yaml"]
      : []) {
      const baseline = await baselineRecipe(file, flash, train, test, scale);
      const name = `baseline-${file.replace(/-cifar10\.yaml$/, "")}`;
      process.stderr.write(
        `nas: ${name} at width x${baseline.factor} (predicted flash ${baseline.predictedFlash} B)\n`,
      );
      await write(name, baseline.text);
      const built = await buildArm(root, `recipes/${name}.yaml`);
      baselines.push({ recipe: name, factor: baseline.factor, arm: armOf(built.report) });
      process.stderr.write(`nas: ${name}: ${JSON.stringify(armOf(built.report))}\n`);
    }
    const best = [...baselines].sort((a, b) => b.arm.accuracy_int8 - a.arm.accuracy_int8)[0];

    const predicted = searched.sparsenas.predicted;
    const measured = armOf(searched.report);
    const error = (p: number | undefined, m: number) =>
      p === undefined ? null : Math.round((Math.abs(p - m) / m) * 10000) / 10000;
    const result = {
      searched: measured,
      baseline:
        best === undefined ? null : { ...best.arm, recipe: best.recipe, width: best.factor },
      random,
      prediction_error: {
        flash: error(predicted?.flashBytes, measured.flash_bytes),
        sram: error(predicted?.sramBytes, measured.sram_bytes),
        instructions: error(predicted?.instructions, measured.instructions),
      },
      evaluations,
      search_s: Math.round((searchEnd - searchStart) / 100) / 10,
      images: { train, test },
      ...(quick ? { quick: true } : {}),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await ws.cleanup();
  }
}
