/**
 * Three small reference networks, one per model family the paper studies,
 * sized for 32x32 inputs: a ResNet-8 (MLPerf Tiny's CIFAR-10 model), a
 * MobileNetV2 at width 0.35 and a MobileViT-style hybrid. Each is a
 * `search_space` with a single choice everywhere, built by the block library
 * (`createNetwork` in `src/blocks/network.ts`), so the throughput benchmark
 * and the training tests run exactly the code a recipe trains. Together they
 * exercise every op the trainer must differentiate: conv, depthwise conv,
 * batch norm, ReLU/ReLU6, GELU, attention with softmax, LayerNorm, average
 * pooling and linear layers.
 *
 * Shapes (convolutions are bias-free and followed by batch norm; the
 * classifier and the transformer's linear layers have biases):
 *
 *   resnet     3x3 stem 16; basic-block stages 16 / 32 / 64 (one block each,
 *              strides 1 / 2 / 2, 1x1 projection shortcuts where the shape
 *              changes); pool; linear: 78,042 trainable parameters.
 *   mbv2       MobileNetV2's (t, c, n, s) table at width 0.35 (channels
 *              rounded to multiples of 8), with the CIFAR strides: stride 1
 *              in the stem and the second stage, so 32x32 ends at 4x4.
 *   mobilevit  MobileViT-XXS-like: stem 16, MV2 blocks (expansion 2) to 16
 *              and 24/2, then a MobileViT stage at 8x8 (32 channels, embed 48)
 *              and one at 4x4 (48 channels, embed 64), each entered through
 *              an MV2 transition block with stride 2; 2 transformer layers
 *              of 4 heads and MLP ratio 2 per stage; patch size 1 (every
 *              pixel is a token of one sequence per image).
 *
 * Where the block library differs from the textbook networks:
 * - MLPerf Tiny's ResNet-8 gives its convolutions biases and its 1x1
 *   shortcuts no batch norm (78,666 parameters with the batch-norm
 *   statistics); here every convolution, shortcuts included, is bias-free
 *   and followed by batch norm, as the block library builds them.
 * - The library's classifier head is pooling and one linear layer. MobileNetV2's 1x1
 *   convolution to 1280 channels before pooling (143,360 weights at x0.35,
 *   its largest layer) and the MobileViT-style network's 1x1 to 192 are
 *   absent; the head reads the last stage's 112 and 48 channels.
 * - MobileViT uses SiLU in its convolutions and patch size 2; the library's
 *   MobileViT block uses ReLU6 (it fuses into the IR's conv op), and the
 *   network here keeps patch size 1 so the 4x4 stage still has 16 tokens.
 * Layer and parameter names are the library's (`stage1.block0.conv1`, ...).
 */
import { createNetwork, type Network } from "../blocks/network.js";
import type { SearchSpace } from "../blocks/search-space.js";
import type { MobileNetV2Stage, MobileViTStage, ResNetStage } from "../config/types.js";

export type ReferenceNetworkName = "resnet" | "mbv2" | "mobilevit";

export const referenceNetworkNames: readonly ReferenceNetworkName[] = [
  "resnet",
  "mbv2",
  "mobilevit",
];

/** Square input size the reference networks are shaped for. */
export const REFERENCE_INPUT_RESOLUTION = 32;

export interface ReferenceNetworkOptions {
  readonly classes: number;
  /** Seeds the weight initialisation. */
  readonly seed: number;
  /** Input channels (3 for RGB). @default 3 */
  readonly inChannels?: number;
}

/**
 * The reference network `name`. Its `parameters` own every variable: dispose
 * them when done.
 */
export function createReferenceNetwork(
  name: ReferenceNetworkName,
  options: ReferenceNetworkOptions,
): Network {
  return createNetwork(referenceSearchSpace(name), {
    classes: options.classes,
    inputResolution: REFERENCE_INPUT_RESOLUTION,
    seed: options.seed,
    ...(options.inChannels === undefined ? {} : { inChannels: options.inChannels }),
  });
}

/** The single-choice search space of a reference network (a fresh object). */
export function referenceSearchSpace(name: ReferenceNetworkName): SearchSpace {
  switch (name) {
    case "resnet":
      return resnet8SearchSpace();
    case "mbv2":
      return mobileNetV2SearchSpace(0.35);
    case "mobilevit":
      return mobileVitStyleSearchSpace();
  }
}

function resnetStage(channels: number, stride: 1 | 2): ResNetStage {
  return { block: "resnet", depth: 1, channels, kernel_size: 3, stride };
}

/** ResNet-8: a 16-channel stem and three basic blocks (16, 32/2, 64/2). */
function resnet8SearchSpace(): SearchSpace {
  return {
    stem: { channels: 16, stride: 1 },
    stages: [resnetStage(16, 1), resnetStage(32, 2), resnetStage(64, 2)],
    head: { dropout: 0 },
  };
}

/** MobileNetV2's channel rounding: to a multiple of `divisor`, never 10 % below `value`. */
function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** MobileNetV2's stages as (expansion t, channels c, blocks n, stride s), CIFAR strides. */
const MOBILENET_V2_TABLE: readonly (readonly [number, number, number, 1 | 2])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 1],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** MobileNetV2 with its stem (32) and stage widths scaled by `width`; stride 1 in the stem. */
function mobileNetV2SearchSpace(width: number): SearchSpace {
  return {
    stem: { channels: makeDivisible(32 * width), stride: 1 },
    stages: MOBILENET_V2_TABLE.map(
      ([expansion, channels, depth, stride]): MobileNetV2Stage => ({
        block: "mbv2",
        depth,
        channels: makeDivisible(channels * width),
        expansion,
        kernel_size: 3,
        stride,
      }),
    ),
    head: { dropout: 0 },
  };
}

function mobileVitStage(channels: number, embedDim: number): MobileViTStage {
  return {
    block: "mobilevit",
    depth: 2,
    channels,
    embed_dim: embedDim,
    heads: 4,
    mlp_ratio: 2,
    patch_size: 1,
    stride: 2,
  };
}

/** MobileViT-XXS-like: MV2 stages down to 16x16, MobileViT stages at 8x8 and 4x4. */
function mobileVitStyleSearchSpace(): SearchSpace {
  const mv2 = (channels: number, stride: 1 | 2): MobileNetV2Stage => ({
    block: "mbv2",
    depth: 1,
    channels,
    expansion: 2,
    kernel_size: 3,
    stride,
  });
  return {
    stem: { channels: 16, stride: 1 },
    stages: [mv2(16, 1), mv2(24, 2), mobileVitStage(32, 48), mobileVitStage(48, 64)],
    head: { dropout: 0 },
  };
}
