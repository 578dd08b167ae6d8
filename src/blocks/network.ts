/**
 * Networks assembled from a recipe's `search_space`: a stem, the stages in
 * order, and the classifier head.
 *
 *   image ─► stem ─► stage0 ─► stage1 ─► ... ─► classifier (pool, linear) ─► logits
 *
 * `createSupernet` allocates every layer at the largest value of every
 * field; `supernet.subnet(choice)` is one sub-network whose weights are
 * slices of the supernet's. `createNetwork` is the fixed-network shortcut:
 * a supernet bound to its only (or the given) choice.
 *
 * Layer names (tfjs parameter prefixes, IR op names, the keys of
 * `sparsity.per_layer` and `keep_dense`):
 *
 *   stem                                   first conv (kept dense)
 *   stage<i>.block<j>.expand|depthwise|project     mbv2
 *   stage<i>.block<j>.conv1|conv2|shortcut         resnet
 *   stage<i>.down.expand|depthwise|project         mobilevit: MV2 transition
 *   stage<i>.block0.local|embed|proj|fusion        mobilevit convolutions
 *   stage<i>.block0.layer<l>.attn.q|k|v|proj       mobilevit attention
 *   stage<i>.block0.layer<l>.mlp.fc1|fc2           mobilevit MLP
 *   classifier                             linear head (kept dense)
 *
 * LayerNorms (`stage<i>.block0.layer<l>.norm1|norm2`, `stage<i>.block0.norm`)
 * are named the same way but have no prunable weight. tfjs parameters are
 * `<layer>/kernel`, `<layer>/bias`, `<layer>/bn/gamma|beta|moving_mean|
 * moving_variance`, `<norm>/gamma|beta`; IR constants `<layer>.weight`,
 * `<layer>.bias`.
 *
 * Stages and blocks count from 0. A stage's first block applies its stride.
 * A MobileViT block keeps its channels, so a mobilevit stage that strides or
 * changes the channel count starts with a MobileNetV2 transition block
 * (expansion 2, 3x3), as MobileViT places one before each of its blocks.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { createModelBuilder } from "../model-ir/builder.js";
import type { Model } from "../model-ir/types.js";
import { type ForwardContext, ParameterSet } from "../training/layers.js";
import type { TrainableNetwork } from "../training/loop.js";
import { createBasicBlock } from "./basic-block.js";
import { createClassifierHead } from "./classifier-head.js";
import { createInvertedResidual } from "./inverted-residual.js";
import { type BlockSizeMap, createExportContext } from "./ir-export.js";
import { createMobileVitBlock } from "./mobilevit-block.js";
import {
  type ArchitectureChoice,
  choicesOf,
  largestChoice,
  type PartialArchitectureChoice,
  resolveArchitectureChoice,
  type SearchSpace,
} from "./search-space.js";
import { createStem } from "./stem.js";
import type { ActiveBlock, VariableRegion, WeightLayerInfo } from "./types.js";

/** Expansion of the MV2 block that precedes a MobileViT block when it strides or widens. */
export const MOBILEVIT_TRANSITION_EXPANSION = 2;

export interface NetworkOptions {
  readonly classes: number;
  /** Square input size in pixels (`dataset.input_resolution_px`). */
  readonly inputResolution: number;
  /** Seeds weight initialisation and dropout masks. */
  readonly seed: number;
  /** @default 3 */
  readonly inChannels?: number;
}

export interface ExportOptions {
  /** The IR model's name. @default "tinyformer-float" */
  readonly name?: string;
  /** Batch size of the IR input `image` [batch, R, R, C]. @default 1 */
  readonly batch?: number;
  /**
   * Block size of each pruned weight, by layer name. Only prunable layers
   * (not `stem`, not `classifier`) may be listed; the block size must divide
   * the layer's row length (`WeightLayerInfo.rowLength`).
   */
  readonly blockSizes?: BlockSizeMap;
}

export interface Supernet {
  readonly parameters: ParameterSet;
  readonly searchSpace: SearchSpace;
  readonly options: NetworkOptions;
  /** Logits of the sub-network `choice` (a resolved choice: see `resolveArchitectureChoice`). */
  apply(images: tf.Tensor4D, context: ForwardContext, choice: ArchitectureChoice): tf.Tensor2D;
  /** The sub-network `choice` (fields with one value may be left out). */
  subnet(choice?: PartialArchitectureChoice): Network;
  dispose(): void;
}

