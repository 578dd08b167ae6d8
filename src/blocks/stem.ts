/**
 * The stem: a 3x3 convolution (stride 1 or 2), batch norm and an activation,
 * applied to the normalised image. Kept dense by default (role
 * `first-conv`): a row of 3x3x3 = 27 weights has little to prune and no
 * block size above 1 divides it.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";
import { exportConv } from "./ir-export.js";
import { SliceableBatchNorm } from "./sliceable-batch-norm.js";
import { SliceableConv2d } from "./sliceable-layers.js";
import type { Block } from "./types.js";

export interface StemShape {
  readonly inChannels: number;
  readonly maxChannels: number;
  readonly stride: 1 | 2;
  /** ReLU for ResNet-style networks, ReLU6 for MobileNetV2 / MobileViT ones. */
  readonly activation: "relu" | "relu6";
}

export interface StemChoice {
  readonly channels: number;
}

export const STEM_KERNEL = 3;

export function createStem(
  params: ParameterSet,
  name: string,
  shape: StemShape,
): Block<StemChoice> {
  const conv = new SliceableConv2d(params, name, {
    maxInChannels: shape.inChannels,
    maxOutChannels: shape.maxChannels,
    maxKernel: STEM_KERNEL,
    stride: shape.stride,
  });
  const bn = new SliceableBatchNorm(params, `${name}/bn`, shape.maxChannels);
  const activate = shape.activation === "relu" ? tf.relu : tf.relu6;
  return {
    name,
    bind(choice) {
      const convChoice = {
        kernelSize: STEM_KERNEL,
        inChannels: shape.inChannels,
        outChannels: choice.channels,
      };
      return {
        apply: (x, context) => activate(bn.apply(conv.apply(x, convChoice), context)),
        layers: () => [conv.info(convChoice, "first-conv")],
        regions: () => [...conv.regions(convChoice), ...bn.regions(choice.channels)],
        exportTo: (context, input) =>
          exportConv(context, {
            input,
            conv,
            weight: conv.info(convChoice, "first-conv"),
            batchNorm: bn,
            activation: shape.activation,
          }),
      };
    },
  };
}
