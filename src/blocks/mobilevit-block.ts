/**
 * MobileViT block (Mehta & Rastegari, 2022), keeping the block's channels:
 *
 *   x ─► local 3x3 (BN, ReLU6) ─► embed 1x1 to embed_dim ─► unfold (p x p)
 *     ─► depth x transformer layer ─► LayerNorm ─► fold ─► proj 1x1 (BN, ReLU6)
 *     ─► concat [x, ·] ─► fusion 3x3 (BN, ReLU6) ─►
 *
 * ReLU6 replaces MobileViT's SiLU in the convolutions so they fuse into the
 * IR's conv op; the MLP keeps GELU (an int8 lookup table). The fusion conv
 * reads [x, global] as two parts, so a narrower choice slices each part.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";
import { exportConv, exportLayerNorm } from "./ir-export.js";
import { foldPatches, unfoldPatches } from "./patches.js";
import { SliceableBatchNorm } from "./sliceable-batch-norm.js";
import { type ConvChoice, SliceableConv2d, SliceableLayerNorm } from "./sliceable-layers.js";
import { createTransformerLayer, type TransformerLayerChoice } from "./transformer-layer.js";
import type { Block } from "./types.js";

export interface MobileVitBlockShape {
  readonly maxChannels: number;
  readonly maxEmbedDim: number;
  readonly maxMlpRatio: number;
  readonly maxDepth: number;
  readonly patchSize: number;
  /** Feature map size the block runs at (fixed by the input resolution and strides). */
  readonly height: number;
  readonly width: number;
}

export interface MobileVitBlockChoice {
  readonly channels: number;
  readonly embedDim: number;
  readonly heads: number;
  readonly mlpRatio: number;
  /** Transformer layers (the first ones of the supernet's). */
  readonly depth: number;
}

export function createMobileVitBlock(
  params: ParameterSet,
  name: string,
  shape: MobileVitBlockShape,
): Block<MobileVitBlockChoice> {
  const { maxChannels, maxEmbedDim, patchSize, height, width } = shape;
  if (height % patchSize !== 0 || width % patchSize !== 0) {
    throw new Error(
      `${name}: patch size ${patchSize} does not divide the ${height}x${width} feature map`,
    );
  }
  const tokens = (height / patchSize) * (width / patchSize);
  const local = new SliceableConv2d(params, `${name}.local`, {
    maxInChannels: maxChannels,
    maxOutChannels: maxChannels,
    maxKernel: 3,
    stride: 1,
  });
  const localBn = new SliceableBatchNorm(params, `${name}.local/bn`, maxChannels);
  const embed = new SliceableConv2d(params, `${name}.embed`, {
    maxInChannels: maxChannels,
    maxOutChannels: maxEmbedDim,
    maxKernel: 1,
    stride: 1,
  });
  const transformer = Array.from({ length: shape.maxDepth }, (_, i) =>
    createTransformerLayer(params, `${name}.layer${i}`, {
      maxDim: maxEmbedDim,
      maxMlpRatio: shape.maxMlpRatio,
      tokens,
    }),
  );
  const norm = new SliceableLayerNorm(params, `${name}.norm`, maxEmbedDim);
  const proj = new SliceableConv2d(params, `${name}.proj`, {
    maxInChannels: maxEmbedDim,
    maxOutChannels: maxChannels,
    maxKernel: 1,
    stride: 1,
  });
  const projBn = new SliceableBatchNorm(params, `${name}.proj/bn`, maxChannels);
  const fusion = new SliceableConv2d(params, `${name}.fusion`, {
    maxInChannels: 2 * maxChannels,
    maxOutChannels: maxChannels,
    maxKernel: 3,
    stride: 1,
    inputParts: 2,
  });
  const fusionBn = new SliceableBatchNorm(params, `${name}.fusion/bn`, maxChannels);
  return {
    name,
    bind(choice) {
      const { channels, embedDim, depth } = choice;
      if (!(Number.isInteger(depth) && depth >= 1 && depth <= shape.maxDepth)) {
        throw new Error(`${name}: depth ${depth} is outside 1..${shape.maxDepth}`);
      }
      const localChoice: ConvChoice = {
        kernelSize: 3,
        inChannels: channels,
        outChannels: channels,
      };
      const embedChoice: ConvChoice = {
        kernelSize: 1,
        inChannels: channels,
        outChannels: embedDim,
      };
      const projChoice: ConvChoice = { kernelSize: 1, inChannels: embedDim, outChannels: channels };
      const fusionChoice: ConvChoice = {
        kernelSize: 3,
        inChannels: 2 * channels,
        outChannels: channels,
      };
      const layerChoice: TransformerLayerChoice = {
        dim: embedDim,
        heads: choice.heads,
        mlpRatio: choice.mlpRatio,
      };
      const layers = transformer.slice(0, depth).map((layer) => layer.bind(layerChoice));
      return {
        apply(x, context) {
          const [batch] = x.shape;
          const features = embed.apply(
            tf.relu6(localBn.apply(local.apply(x, localChoice), context)),
            embedChoice,
          );
          let sequence = unfoldPatches(features, patchSize);
          for (const layer of layers) sequence = layer.apply(sequence, context);
          const global = foldPatches(norm.apply(sequence), patchSize, { batch, height, width });
          const projected = tf.relu6(projBn.apply(proj.apply(global, projChoice), context));
          const fused = fusion.apply(tf.concat([x, projected], 3), fusionChoice);
          return tf.relu6(fusionBn.apply(fused, context));
        },
        layers: () => [
          local.info(localChoice, "hidden"),
          embed.info(embedChoice, "hidden"),
          ...layers.flatMap((layer) => layer.layers()),
          proj.info(projChoice, "hidden"),
          fusion.info(fusionChoice, "hidden"),
        ],
        regions: () => [
          ...local.regions(localChoice),
          ...localBn.regions(channels),
          ...embed.regions(embedChoice),
          ...layers.flatMap((layer) => layer.regions()),
          ...norm.regions(embedDim),
          ...proj.regions(projChoice),
          ...projBn.regions(channels),
          ...fusion.regions(fusionChoice),
          ...fusionBn.regions(channels),
        ],
        exportTo(context, input) {
          const { builder } = context;
          const localOut = exportConv(context, {
            input,
            conv: local,
            weight: local.info(localChoice, "hidden"),
            batchNorm: localBn,
            activation: "relu6",
          });
          const embedded = exportConv(context, {
            input: localOut,
            conv: embed,
            weight: embed.info(embedChoice, "hidden"),
            activation: "none",
          });
          let sequence = builder.op({
            type: "unfold",
            name: `${name}.unfold`,
            inputs: [embedded],
            attrs: { patchSize: [patchSize, patchSize] },
          });
          for (const layer of layers) sequence = layer.exportTo(context, sequence);
          const normed = exportLayerNorm(context, { input: sequence, norm, features: embedDim });
          const folded = builder.op({
            type: "fold",
            name: `${name}.fold`,
            inputs: [normed],
            attrs: { patchSize: [patchSize, patchSize], height, width },
          });
          const projected = exportConv(context, {
            input: folded,
            conv: proj,
            weight: proj.info(projChoice, "hidden"),
            batchNorm: projBn,
            activation: "relu6",
          });
          const joined = builder.op({
            type: "concat",
            name: `${name}.concat`,
            inputs: [input, projected],
            attrs: { axis: -1 },
          });
          return exportConv(context, {
            input: joined,
            conv: fusion,
            weight: fusion.info(fusionChoice, "hidden"),
            batchNorm: fusionBn,
            activation: "relu6",
          });
        },
      };
    },
  };
}