/** One sub-network: what training, pruning and export work on. */
export interface Network extends TrainableNetwork {
  readonly choice: ArchitectureChoice;
  readonly supernet: Supernet;
  /** Conv and linear layers in forward order. */
  layers(): WeightLayerInfo[];
  /** The part of each supernet variable this sub-network reads. */
  regions(): VariableRegion[];
  /** The float model IR with batch norm folded: runFloat(model) equals apply(x, {training: false}). */
  exportModel(options?: ExportOptions): Model;
}

interface ActiveNetwork {
  readonly blocks: ActiveBlock[];
  readonly head: ActiveBlock<tf.Tensor4D, tf.Tensor2D>;
}

type BlockBinder = (choice: ArchitectureChoice, inChannels: number) => ActiveBlock[];

/**
 * The supernet of a search space. Spatial sizes are fixed by
 * `options.inputResolution` (MobileViT blocks need them to count tokens).
 */
export function createSupernet(space: SearchSpace, options: NetworkOptions): Supernet {
  const params = new ParameterSet(options.seed);
  const inChannels = options.inChannels ?? 3;
  const allResNet = space.stages.every((stage) => stage.block === "resnet");
  const stem = createStem(params, "stem", {
    inChannels,
    maxChannels: largestChoice(space.stem.channels),
    stride: space.stem.stride,
    activation: allResNet ? "relu" : "relu6",
  });
  let size = Math.ceil(options.inputResolution / space.stem.stride);
  let previous = choicesOf(space.stem.channels);
  const binders: BlockBinder[] = [];
  for (const [index, stage] of space.stages.entries()) {
    const prefix = `stage${index}`;
    const channels = choicesOf(stage.channels);
    const maxIn = Math.max(...previous);
    const maxOut = Math.max(...channels);
    // Could some choice change the shape at the stage's first block?
    const reshapes =
      stage.stride !== 1 ||
      !(previous.length === 1 && channels.length === 1 && previous[0] === channels[0]);
    size = Math.ceil(size / stage.stride);
    switch (stage.block) {
      case "mbv2": {
        const blocks = Array.from({ length: largestChoice(stage.depth) }, (_, j) =>
          createInvertedResidual(params, `${prefix}.block${j}`, {
            maxInChannels: j === 0 ? maxIn : maxOut,
            maxOutChannels: maxOut,
            maxExpansion: largestChoice(stage.expansion),
            maxKernel: largestChoice(stage.kernel_size),
            stride: j === 0 ? stage.stride : 1,
          }),
        );
        binders.push((choice, stageIn) => {
          const c = choice.stages[index];
          if (c?.block !== "mbv2") throw new Error(`${prefix}: expected an mbv2 choice`);
          return blocks.slice(0, c.depth).map((block, j) =>
            block.bind({
              inChannels: j === 0 ? stageIn : c.channels,
              outChannels: c.channels,
              expansion: c.expansion,
              kernelSize: c.kernel_size,
            }),
          );
        });
        break;
      }
      case "resnet": {
        const blocks = Array.from({ length: largestChoice(stage.depth) }, (_, j) =>
          createBasicBlock(params, `${prefix}.block${j}`, {
            maxInChannels: j === 0 ? maxIn : maxOut,
            maxOutChannels: maxOut,
            maxKernel: largestChoice(stage.kernel_size),
            stride: j === 0 ? stage.stride : 1,
            projection: j === 0 && reshapes,
          }),
        );
        binders.push((choice, stageIn) => {
          const c = choice.stages[index];
          if (c?.block !== "resnet") throw new Error(`${prefix}: expected a resnet choice`);
          return blocks.slice(0, c.depth).map((block, j) =>
            block.bind({
              inChannels: j === 0 ? stageIn : c.channels,
              outChannels: c.channels,
              kernelSize: c.kernel_size,
            }),
          );
        });
        break;
      }
      case "mobilevit": {
        const transition = reshapes
          ? createInvertedResidual(params, `${prefix}.down`, {
              maxInChannels: maxIn,
              maxOutChannels: maxOut,
              maxExpansion: MOBILEVIT_TRANSITION_EXPANSION,
              maxKernel: 3,
              stride: stage.stride,
            })
          : undefined;
        if (size % stage.patch_size !== 0) {
          throw new Error(
            `search_space.stages[${index}].patch_size ${stage.patch_size} does not divide the ${size}x${size} feature map of that stage (input ${options.inputResolution} px)`,
          );
        }
        const block = createMobileVitBlock(params, `${prefix}.block0`, {
          maxChannels: maxOut,
          maxEmbedDim: largestChoice(stage.embed_dim),
          maxMlpRatio: largestChoice(stage.mlp_ratio),
          maxDepth: largestChoice(stage.depth),
          patchSize: stage.patch_size,
          height: size,
          width: size,
        });
        binders.push((choice, stageIn) => {
          const c = choice.stages[index];
          if (c?.block !== "mobilevit") throw new Error(`${prefix}: expected a mobilevit choice`);
          const down = transition?.bind({
            inChannels: stageIn,
            outChannels: c.channels,
            expansion: MOBILEVIT_TRANSITION_EXPANSION,
            kernelSize: 3,
          });
          const vit = block.bind({
            channels: c.channels,
            embedDim: c.embed_dim,
            heads: c.heads,
            mlpRatio: c.mlp_ratio,
            depth: c.depth,
          });
          return down === undefined ? [vit] : [down, vit];
        });
        break;
      }
      default:
        throw new Error(`${prefix}: unknown block ${JSON.stringify(stage satisfies never)}`);
    }
    previous = channels;
  }
  const head = createClassifierHead(params, "classifier", {
    maxInChannels: Math.max(...previous),
    classes: options.classes,
    dropout: space.head.dropout,
    seed: options.seed,
  });

  const bindAll = (choice: ArchitectureChoice): ActiveNetwork => {
    const blocks: ActiveBlock[] = [stem.bind(choice.stem)];
    let channels = choice.stem.channels;
    for (const [index, bind] of binders.entries()) {
      blocks.push(...bind(choice, channels));
      channels = choice.stages[index]?.channels ?? channels;
    }
    return { blocks, head: head.bind({ inChannels: channels }) };
  };

  const supernet: Supernet = {
    parameters: params,
    searchSpace: space,
    options,
    apply(images, context, choice) {
      return forward(bindAll(choice), images, context);
    },
    subnet(partial) {
      const choice = resolveArchitectureChoice(space, partial);
      const active = bindAll(choice);
      const layers = () => [
        ...active.blocks.flatMap((block) => block.layers()),
        ...active.head.layers(),
      ];
      const regions = () => [
        ...active.blocks.flatMap((block) => block.regions()),
        ...active.head.regions(),
      ];
      return {
        choice,
        supernet,
        parameters: parameterView(
          params,
          regions().map((region) => region.variable),
        ),
        apply: (images, context) => forward(active, images, context),
        layers,
        regions,
        exportModel(exportOptions = {}) {
          const builder = createModelBuilder(exportOptions.name ?? "tinyformer-float");
          const context = createExportContext(builder, layers(), exportOptions.blockSizes);
          const resolution = options.inputResolution;
          let x = builder.input("image", [
            exportOptions.batch ?? 1,
            resolution,
            resolution,
            inChannels,
          ]);
          for (const block of active.blocks) x = block.exportTo(context, x);
          builder.output(active.head.exportTo(context, x));
          return builder.finish();
        },
      };
    },
    dispose: () => params.dispose(),
  };
  return supernet;
}

