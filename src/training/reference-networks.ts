/**
 * Three small reference networks, one per model family the paper studies,
 * sized for 32x32 inputs: a ResNet-8 (MLPerf Tiny's CIFAR-10 model), a
 * MobileNetV2 at width 0.35 and a MobileViT-style hybrid. They exercise
 * every op the trainer must differentiate (conv, depthwise conv, batch norm,
 * ReLU/ReLU6, GELU, attention with softmax, LayerNorm via moments, average
 * pooling, dense) and serve the throughput benchmark and the training tests.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  batchNorm,
  conv2d,
  dense,
  depthwiseConv2d,
  type ForwardContext,
  gelu,
  globalAveragePool,
  type Layer,
  layerNorm,
  multiHeadAttention,
  ParameterSet,
  relu6,
} from "./layers.js";

/** A network the training loop can optimise: parameters plus a forward pass. */
export interface TrainableNetwork {
  readonly parameters: ParameterSet;
  /** NHWC float images -> [batch, classes] logits. */
  apply(images: tf.Tensor4D, context: ForwardContext): tf.Tensor2D;
}

export type ReferenceNetworkName = "resnet" | "mbv2" | "mobilevit";

export const referenceNetworkNames: readonly ReferenceNetworkName[] = [
  "resnet",
  "mbv2",
  "mobilevit",
];

export interface ReferenceNetworkOptions {
  readonly classes: number;
  /** Seeds the weight initialisation. */
  readonly seed: number;
  /** Input channels (3 for RGB). @default 3 */
  readonly inChannels?: number;
}

export function createReferenceNetwork(
  name: ReferenceNetworkName,
  options: ReferenceNetworkOptions,
): TrainableNetwork {
  switch (name) {
    case "resnet":
      return createResNet8(options);
    case "mbv2":
      return createMobileNetV2(options, 0.35);
    case "mobilevit":
      return createMobileVitStyle(options);
  }
}

function convBn(
  params: ParameterSet,
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride = 1,
): Layer<tf.Tensor4D, tf.Tensor4D> {
  const conv = conv2d(params, name, { inChannels, outChannels, kernel, stride });
  const bn = batchNorm(params, `${name}/bn`, outChannels);
  return (x, context) => bn(conv(x, context), context);
}

function classifierHead(
  params: ParameterSet,
  channels: number,
  classes: number,
): Layer<tf.Tensor4D, tf.Tensor2D> {
  const fc = dense(params, "head/fc", { inFeatures: channels, outFeatures: classes });
  return (x, context) => fc(globalAveragePool(x), context);
}

/** ResNet-8: a 16-channel stem and three basic blocks (16, 32/2, 64/2). */
export function createResNet8(options: ReferenceNetworkOptions): TrainableNetwork {
  const params = new ParameterSet(options.seed);
  const stem = convBn(params, "stem", options.inChannels ?? 3, 16, 3);
  const blocks: Layer<tf.Tensor4D, tf.Tensor4D>[] = [];
  let channels = 16;
  for (const [index, [width, stride]] of [
    [16, 1],
    [32, 2],
    [64, 2],
  ].entries()) {
    const name = `block${index}`;
    const a = convBn(params, `${name}/conv_a`, channels, width as number, 3, stride);
    const b = convBn(params, `${name}/conv_b`, width as number, width as number, 3);
    const shortcut =
      stride === 1 && channels === width
        ? undefined
        : convBn(params, `${name}/shortcut`, channels, width as number, 1, stride);
    blocks.push((x, context) => {
      const residual = shortcut === undefined ? x : shortcut(x, context);
      return tf.relu(tf.add(b(tf.relu(a(x, context)), context), residual)) as tf.Tensor4D;
    });
    channels = width as number;
  }
  const head = classifierHead(params, channels, options.classes);
  return {
    parameters: params,
    apply(images, context) {
      let x = tf.relu(stem(images, context));
      for (const block of blocks) x = block(x, context);
      return head(x, context);
    },
  };
}

function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** MobileNetV2 inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project. */
function invertedResidual(
  params: ParameterSet,
  name: string,
  inChannels: number,
  outChannels: number,
  stride: number,
  expansion: number,
): Layer<tf.Tensor4D, tf.Tensor4D> {
  const hidden = inChannels * expansion;
  const expand =
    expansion === 1 ? undefined : convBn(params, `${name}/expand`, inChannels, hidden, 1);
  const depthwise = depthwiseConv2d(params, `${name}/depthwise`, {
    channels: hidden,
    kernel: 3,
    stride,
  });
  const depthwiseBn = batchNorm(params, `${name}/depthwise/bn`, hidden);
  const project = convBn(params, `${name}/project`, hidden, outChannels, 1);
  const residual = stride === 1 && inChannels === outChannels;
  return (x, context) => {
    const expanded = expand === undefined ? x : relu6(expand(x, context));
    const filtered = relu6(depthwiseBn(depthwise(expanded, context), context));
    const projected = project(filtered, context);
    return residual ? tf.add(projected, x) : projected;
  };
}

/**
 * MobileNetV2 with the standard (t, c, n, s) table scaled by `width`, and
 * the CIFAR adaptation of stride 1 in the stem and the second stage so a
 * 32x32 input ends at 4x4 rather than 1x1.
 */
