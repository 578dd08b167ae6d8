/**
 * Candidate models like the ones the search evaluates, for calibrating the
 * resource model and checking its accuracy: a random single-path
 * architecture from a MobileNetV2 / MobileViT search space, built by the
 * block library (src/blocks, the same export the search uses), given
 * trained-looking statistics, pruned blockwise by L2 norm with a random
 * sparsity and block size per layer (src/pruning) and quantized
 * (src/quantize).
 *
 * "Trained-looking" matters for instruction counts: training and pruning
 * leave output channels of very different norms, so high sparsity prunes
 * whole rows. An all-zero row quantizes with weight scale 1, its
 * requantization multiplier becomes a left shift, and the matrix and
 * depthwise kernels then leave their fused requantization for the whole
 * layer. Freshly initialised weights rarely do that.
 *
 * Loads tfjs (the block library builds networks from tf.variables); the
 * resource evaluator itself never imports this module.
 */
import type { ArchitectureChoice, SearchSpace } from "../../../src/blocks/search-space.js";
import type { WeightLayerInfo } from "../../../src/blocks/types.js";
import { createSeededRandom, type SeededRandom } from "../../../src/datasets/seeded-random.js";
import type { BlockSize, Model } from "../../../src/model-ir/types.js";
import { applyBlockMask, computeBlockMask } from "../../../src/pruning/block-mask.js";
import { quantizeModel } from "../../../src/quantize/quantize-model.js";
import { createRandomImages } from "../sample-models.js";

/** What a sample candidate is made of; the same spec always gives the same model. */
export interface CandidateSpec {
  /** Names the model (and the calibration sample it gives). */
  name: string;
  seed: number;
  /** Square input size in pixels. */
  resolution: number;
  /** Stem and stages, one value per field (src/blocks/search-space.ts). */
  architecture: ArchitectureChoice;
  /** Per prunable layer, a sparsity drawn uniformly from this range; [0, 0] leaves every layer dense. */
  sparsity: [number, number];
  /** Block sizes drawn from for each pruned layer (those that divide its row length). */
  blockSizes: readonly BlockSize[];
}

/**
 * Random images of roughly normalised pixels (about -2 to 2), as the
 * quantize stage calibrates on and verify-target feeds the program.
 */
export function normalisedRandomImages(
  count: number,
  shape: readonly number[],
  seed: number,
): Float32Array[] {
  const images = createRandomImages(count, [...shape], seed);
  for (const image of images)
    for (let i = 0; i < image.length; i++) image[i] = 4 * (image[i] as number) - 2;
  return images;
}

/** A one-choice search space holding `architecture` (strides and patch sizes fixed here). */
export function searchSpaceOf(architecture: ArchitectureChoice): SearchSpace {
  return {
    stem: { channels: architecture.stem.channels, stride: 1 },
    stages: architecture.stages.map((stage, i) => {
      // Downsample in the first two stages: 32 → 16 → 8 pixels, as the
      // shipped recipes do; later stages keep the resolution.
      const stride = i < 2 ? 2 : 1;
      switch (stage.block) {
        case "mbv2":
          return { ...stage, stride };
        case "resnet":
          return { ...stage, stride };
        case "mobilevit":
          return { ...stage, patch_size: 2, stride };
        default: {
          const never: never = stage;
          throw new Error(`unknown stage ${JSON.stringify(never)}`);
        }
      }
    }),
    head: { dropout: 0 },
  };
}

const pick = <T>(random: SeededRandom, values: readonly T[]): T =>
  values[random.nextInt(values.length)] as T;

/**
 * A random architecture of the kind the search space of a MobileViT-style
 * recipe offers: one or two MobileNetV2 stages (depth 1-3, 16-48 channels,
 * expansion 2-6, kernel 3 or 5), then, unless `mobileVit` is false, a
 * MobileViT stage (depth 1-2, 32-64 channels, embed dim 32-96, 1-4 heads,
 * MLP ratio 1-3).
 */