function forward(active: ActiveNetwork, images: tf.Tensor4D, context: ForwardContext): tf.Tensor2D {
  let x = images;
  for (const block of active.blocks) x = block.apply(x, context);
  return active.head.apply(x, context);
}

/**
 * The supernet's parameter set when the sub-network reads every variable;
 * otherwise a view holding only those it reads, so an optimiser over
 * `network.parameters.trainable` gets a gradient for each. Disposing a view
 * releases nothing: the supernet owns the variables.
 */
function parameterView(params: ParameterSet, used: readonly tf.Variable[]): ParameterSet {
  const usedSet = new Set(used);
  if (params.all().every((variable) => usedSet.has(variable))) return params;
  const view = new SubnetParameters();
  for (const variable of params.all()) {
    if (!usedSet.has(variable)) continue;
    (variable.trainable ? view.trainable : view.state).push(variable);
    view.byName.set(params.nameOf(variable), variable);
  }
  return view;
}

class SubnetParameters extends ParameterSet {
  constructor() {
    super(0);
  }
  override dispose(): void {
    this.trainable.length = 0;
    this.state.length = 0;
    this.byName.clear();
  }
}

/**
 * A fixed network: the search space's only choice, or `choice` when some
 * field has several values. Its `parameters` own the whole supernet; dispose
 * them (or `network.supernet.dispose()`) when done.
 */
export function createNetwork(
  space: SearchSpace,
  options: NetworkOptions,
  choice?: PartialArchitectureChoice,
): Network {
  // Resolve first: a missing choice fails before any variable is allocated.
  const resolved = resolveArchitectureChoice(space, choice);
  return createSupernet(space, options).subnet(resolved);
}
