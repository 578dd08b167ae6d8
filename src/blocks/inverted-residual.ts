/**
 * MobileNetV2 inverted residual: 1x1 expansion (BN, ReLU6), k x k depthwise
 * (stride, BN, ReLU6), 1x1 linear projection (BN), plus the input when the
 * shapes allow (stride 1, as many output as input channels).
 *
 *   x ─► expand ─► depthwise ─► project ─► (+ x) ─►
 *
 * The expansion layer exists when the largest expansion exceeds 1 (with a
 * single expansion of 1 there is nothing to expand, as in MobileNetV2's first
 * block); a sub-network that picks expansion 1 in a supernet that has the
 * layer still runs it, as an in -> in 1x1 convolution.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";
import { exportConv } from "./ir-export.js";
import { SliceableBatchNorm } from "./sliceable-batch-norm.js";
import {
  type ConvChoice,
  type DepthwiseChoice,
  SliceableConv2d,
  SliceableDepthwiseConv2d,
} from "./sliceable-layers.js";
import type { Block } from "./types.js";

export interface InvertedResidualShape {
  readonly maxInChannels: number;
  readonly maxOutChannels: number;
  readonly maxExpansion: number;
  readonly maxKernel: number;
  readonly stride: 1 | 2;
}

export interface InvertedResidualChoice {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly expansion: number;
  readonly kernelSize: number;
}

export function createInvertedResidual(
  params: ParameterSet,
  name: string,
  shape: InvertedResidualShape,
): Block<InvertedResidualChoice> {
  const maxHidden = shape.maxInChannels * shape.maxExpansion;
  const expand =
    shape.maxExpansion > 1
      ? {
          conv: new SliceableConv2d(params, `${name}.expand`, {
            maxInChannels: shape.maxInChannels,
            maxOutChannels: maxHidden,
            maxKernel: 1,
            stride: 1,
          }),
          bn: new SliceableBatchNorm(params, `${name}.expand/bn`, maxHidden),
        }
      : undefined;
  const depthwise = new SliceableDepthwiseConv2d(params, `${name}.depthwise`, {
    maxChannels: maxHidden,
    maxKernel: shape.maxKernel,
    stride: shape.stride,
  });
  const depthwiseBn = new SliceableBatchNorm(params, `${name}.depthwise/bn`, maxHidden);
  const project = new SliceableConv2d(params, `${name}.project`, {
    maxInChannels: maxHidden,
    maxOutChannels: shape.maxOutChannels,
    maxKernel: 1,
    stride: 1,
  });
  const projectBn = new SliceableBatchNorm(params, `${name}.project/bn`, shape.maxOutChannels);
  return {
    name,
    bind(choice) {
      if (expand === undefined && choice.expansion !== 1) {
        throw new Error(
          `${name}: expansion ${choice.expansion}, but the block has no expansion layer`,
        );
      }
      const hidden = choice.inChannels * choice.expansion;
      const expandChoice: ConvChoice = {
        kernelSize: 1,
        inChannels: choice.inChannels,
        outChannels: hidden,
      };
      const depthwiseChoice: DepthwiseChoice = { kernelSize: choice.kernelSize, channels: hidden };
      const projectChoice: ConvChoice = {
        kernelSize: 1,
        inChannels: hidden,
        outChannels: choice.outChannels,
      };
      const residual = shape.stride === 1 && choice.inChannels === choice.outChannels;
      const layers = () => [
        ...(expand === undefined ? [] : [expand.conv.info(expandChoice, "hidden")]),
        depthwise.info(depthwiseChoice, "hidden"),
        project.info(projectChoice, "hidden"),
      ];
      return {
        apply(x, context) {
          const expanded =
            expand === undefined
              ? x
              : tf.relu6(expand.bn.apply(expand.conv.apply(x, expandChoice), context));
          const filtered = tf.relu6(
            depthwiseBn.apply(depthwise.apply(expanded, depthwiseChoice), context),
          );
          const projected = projectBn.apply(project.apply(filtered, projectChoice), context);
          return residual ? tf.add(projected, x) : projected;
        },
        layers,
        regions: () => [
          ...(expand === undefined
            ? []
            : [...expand.conv.regions(expandChoice), ...expand.bn.regions(hidden)]),
          ...depthwise.regions(depthwiseChoice),
          ...depthwiseBn.regions(hidden),
          ...project.regions(projectChoice),
          ...projectBn.regions(choice.outChannels),
        ],
        exportTo(context, input) {
          let x = input;
          if (expand !== undefined) {
            x = exportConv(context, {
              input: x,
              conv: expand.conv,
              weight: expand.conv.info(expandChoice, "hidden"),
              batchNorm: expand.bn,
              activation: "relu6",
            });
          }
          x = exportConv(context, {
            input: x,
            conv: depthwise,
            weight: depthwise.info(depthwiseChoice, "hidden"),
            batchNorm: depthwiseBn,
            activation: "relu6",
          });
          x = exportConv(context, {
            input: x,
            conv: project,
            weight: project.info(projectChoice, "hidden"),
            batchNorm: projectBn,
            activation: "none",
          });
          if (!residual) return x;
          return context.builder.op({
            type: "add",
            name: `${name}.add`,
            inputs: [x, input],
            attrs: { activation: "none" },
          });
        },
      };
    },
  };
}
