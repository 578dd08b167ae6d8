/**
 * Does a training-free score rank networks like a short real training does?
 *
 * Samples networks from the candidate spaces of `recipes/supernas.yaml` (one
 * random sub-network per candidate space, as a fixed network), trains each
 * for a few epochs through the real `supernas` stage on the bundled CIFAR-10
 * subset, once per training seed, and measures Kendall's tau between the
 * validation accuracy and each score: NASWOT on one minibatch of 32 training
 * images (bench/_naswot.ts), parameter count, and MACs (the
 * space-search stage's compute rule, applied to one dense network, is its
 * MACs). tau per seed, then its mean and spread.
 *
 *   npm run bench -- supernas [--networks 12] [--epochs 2] [--seeds 2]
 *
 * Not measured here yet: the chosen space against the median random space
 * after the same supernet training and search (the second figure).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { buildProject } from "../src/api/build.js";
import { openProject } from "../src/api/project.js";
import { createNetwork } from "../src/blocks/network.js";
import type { ArchitectureChoice } from "../src/blocks/search-space.js";
import { sampleArchitecture } from "../src/blocks/search-space.js";
import { loadRecipe } from "../src/config/load-recipe.js";
import type { SearchSpaceConfig, SearchStage } from "../src/config/types.js";
import { loadDatasetArtifacts } from "../src/datasets/artifacts.js";
import { normalizeImages } from "../src/datasets/normalize.js";
import { createSeededRandom, deriveSeed } from "../src/datasets/seeded-random.js";
import { createPipelineThrough } from "../src/pipeline/pipeline.js";
import { packageRoot } from "../src/project-paths.js";
import { quantizeModel } from "../src/quantize/quantize-model.js";
import { estimateModelResources } from "../src/search/resources.js";
import { drawCandidateSpaces } from "../src/space-search/candidate-spaces.js";
import type { SupernasReport } from "../src/stages/supernas.js";
import { createTrainingBackend } from "../src/training/backend.js";
import { createTestWorkspace } from "../test/helpers/workspace.js";
import { kendallTau } from "./_kendall.js";
import { naswotScore } from "./_naswot.js";

const MINIBATCH = 32;

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

/** A sub-network as a space with one value everywhere (a fixed network). */
function choiceAsSpace(space: SearchSpaceConfig, choice: ArchitectureChoice): SearchSpaceConfig {
  return {
    stem: { channels: choice.stem.channels, stride: space.stem.stride },
    stages: space.stages.map(
      (stage, i) => ({ ...stage, ...(choice.stages[i] as object) }) as SearchStage,
    ),
    head: space.head,
  };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const spread = (values: readonly number[]) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
};
const round = (value: number) => Math.round(value * 1000) / 1000;