export function randomArchitecture(
  random: SeededRandom,
  options: { mobileVit: boolean },
): ArchitectureChoice {
  const mbv2 = () =>
    ({
      block: "mbv2",
      depth: 1 + random.nextInt(3),
      channels: pick(random, [16, 24, 32, 40, 48]),
      expansion: pick(random, [2, 3, 4, 6]),
      kernel_size: pick(random, [3, 5]),
    }) as const;
  const stages: ArchitectureChoice["stages"][number][] = [mbv2()];
  if (!options.mobileVit || random.next() < 0.5) stages.push(mbv2());
  if (options.mobileVit) {
    const heads = pick(random, [1, 2, 4]);
    stages.push({
      block: "mobilevit",
      depth: 1 + random.nextInt(2),
      channels: pick(random, [32, 48, 64]),
      embed_dim:
        heads *
        pick(
          random,
          [16, 24, 32].filter((d) => d * heads <= 96),
        ),
      heads,
      mlp_ratio: pick(random, [1, 2, 3]),
    });
  } else if (random.next() < 0.5) {
    stages.push(mbv2());
  }
  return { stem: { channels: pick(random, [8, 16, 24]) }, stages };
}

/**
 * `count` varied candidate specs from one seed: MobileNetV2-only and
 * MobileViT networks, dense ones and ones pruned up to 90 % with blocks of
 * 1, 4, 8 or 16.
 */
export function randomCandidateSpecs(seed: number, count: number): CandidateSpec[] {
  const random = createSeededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    // Over sixteen specs, every block size with both families, pruned up to
    // a random sparsity (the first eight) and hard, 40 to 90 % in every
    // layer (the next eight), where the per-row and per-pixel work outweighs
    // the MACs; a few dense, a few mixing block sizes.
    const mobileVit = ((i >> 2) & 1) === 0;
    const hard = ((i >> 3) & 1) === 1;
    const dense = i % 6 === 5;
    const blockSize = ([1, 4, 8, 16] as const)[i % 4] as BlockSize;
    const high = 0.3 + 0.6 * random.next();
    return {
      name: `candidate-${seed}-${i}`,
      seed: seed * 1000 + i,
      resolution: 32,
      architecture: randomArchitecture(random, { mobileVit }),
      sparsity: dense ? [0, 0] : hard ? [0.4, 0.9] : [0, high],
      blockSizes: dense
        ? []
        : i % 7 === 3
          ? [blockSize, pick(random, [4, 8, 16] as const)]
          : [blockSize],
    };
  });
}

/**
 * Gives batch norms and LayerNorms the spread of a trained network: per
 * channel, |gamma| log-normal around 1 (a few negative), running variances
 * from 0.2 to 2, means and betas around 0. Folded into the weights, this
 * makes output channels of very different norms, as training does.
 */
function trainedLookingState(
  tf: typeof import("@tensorflow/tfjs-core"),
  variables: ReadonlyMap<string, import("@tensorflow/tfjs-core").Variable>,
  random: SeededRandom,
): void {
  for (const [name, variable] of variables) {
    const values = new Float32Array(variable.size);
    if (name.endsWith("/gamma")) {
      for (let i = 0; i < values.length; i++)
        values[i] = Math.exp(0.6 * random.nextNormal()) * (random.next() < 0.05 ? -1 : 1);
    } else if (name.endsWith("/moving_variance")) {
      for (let i = 0; i < values.length; i++) values[i] = 0.2 + 1.8 * random.next();
    } else if (name.endsWith("/beta") || name.endsWith("/moving_mean") || name.endsWith("/bias")) {
      for (let i = 0; i < values.length; i++) values[i] = 0.3 * random.nextNormal();
    } else {
      continue;
    }
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
  }
}

/** Prunes each prunable layer to a random target; returns the block size of each pruned one. */
function pruneRandomly(
  layers: readonly WeightLayerInfo[],
  spec: CandidateSpec,
  random: SeededRandom,
): Record<string, BlockSize> {
  const blockSizes: Record<string, BlockSize> = {};
  const [low, high] = spec.sparsity;
  for (const layer of layers) {
    if (!layer.prunable || high <= 0) continue;
    const fitting = spec.blockSizes.filter((b) => layer.rowLength % b === 0);
    if (fitting.length === 0) continue;
    const blockSize = pick(random, fitting);
    const target = low + (high - low) * random.next();
    const weights = layer.readWeight();
    applyBlockMask(weights, computeBlockMask(weights, layer.rowLength, blockSize, target));
    layer.writeWeight(weights);
    blockSizes[layer.name] = blockSize;
  }
  return blockSizes;
}

