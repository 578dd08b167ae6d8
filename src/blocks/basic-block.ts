/**
 * ResNet basic block: two k x k convolutions (the first with the stride,
 * each with batch norm, ReLU after the first), the shortcut added, then ReLU.
 * The shortcut is the input itself when shapes match and a 1x1 convolution
 * with batch norm (same stride) otherwise.
 *
 *   x ─► conv1 ─► conv2 ─► (+) ─► relu ─►
 *   └──────── shortcut ────┘
 *
 * `projection` says whether the block owns the 1x1 shortcut: it must when
 * some choice of the search space changes the shape (the network decides
 * from the choice lists). A choice that keeps the shape uses the identity.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";
import { exportConv } from "./ir-export.js";
import { SliceableBatchNorm } from "./sliceable-batch-norm.js";
import { type ConvChoice, SliceableConv2d } from "./sliceable-layers.js";
import type { Block } from "./types.js";

export interface BasicBlockShape {
  readonly maxInChannels: number;
  readonly maxOutChannels: number;
  readonly maxKernel: number;
  readonly stride: 1 | 2;
  /** Create the 1x1 projection shortcut. */
  readonly projection: boolean;
}

export interface BasicBlockChoice {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
}

export function createBasicBlock(
  params: ParameterSet,
  name: string,
  shape: BasicBlockShape,
): Block<BasicBlockChoice> {
  const conv1 = new SliceableConv2d(params, `${name}.conv1`, {
    maxInChannels: shape.maxInChannels,
    maxOutChannels: shape.maxOutChannels,
    maxKernel: shape.maxKernel,
    stride: shape.stride,
  });
  const bn1 = new SliceableBatchNorm(params, `${name}.conv1/bn`, shape.maxOutChannels);
  const conv2 = new SliceableConv2d(params, `${name}.conv2`, {
    maxInChannels: shape.maxOutChannels,
    maxOutChannels: shape.maxOutChannels,
    maxKernel: shape.maxKernel,
    stride: 1,
  });
  const bn2 = new SliceableBatchNorm(params, `${name}.conv2/bn`, shape.maxOutChannels);
  const shortcut = shape.projection
    ? {
        conv: new SliceableConv2d(params, `${name}.shortcut`, {
          maxInChannels: shape.maxInChannels,
          maxOutChannels: shape.maxOutChannels,
          maxKernel: 1,
          stride: shape.stride,
        }),
        bn: new SliceableBatchNorm(params, `${name}.shortcut/bn`, shape.maxOutChannels),
      }
    : undefined;
  return {
    name,
    bind(choice) {
      const { inChannels, outChannels, kernelSize } = choice;
      const conv1Choice: ConvChoice = { kernelSize, inChannels, outChannels };
      const conv2Choice: ConvChoice = { kernelSize, inChannels: outChannels, outChannels };
      const shortcutChoice: ConvChoice = { kernelSize: 1, inChannels, outChannels };
      const project = shape.stride !== 1 || inChannels !== outChannels;
      if (project && shortcut === undefined) {
        throw new Error(
          `${name}: ${inChannels} -> ${outChannels} channels, stride ${shape.stride}, but no projection shortcut`,
        );
      }
      const active = project ? shortcut : undefined;
      return {
        apply(x, context) {
          const a = tf.relu(bn1.apply(conv1.apply(x, conv1Choice), context));
          const b = bn2.apply(conv2.apply(a, conv2Choice), context);
          const residual =
            active === undefined
              ? x
              : active.bn.apply(active.conv.apply(x, shortcutChoice), context);
          return tf.relu(tf.add(b, residual)) as tf.Tensor4D;
        },
        layers: () => [
          conv1.info(conv1Choice, "hidden"),
          conv2.info(conv2Choice, "hidden"),
          ...(active === undefined ? [] : [active.conv.info(shortcutChoice, "hidden")]),
        ],
        regions: () => [
          ...conv1.regions(conv1Choice),
          ...bn1.regions(outChannels),
          ...conv2.regions(conv2Choice),
          ...bn2.regions(outChannels),
          ...(active === undefined
            ? []
            : [...active.conv.regions(shortcutChoice), ...active.bn.regions(outChannels)]),
        ],
        exportTo(context, input) {
          const a = exportConv(context, {
            input,
            conv: conv1,
            weight: conv1.info(conv1Choice, "hidden"),
            batchNorm: bn1,
            activation: "relu",
          });
          const b = exportConv(context, {
            input: a,
            conv: conv2,
            weight: conv2.info(conv2Choice, "hidden"),
            batchNorm: bn2,
            activation: "none",
          });
          const residual =
            active === undefined
              ? input
              : exportConv(context, {
                  input,
                  conv: active.conv,
                  weight: active.conv.info(shortcutChoice, "hidden"),
                  batchNorm: active.bn,
                  activation: "none",
                });
          return context.builder.op({
            type: "add",
            name: `${name}.add`,
            inputs: [b, residual],
            attrs: { activation: "relu" },
          });
        },
      };
    },
  };
}
