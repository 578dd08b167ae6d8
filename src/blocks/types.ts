/**
 * What every block of the library offers: a forward pass for one active
 * choice, the weight layers that choice uses (for pruning and reports), the
 * variables it reads (for the optimiser) and its export to the model IR.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { ModelBuilder } from "../model-ir/builder.js";
import type { BlockSize } from "../model-ir/types.js";
import type { ForwardContext } from "../training/layers.js";

/** How a weight layer computes: the IR op it exports to and its weight layout. */
export type WeightLayerKind = "conv2d" | "depthwise-conv2d" | "linear";

/**
 * Where a layer sits. The first convolution (3 input channels: a row of 27
 * weights) and the classifier are kept dense, as pruning them costs accuracy
 * for little storage; every other conv and linear layer is prunable.
 */
export type WeightLayerRole = "first-conv" | "hidden" | "classifier";

/** A conv or linear layer of the active sub-network, as pruning sees it. */
export interface WeightLayerInfo {
  /** Stable name: tfjs parameter prefix, IR op name, `sparsity.per_layer` key. */
  readonly name: string;
  readonly kind: WeightLayerKind;
  readonly role: WeightLayerRole;
  /** `role === "hidden"`: the export accepts a block size for it. */
  readonly prunable: boolean;
  /** The IR weight shape: OHWI for convolutions, [out, in] for linear layers. */
  readonly irShape: readonly number[];
  /** Weights per output row along the reduction axis: blocks run along it. */
  readonly rowLength: number;
  /** The supernet variable whose slice this layer's weight is (tfjs layout, largest size). */
  readonly variable: tf.Variable;
  /**
   * The active weight in IR layout (`irShape`), before batch-norm folding.
   * Folding scales whole rows, so a zero block here is a zero block in the IR.
   */
  readWeight(): Float32Array;
  /** Writes the active weight (IR layout) back into its slice of the supernet variable. */
  writeWeight(values: Float32Array): void;
}

/** A box of a variable: `size` elements from `begin` along each axis (the variable's layout). */
export interface VariableBox {
  readonly begin: readonly number[];
  readonly size: readonly number[];
}

/**
 * The part of a supernet variable one sub-network reads: one box, or one per
 * input part (MobileViT's fusion conv reads two slices of its input axis).
 * Training uses it to update, decay and count only what a step used.
 */
export interface VariableRegion {
  readonly variable: tf.Variable;
  readonly boxes: readonly VariableBox[];
}

/** Export state shared by all blocks of one model. */
export interface ExportContext {
  readonly builder: ModelBuilder;
  /**
   * The block size of a pruned weight, or undefined for a dense one. Throws
   * when the block size does not divide the layer's row length.
   */
  blockSizeOf(layer: string, rowLength: number): BlockSize | undefined;
}

/** A block with its choice fixed: what a sub-network is made of. */
export interface ActiveBlock<I extends tf.Tensor = tf.Tensor4D, O extends tf.Tensor = tf.Tensor4D> {
  apply(x: I, context: ForwardContext): O;
  /** Conv and linear layers in forward order. */
  layers(): WeightLayerInfo[];
  /** Every variable (trainable and state) the forward pass reads, and the part of it it reads. */
  regions(): VariableRegion[];
  /** Appends the block's ops after tensor `input`; returns the output tensor's name. */
  exportTo(context: ExportContext, input: string): string;
}

/** A block of the supernet: weights at their largest size, sliced per choice. */
export interface Block<C, I extends tf.Tensor = tf.Tensor4D, O extends tf.Tensor = tf.Tensor4D> {
  readonly name: string;
  bind(choice: C): ActiveBlock<I, O>;
}