/** Builds, prunes and quantizes the candidate `spec` describes (an int8 model IR). */
export async function createSampleCandidate(spec: CandidateSpec): Promise<Model> {
  const [{ createTrainingBackend }, { createNetwork }] = await Promise.all([
    import("../../../src/training/backend.js"),
    import("../../../src/blocks/network.js"),
  ]);
  const { tf } = await createTrainingBackend({ backend: "auto" });
  const random = createSeededRandom(spec.seed);
  const network = createNetwork(searchSpaceOf(spec.architecture), {
    classes: 10,
    inputResolution: spec.resolution,
    seed: spec.seed,
  });
  try {
    trainedLookingState(tf, network.parameters.byName, random);
    const blockSizes = pruneRandomly(network.layers(), spec, random);
    const float = network.exportModel({ name: spec.name, blockSizes });
    const images = normalisedRandomImages(8, [1, spec.resolution, spec.resolution, 3], spec.seed);
    return quantizeModel(float, images);
  } finally {
    network.supernet.dispose();
  }
}

/** One line naming an architecture's stages and their fields (for logs and reports). */
export function describeArchitecture(architecture: ArchitectureChoice): string {
  const stages = architecture.stages.map((s) => {
    switch (s.block) {
      case "mbv2":
        return `mbv2 d${s.depth} c${s.channels} e${s.expansion} k${s.kernel_size}`;
      case "resnet":
        return `resnet d${s.depth} c${s.channels} k${s.kernel_size}`;
      case "mobilevit":
        return `mvit d${s.depth} c${s.channels} e${s.embed_dim} h${s.heads} m${s.mlp_ratio}`;
      default: {
        const never: never = s;
        throw new Error(`unknown stage ${JSON.stringify(never)}`);
      }
    }
  });
  return `stem ${architecture.stem.channels} | ${stages.join(" | ")}`;
}

/**
 * Hand-picked points of the search space, none in the calibration set:
 * MobileViT- and MobileNetV2-style, dense and pruned with every block size.
 * The accuracy test builds and measures them; the speed benchmark times
 * their estimates.
 */
export const SHOWCASE_CANDIDATES: readonly CandidateSpec[] = [
  {
    name: "mobilevit-pruned-b16",
    seed: 501,
    resolution: 32,
    architecture: {
      stem: { channels: 16 },
      stages: [
        { block: "mbv2", depth: 1, channels: 24, expansion: 4, kernel_size: 3 },
        { block: "mobilevit", depth: 2, channels: 48, embed_dim: 64, heads: 2, mlp_ratio: 2 },
      ],
    },
    sparsity: [0.5, 0.9],
    blockSizes: [16, 8],
  },
  {
    name: "mobilenetv2-dense-k5",
    seed: 502,
    resolution: 32,
    architecture: {
      stem: { channels: 8 },
      stages: [
        { block: "mbv2", depth: 2, channels: 16, expansion: 6, kernel_size: 5 },
        { block: "mbv2", depth: 2, channels: 32, expansion: 3, kernel_size: 3 },
      ],
    },
    sparsity: [0, 0],
    blockSizes: [],
  },
  {
    name: "mobilenetv2-pruned-b1-b4",
    seed: 503,
    resolution: 32,
    architecture: {
      stem: { channels: 24 },
      stages: [
        { block: "mbv2", depth: 1, channels: 40, expansion: 2, kernel_size: 5 },
        { block: "mbv2", depth: 3, channels: 48, expansion: 4, kernel_size: 3 },
        { block: "mbv2", depth: 1, channels: 32, expansion: 2, kernel_size: 3 },
      ],
    },
    sparsity: [0, 0.7],
    blockSizes: [1, 4],
  },
  {
    name: "mobilevit-dense-4-heads",
    seed: 504,
    resolution: 32,
    architecture: {
      stem: { channels: 16 },
      stages: [
        { block: "mbv2", depth: 1, channels: 16, expansion: 2, kernel_size: 3 },
        { block: "mbv2", depth: 1, channels: 32, expansion: 3, kernel_size: 5 },
        { block: "mobilevit", depth: 1, channels: 32, embed_dim: 96, heads: 4, mlp_ratio: 3 },
      ],
    },
    sparsity: [0, 0],
    blockSizes: [],
  },
];