export function createMobileNetV2(
  options: ReferenceNetworkOptions,
  width: number,
): TrainableNetwork {
  const params = new ParameterSet(options.seed);
  const stemChannels = makeDivisible(32 * width);
  const stem = convBn(params, "stem", options.inChannels ?? 3, stemChannels, 3, 1);
  const table: [number, number, number, number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 1],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  const blocks: Layer<tf.Tensor4D, tf.Tensor4D>[] = [];
  let channels = stemChannels;
  for (const [stage, [expansion, baseChannels, repeats, firstStride]] of table.entries()) {
    const outChannels = makeDivisible(baseChannels * width);
    for (let i = 0; i < repeats; i++) {
      blocks.push(
        invertedResidual(
          params,
          `stage${stage}/block${i}`,
          channels,
          outChannels,
          i === 0 ? firstStride : 1,
          expansion,
        ),
      );
      channels = outChannels;
    }
  }
  const lastChannels = 1280;
  const last = convBn(params, "last", channels, lastChannels, 1);
  const head = classifierHead(params, lastChannels, options.classes);
  return {
    parameters: params,
    apply(images, context) {
      let x = relu6(stem(images, context));
      for (const block of blocks) x = block(x, context);
      return head(relu6(last(x, context)), context);
    },
  };
}

/**
 * A MobileViT block: local 3x3 conv, 1x1 projection to `dim`, transformer
 * layers over the pixels as tokens (pre-norm, GELU MLP), 1x1 projection back
 * and fusion with the input by a 3x3 conv over their concatenation.
 */
function mobileVitBlock(
  params: ParameterSet,
  name: string,
  options: { channels: number; dim: number; layers: number; heads: number; tokens: number },
): Layer<tf.Tensor4D, tf.Tensor4D> {
  const { channels, dim, layers, heads, tokens } = options;
  const local = convBn(params, `${name}/local`, channels, channels, 3);
  const toTokens = conv2d(params, `${name}/to_tokens`, {
    inChannels: channels,
    outChannels: dim,
    kernel: 1,
  });
  const transformer: Layer<tf.Tensor2D, tf.Tensor2D>[] = [];
  for (let i = 0; i < layers; i++) {
    const prefix = `${name}/transformer${i}`;
    const norm1 = layerNorm(params, `${prefix}/norm1`, dim);
    const attention = multiHeadAttention(params, `${prefix}/attention`, { dim, heads, tokens });
    const norm2 = layerNorm(params, `${prefix}/norm2`, dim);
    const mlpIn = dense(params, `${prefix}/mlp_in`, { inFeatures: dim, outFeatures: 2 * dim });
    const mlpOut = dense(params, `${prefix}/mlp_out`, { inFeatures: 2 * dim, outFeatures: dim });
    transformer.push((x, context) => {
      const attended = tf.add(x, attention(norm1(x, context), context)) as tf.Tensor2D;
      const mlp = mlpOut(gelu(mlpIn(norm2(attended, context), context)), context);
      return tf.add(attended, mlp) as tf.Tensor2D;
    });
  }
  const finalNorm = layerNorm(params, `${name}/norm`, dim);
  const fromTokens = convBn(params, `${name}/from_tokens`, dim, channels, 1);
  const fuse = convBn(params, `${name}/fuse`, 2 * channels, channels, 3);
  return (x, context) => {
    const [batch, height, width] = x.shape;
    if (height * width !== tokens) {
      throw new Error(`${name}: expected ${tokens} tokens, got ${height}x${width}`);
    }
    const features = toTokens(relu6(local(x, context)), context);
    let sequence = tf.reshape(features, [batch * tokens, dim]) as tf.Tensor2D;
    for (const layer of transformer) sequence = layer(sequence, context);
    sequence = finalNorm(sequence, context);
    const global = relu6(
      fromTokens(tf.reshape(sequence, [batch, height, width, dim]) as tf.Tensor4D, context),
    );
    return relu6(fuse(tf.concat([x, global], 3), context));
  };
}

/** MobileViT-XXS-like: MV2 stages down to 8x8 and 4x4, a MobileViT block at each. */
export function createMobileVitStyle(options: ReferenceNetworkOptions): TrainableNetwork {
  const params = new ParameterSet(options.seed);
  const stem = convBn(params, "stem", options.inChannels ?? 3, 16, 3, 1);
  const stages: Layer<tf.Tensor4D, tf.Tensor4D>[] = [
    invertedResidual(params, "mv2_0", 16, 16, 1, 2),
    invertedResidual(params, "mv2_1", 16, 24, 2, 2),
    invertedResidual(params, "mv2_2", 24, 32, 2, 2),
    mobileVitBlock(params, "vit_0", { channels: 32, dim: 48, layers: 2, heads: 4, tokens: 64 }),
    invertedResidual(params, "mv2_3", 32, 48, 2, 2),
    mobileVitBlock(params, "vit_1", { channels: 48, dim: 64, layers: 2, heads: 4, tokens: 16 }),
  ];
  const last = convBn(params, "last", 48, 192, 1);
  const head = classifierHead(params, 192, options.classes);
  return {
    parameters: params,
    apply(images, context) {
      let x = relu6(stem(images, context));
      for (const stage of stages) x = stage(x, context);
      return head(relu6(last(x, context)), context);
    },
  };
}
