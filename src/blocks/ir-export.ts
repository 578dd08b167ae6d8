/**
 * Shared pieces of the export to the float model IR: conv with batch norm
 * folded in (running statistics), linear and LayerNorm ops, and the export
 * context that hands out per-layer block sizes.
 *
 * Folding multiplies each output row by one factor, so a weight pruned to
 * zero stays an exact zero (a -0 that a negative factor makes is written as
 * +0, so the blob holds the same bytes whatever the sign of gamma).
 */
import type { ModelBuilder } from "../model-ir/builder.js";
import { BLOCK_SIZES, type BlockSize, type FusedActivation } from "../model-ir/types.js";
import type { SliceableBatchNorm } from "./sliceable-batch-norm.js";
import type {
  SliceableConv2d,
  SliceableDepthwiseConv2d,
  SliceableLayerNorm,
  SliceableLinear,
} from "./sliceable-layers.js";
import type { ExportContext, WeightLayerInfo } from "./types.js";

/**
 * Block sizes of pruned weights, by layer name (`stage1.block0.expand`).
 * Layers not listed export dense (no `sparsity` in the IR).
 */
export type BlockSizeMap = ReadonlyMap<string, BlockSize> | Readonly<Record<string, BlockSize>>;

function toMap(blockSizes: BlockSizeMap | undefined): ReadonlyMap<string, BlockSize> {
  if (blockSizes === undefined) return new Map();
  return blockSizes instanceof Map
    ? blockSizes
    : new Map(Object.entries(blockSizes as Readonly<Record<string, BlockSize>>));
}

/**
 * An export context over `builder`. Every name in `blockSizes` must be a
 * prunable layer of `layers`: a typo or a kept-dense layer is an error, not a
 * silently dense weight.
 */
export function createExportContext(
  builder: ModelBuilder,
  layers: readonly WeightLayerInfo[],
  blockSizes?: BlockSizeMap,
): ExportContext {
  const sizes = toMap(blockSizes);
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  for (const [name, size] of sizes) {
    const layer = byName.get(name);
    if (layer === undefined) {
      throw new Error(
        `block size given for ${name}, which is not a conv or linear layer of this network (layers: ${[...byName.keys()].join(", ")})`,
      );
    }
    if (!layer.prunable) {
      throw new Error(`block size given for ${name}, which is kept dense (${layer.role})`);
    }
    if (!BLOCK_SIZES.includes(size))
      throw new Error(`${name}: block size ${size} is not 1, 4, 8 or 16`);
  }
  return {
    builder,
    blockSizeOf(layer, rowLength) {
      const size = sizes.get(layer);
      if (size !== undefined && rowLength % size !== 0) {
        throw new Error(`${layer}: block size ${size} does not divide its row length ${rowLength}`);
      }
      return size;
    },
  };
}

/** float64 -> float32 with -0 written as +0. */
function toFloat32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.fround(values[i] as number);
    out[i] = v === 0 ? 0 : v;
  }
  return out;
}

export interface ConvExport {
  readonly input: string;
  readonly conv: SliceableConv2d | SliceableDepthwiseConv2d;
  /** The weight view of the active choice (from `conv.info`); its name names the op. */
  readonly weight: WeightLayerInfo;
  /** Folded into weights and bias; without it the conv has no bias. */
  readonly batchNorm?: SliceableBatchNorm;
  readonly activation: FusedActivation;
}

/** A conv2d op (depthwise: groups = channels) with batch norm folded in. */
export function exportConv(context: ExportContext, spec: ConvExport): string {
  const { builder } = context;
  const { weight } = spec;
  const name = weight.name;
  const [outChannels = 0] = weight.irShape;
  const values: ArrayLike<number> = weight.readWeight();
  let folded: ArrayLike<number> = values;
  const inputs = [spec.input];
  let bias: Float32Array | undefined;
  if (spec.batchNorm !== undefined) {
    const { scale, shift } = spec.batchNorm.fold(outChannels);
    const scaled = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      scaled[i] = (values[i] as number) * (scale[Math.floor(i / weight.rowLength)] as number);
    }
    folded = scaled;
    bias = toFloat32(shift);
  }
  const blockSize = context.blockSizeOf(name, weight.rowLength);
  inputs.push(
    builder.constant(
      `${name}.weight`,
      [...weight.irShape],
      toFloat32(folded),
      blockSize === undefined ? {} : { blockSize },
    ),
  );
  if (bias !== undefined) inputs.push(builder.constant(`${name}.bias`, [outChannels], bias));
  const stride = spec.conv.shape.stride;
  const groups = weight.kind === "depthwise-conv2d" ? outChannels : 1;
  return builder.op({
    type: "conv2d",
    name,
    inputs,
    attrs: {
      strides: [stride, stride],
      dilations: [1, 1],
      padding: "same",
      groups,
      activation: spec.activation,
    },
  });
}

/** A linear op over the last axis. */
export function exportLinear(
  context: ExportContext,
  spec: {
    readonly input: string;
    readonly linear: SliceableLinear;
    readonly weight: WeightLayerInfo;
    readonly activation?: FusedActivation;
  },
): string {
  const { builder } = context;
  const { weight } = spec;
  const name = weight.name;
  const [outFeatures = 0] = weight.irShape;
  const blockSize = context.blockSizeOf(name, weight.rowLength);
  const w = builder.constant(
    `${name}.weight`,
    [...weight.irShape],
    toFloat32(weight.readWeight()),
    blockSize === undefined ? {} : { blockSize },
  );
  const b = builder.constant(
    `${name}.bias`,
    [outFeatures],
    toFloat32(spec.linear.activeBias(outFeatures)),
  );
  return builder.op({
    type: "linear",
    name,
    inputs: [spec.input, w, b],
    attrs: { activation: spec.activation ?? "none" },
  });
}

export function exportLayerNorm(
  context: ExportContext,
  spec: { readonly input: string; readonly norm: SliceableLayerNorm; readonly features: number },
): string {
  const { builder } = context;
  const { name } = spec.norm;
  const { gamma, beta } = spec.norm.activeParameters(spec.features);
  const g = builder.constant(`${name}.gamma`, [spec.features], gamma);
  const b = builder.constant(`${name}.beta`, [spec.features], beta);
  return builder.op({
    type: "layer_norm",
    name,
    inputs: [spec.input, g, b],
    attrs: { epsilon: spec.norm.epsilon },
  });
}