export async function main(args: string[]): Promise<void> {
  const count = option(args, "--networks", 12);
  const epochs = option(args, "--epochs", 2);
  const seeds = option(args, "--seeds", 2);
  const { recipe } = await loadRecipe(join(packageRoot, "recipes", "supernas.yaml"), {
    workspaceRoot: packageRoot,
  });
  if (recipe.supernas === undefined)
    throw new Error("recipes/supernas.yaml has no supernas section");
  const spaces = drawCandidateSpaces(recipe.supernas, recipe.seed);
  const networks = Array.from({ length: count }, (_, i) => {
    const space = spaces[i % spaces.length] as SearchSpaceConfig;
    const random = createSeededRandom(deriveSeed(recipe.seed, `bench/supernas/${i}`));
    return choiceAsSpace(space, sampleArchitecture(space, random));
  });

  const ws = await createTestWorkspace();
  const root = ws.root;
  try {
    await ws.write("tinyformer.yaml", "cache_dir: .tinyformer/cache\njobs: 1\n");
    const stages = (options: Parameters<typeof createPipelineThrough>[0]) =>
      createPipelineThrough(options, "supernas");
    const accuracy: number[][] = networks.map(() => []);
    const started = performance.now();
    for (let seed = 1; seed <= seeds; seed++)
      for (const [i, space] of networks.entries()) {
        const name = `n${i}-s${seed}`;
        await writeFile(
          join(root, "recipes", `${name}.yaml`),
          stringify({
            seed,
            board: "stm32f746",
            backend: "wasm",
            dataset: {
              format: "cifar10-binary",
              path: join(packageRoot, "data", "cifar10-subset"),
              validation_fraction: 0.1,
              input_resolution_px: recipe.dataset.input_resolution_px,
            },
            search_space: space,
            sparsity: { global_target: 0.5 },
            training: {
              supernas: { epochs, batch_size: 64, optimizer: "adam", learning_rate: 0.003 },
            },
          }),
        );
        const project = await openProject({
          cwd: root,
          recipe: `recipes/${name}.yaml`,
          createStages: stages,
        });
        const result = await buildProject(project);
        if (!result.ok) throw new Error(`${name}: the build failed`);
        const report = JSON.parse(
          await readFile(join(root, "build", name, "supernas", "supernas.json"), "utf8"),
        ) as SupernasReport;
        (accuracy[i] as number[]).push(report.validationAccuracy ?? 0);
        process.stderr.write(
          `supernas bench: seed ${seed} network ${i}: ${report.parameters} parameters, validation ${(100 * (report.validationAccuracy ?? 0)).toFixed(1)} % (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
        );
      }

    // The scores, on untrained networks and one minibatch of the seed-1 split.
    await createTrainingBackend({ backend: "wasm" });
    const dataset = await loadDatasetArtifacts(join(root, "build", "n0-s1", "dataset"));
    const train = dataset.splits.train;
    if (train === undefined) throw new Error("the dataset has no training split");
    const pixels = train.height * train.width * train.channels;
    const minibatch = Array.from({ length: MINIBATCH }, (_, i) =>
      normalizeImages(
        train.images.subarray(i * pixels, (i + 1) * pixels),
        train.channels,
        recipe.dataset.normalization,
      ),
    );
    const scores = networks.map((space) => {
      const network = createNetwork(space, {
        classes: 10,
        inputResolution: recipe.dataset.input_resolution_px,
        seed: recipe.seed,
      });
      try {
        const model = network.exportModel();
        const estimate = estimateModelResources(quantizeModel(model, [new Float32Array(pixels)]));
        return {
          naswot: naswotScore(model, minibatch),
          params: network
            .regions()
            .reduce(
              (sum, region) =>
                sum + region.boxes.reduce((s, box) => s + box.size.reduce((a, b) => a * b, 1), 0),
              0,
            ),
          macs: estimate.layers.reduce((sum, layer) => sum + layer.macs, 0),
        };
      } finally {
        network.supernet.dispose();
      }
    });
    const tauOf = (proxy: "naswot" | "params" | "macs") => {
      const perSeed = Array.from({ length: seeds }, (_, s) =>
        kendallTau(
          scores.map((score) => score[proxy]),
          accuracy.map((runs) => runs[s] as number),
        ),
      );
      return {
        mean: round(mean(perSeed)),
        spread: round(spread(perSeed)),
        per_seed: perSeed.map(round),
        on_mean_accuracy: round(
          kendallTau(
            scores.map((score) => score[proxy]),
            accuracy.map(mean),
          ),
        ),
      };
    };
    const naswot = tauOf("naswot");
    const baselines = { params: tauOf("params"), macs: tauOf("macs") };
    const best = Math.max(naswot.mean, baselines.params.mean, baselines.macs.mean);
    process.stdout.write(
      `${JSON.stringify({
        networks: count,
        epochs,
        seeds,
        kendall_tau: naswot,
        tau_baselines: baselines,
        better_rule:
          best === naswot.mean ? "naswot" : best === baselines.macs.mean ? "macs" : "params",
        chosen: null,
        median_random_space: null,
        seconds: Math.round((performance.now() - started) / 1000),
      })}\n`,
    );
  } finally {
    await ws.cleanup();
  }
}
