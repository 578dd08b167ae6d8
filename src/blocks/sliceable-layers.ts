/**
 * Layers whose weights can be shared by every sub-network of a supernet.
 *
 * Each layer owns its variables at the largest size the search space allows;
 * a forward pass takes the active choice and reads a slice: the first
 * channels along each channel axis, and the centre k x k of a larger kernel
 * (once-for-all's elastic kernel, without its transform matrices). A
 * sub-network's weights are therefore views of the supernet's, and training
 * one sub-network updates the shared slices. When the choice is the largest
 * one the variable is used as is, so a fixed network pays no slicing cost.
 *
 * Variables keep the tfjs layouts the training engine uses (conv
 * [KH, KW, I, O], depthwise [KH, KW, C, 1], dense [I, O]); `weightInfo`
 * translates a choice into an index map to the IR layouts (OHWI, [O, I]).
 */
import * as tf from "@tensorflow/tfjs-core";
import { addBias, type ParameterSet } from "../training/layers.js";
import type { VariableRegion, WeightLayerInfo, WeightLayerKind, WeightLayerRole } from "./types.js";

function checkSize(layer: string, what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${layer}: ${what} ${value} is outside 1..${max}`);
  }
}

/** Offset of the centre k x k window of a K x K kernel (both odd, or both even). */
function centreOffset(layer: string, maxKernel: number, kernel: number): number {
  checkSize(layer, "kernel size", kernel, maxKernel);
  if ((maxKernel - kernel) % 2 !== 0) {
    throw new Error(
      `${layer}: a ${kernel}x${kernel} kernel has no centre in ${maxKernel}x${maxKernel}`,
    );
  }
  return (maxKernel - kernel) / 2;
}

function isWhole(variable: tf.Variable, size: readonly number[]): boolean {
  return size.every((s, i) => s === variable.shape[i]);
}

/** The region of `variable` covered by one box from the origin (a prefix along each axis). */
export function prefixRegion(variable: tf.Variable, size: readonly number[]): VariableRegion {
  return { variable, boxes: [{ begin: size.map(() => 0), size }] };
}

function floatData(variable: tf.Tensor): Float32Array {
  return variable.dataSync() as Float32Array;
}

/** A view of `variable` through `map` (IR flat index -> variable flat index). */
function weightInfo(
  variable: tf.Variable,
  name: string,
  kind: WeightLayerKind,
  role: WeightLayerRole,
  irShape: number[],
  map: Int32Array,
): WeightLayerInfo {
  const rowLength = irShape.slice(1).reduce((a, b) => a * b, 1);
  return {
    name,
    kind,
    role,
    prunable: role === "hidden",
    irShape,
    rowLength,
    variable,
    readWeight() {
      const all = floatData(variable);
      const out = new Float32Array(map.length);
      for (let i = 0; i < map.length; i++) out[i] = all[map[i] as number] as number;
      return out;
    },
    writeWeight(values) {
      if (values.length !== map.length) {
        throw new Error(`${name}: ${values.length} values for a [${irShape.join(",")}] weight`);
      }
      const all = Float32Array.from(floatData(variable));
      for (let i = 0; i < map.length; i++) all[map[i] as number] = values[i] as number;
      tf.tidy(() => {
        variable.assign(tf.tensor(all, variable.shape));
      });
    },
  };
}

export interface ConvChoice {
  readonly kernelSize: number;
  readonly inChannels: number;
  readonly outChannels: number;
}

export interface ConvShape {
  readonly maxInChannels: number;
  readonly maxOutChannels: number;
  readonly maxKernel: number;
  readonly stride: number;
  /**
   * The input is a concatenation of this many equal parts (MobileViT's fusion
   * conv reads [block input, global features]): each part is sliced to its
   * own first channels rather than the whole axis to its first ones.
   * @default 1
   */
  readonly inputParts?: number;
}

/**
 * Convolution without bias ('same' padding); batch norm, when any, follows.
 * Weights start as PyTorch's do (`fan-in-uniform`, see training/layers.ts).
 */
export class SliceableConv2d {
  readonly kernel: tf.Variable;
  readonly name: string;
  readonly shape: ConvShape;
  private readonly parts: number;

  constructor(params: ParameterSet, name: string, shape: ConvShape) {
    this.name = name;
    this.shape = shape;
    this.parts = shape.inputParts ?? 1;
    if (shape.maxInChannels % this.parts !== 0)
      throw new Error(`${name}: ${shape.maxInChannels} input channels in ${this.parts} parts`);
    this.kernel = params.weight(
      `${name}/kernel`,
      [shape.maxKernel, shape.maxKernel, shape.maxInChannels, shape.maxOutChannels],
      "fan-in-uniform",
    );
  }

  private check(choice: ConvChoice): number {
    checkSize(this.name, "input channels", choice.inChannels, this.shape.maxInChannels);
    checkSize(this.name, "output channels", choice.outChannels, this.shape.maxOutChannels);
    if (choice.inChannels % this.parts !== 0)
      throw new Error(`${this.name}: ${choice.inChannels} input channels in ${this.parts} parts`);
    return centreOffset(this.name, this.shape.maxKernel, choice.kernelSize);
  }

  /** The active filter, [k, k, in, out]: a slice of the variable (or the variable itself). */
  activeKernel(choice: ConvChoice): tf.Tensor4D {
    const offset = this.check(choice);
    const { kernelSize: k, inChannels, outChannels } = choice;
    if (isWhole(this.kernel, [k, k, inChannels, outChannels])) return this.kernel as tf.Tensor4D;
    const perPart = inChannels / this.parts;
    const maxPerPart = this.shape.maxInChannels / this.parts;
    const pieces = Array.from({ length: this.parts }, (_, p) =>
      tf.slice(this.kernel, [offset, offset, p * maxPerPart, 0], [k, k, perPart, outChannels]),
    );
    return (pieces.length === 1 ? pieces[0] : tf.concat(pieces, 2)) as tf.Tensor4D;
  }

  apply(x: tf.Tensor4D, choice: ConvChoice): tf.Tensor4D {
    return tf.conv2d(x, this.activeKernel(choice), this.shape.stride, "same");
  }

  /** The active weight as an OHWI IR weight over a slice of the variable. */
  info(choice: ConvChoice, role: WeightLayerRole): WeightLayerInfo {
    const offset = this.check(choice);
    const { kernelSize: k, inChannels: inC, outChannels: outC } = choice;
    const { maxKernel: maxK, maxInChannels: maxIn, maxOutChannels: maxOut } = this.shape;
    const perPart = inC / this.parts;
    const maxPerPart = maxIn / this.parts;
    const map = new Int32Array(outC * k * k * inC);
    let i = 0;
    for (let o = 0; o < outC; o++)
      for (let ky = 0; ky < k; ky++)
        for (let kx = 0; kx < k; kx++)
          for (let c = 0; c < inC; c++) {
            const source = Math.floor(c / perPart) * maxPerPart + (c % perPart);
            map[i++] = (((ky + offset) * maxK + kx + offset) * maxIn + source) * maxOut + o;
          }
    return weightInfo(this.kernel, this.name, "conv2d", role, [outC, k, k, inC], map);
  }

  /** The centre k x k of the kernel, each input part's first channels, the first outputs. */
  regions(choice: ConvChoice): VariableRegion[] {
    const offset = this.check(choice);
    const { kernelSize: k, inChannels, outChannels } = choice;
    const perPart = inChannels / this.parts;
    const maxPerPart = this.shape.maxInChannels / this.parts;
    const boxes = Array.from({ length: this.parts }, (_, p) => ({
      begin: [offset, offset, p * maxPerPart, 0],
      size: [k, k, perPart, outChannels],
    }));
    return [{ variable: this.kernel, boxes }];
  }

  variables(): tf.Variable[] {
    return [this.kernel];
  }
}

export interface DepthwiseChoice {
  readonly kernelSize: number;
  readonly channels: number;
}

/** Depthwise convolution (multiplier 1, 'same' padding) without bias. */
export class SliceableDepthwiseConv2d {
  readonly kernel: tf.Variable;
  readonly name: string;
  readonly shape: {
    readonly maxChannels: number;
    readonly maxKernel: number;
    readonly stride: number;
  };

  constructor(
    params: ParameterSet,
    name: string,
    shape: { maxChannels: number; maxKernel: number; stride: number },
  ) {
    this.name = name;
    this.shape = shape;
    this.kernel = params.weight(
      `${name}/kernel`,
      [shape.maxKernel, shape.maxKernel, shape.maxChannels, 1],
      "fan-in-uniform",
      // One input channel per output channel.
      shape.maxKernel * shape.maxKernel,
    );
  }

  private check(choice: DepthwiseChoice): number {
    checkSize(this.name, "channels", choice.channels, this.shape.maxChannels);
    return centreOffset(this.name, this.shape.maxKernel, choice.kernelSize);
  }

  activeKernel(choice: DepthwiseChoice): tf.Tensor4D {
    const offset = this.check(choice);
    const size = [choice.kernelSize, choice.kernelSize, choice.channels, 1];
    if (isWhole(this.kernel, size)) return this.kernel as tf.Tensor4D;
    return tf.slice(this.kernel, [offset, offset, 0, 0], size) as tf.Tensor4D;
  }

  apply(x: tf.Tensor4D, choice: DepthwiseChoice): tf.Tensor4D {
    return tf.depthwiseConv2d(x, this.activeKernel(choice), this.shape.stride, "same");
  }

  /** IR depthwise weight [C, k, k, 1] (conv2d with groups = C). */
  info(choice: DepthwiseChoice, role: WeightLayerRole): WeightLayerInfo {
    const offset = this.check(choice);
    const { kernelSize: k, channels } = choice;
    const { maxKernel: maxK, maxChannels } = this.shape;
    const map = new Int32Array(channels * k * k);
    let i = 0;
    for (let c = 0; c < channels; c++)
      for (let ky = 0; ky < k; ky++)
        for (let kx = 0; kx < k; kx++)
          map[i++] = ((ky + offset) * maxK + kx + offset) * maxChannels + c;
    return weightInfo(this.kernel, this.name, "depthwise-conv2d", role, [channels, k, k, 1], map);
  }

  regions(choice: DepthwiseChoice): VariableRegion[] {
    const offset = this.check(choice);
    const { kernelSize: k, channels } = choice;
    return [
      {
        variable: this.kernel,
        boxes: [{ begin: [offset, offset, 0, 0], size: [k, k, channels, 1] }],
      },
    ];
  }

  variables(): tf.Variable[] {
    return [this.kernel];
  }
}

export interface LinearChoice {
  readonly inFeatures: number;
  readonly outFeatures: number;
}

/** Fully connected layer with bias on [rows, in] matrices. */
export class SliceableLinear {
  readonly name: string;
  readonly maxInFeatures: number;
  readonly maxOutFeatures: number;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(params: ParameterSet, name: string, maxInFeatures: number, maxOutFeatures: number) {
    this.name = name;
    this.maxInFeatures = maxInFeatures;
    this.maxOutFeatures = maxOutFeatures;
    this.kernel = params.weight(
      `${name}/kernel`,
      [maxInFeatures, maxOutFeatures],
      "fan-in-uniform",
    );
    // PyTorch's nn.Linear bias: uniform within the weight's 1/sqrt(fan-in).
    this.bias = params.weight(`${name}/bias`, [maxOutFeatures], "fan-in-uniform", maxInFeatures);
  }

  private check(choice: LinearChoice): void {
    checkSize(this.name, "input features", choice.inFeatures, this.maxInFeatures);
    checkSize(this.name, "output features", choice.outFeatures, this.maxOutFeatures);
  }

  apply(x: tf.Tensor2D, choice: LinearChoice): tf.Tensor2D {
    this.check(choice);
    const { inFeatures, outFeatures } = choice;
    const kernel = isWhole(this.kernel, [inFeatures, outFeatures])
      ? this.kernel
      : tf.slice(this.kernel, [0, 0], [inFeatures, outFeatures]);
    const bias =
      outFeatures === this.maxOutFeatures ? this.bias : tf.slice(this.bias, [0], [outFeatures]);
    // A 1x1 convolution over `rows` pixels: the same arithmetic as matMul,
    // but its weight gradient avoids matMul(transposeA), several times
    // slower on wasm.
    const rows = x.shape[0];
    const pixels = tf.reshape(x, [rows, 1, 1, inFeatures]) as tf.Tensor4D;
    const filter = tf.reshape(kernel, [1, 1, inFeatures, outFeatures]) as tf.Tensor4D;
    const projected = tf.reshape(tf.conv2d(pixels, filter, 1, "valid"), [rows, outFeatures]);
    return addBias(projected as tf.Tensor2D, bias);
  }

  /** The active weight as an [out, in] IR weight. */
  info(choice: LinearChoice, role: WeightLayerRole): WeightLayerInfo {
    this.check(choice);
    const { inFeatures, outFeatures } = choice;
    const map = new Int32Array(outFeatures * inFeatures);
    for (let o = 0; o < outFeatures; o++)
      for (let i = 0; i < inFeatures; i++) map[o * inFeatures + i] = i * this.maxOutFeatures + o;
    return weightInfo(this.kernel, this.name, "linear", role, [outFeatures, inFeatures], map);
  }

  regions(choice: LinearChoice): VariableRegion[] {
    this.check(choice);
    return [
      prefixRegion(this.kernel, [choice.inFeatures, choice.outFeatures]),
      prefixRegion(this.bias, [choice.outFeatures]),
    ];
  }

  activeBias(outFeatures: number): Float32Array {
    checkSize(this.name, "output features", outFeatures, this.maxOutFeatures);
    return floatData(this.bias).slice(0, outFeatures);
  }

  variables(): tf.Variable[] {
    return [this.kernel, this.bias];
  }
}

/** Layer normalisation over the first `features` of the last axis (population variance). */
export class SliceableLayerNorm {
  readonly name: string;
  readonly maxFeatures: number;
  /** PyTorch's default, which MobileViT uses; the export writes it into the IR. */
  readonly epsilon = 1e-5;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(params: ParameterSet, name: string, maxFeatures: number) {
    this.name = name;
    this.maxFeatures = maxFeatures;
    this.gamma = params.weight(`${name}/gamma`, [maxFeatures], "ones");
    this.beta = params.weight(`${name}/beta`, [maxFeatures], "zeros");
  }

  private slice(variable: tf.Variable, features: number): tf.Tensor1D {
    checkSize(this.name, "features", features, this.maxFeatures);
    return (
      features === this.maxFeatures ? variable : tf.slice(variable, [0], [features])
    ) as tf.Tensor1D;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const features = x.shape[1];
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(
      tf.mul(normalised, this.slice(this.gamma, features)),
      this.slice(this.beta, features),
    ) as tf.Tensor2D;
  }

  regions(features: number): VariableRegion[] {
    checkSize(this.name, "features", features, this.maxFeatures);
    return [prefixRegion(this.gamma, [features]), prefixRegion(this.beta, [features])];
  }

  activeParameters(features: number): { gamma: Float32Array; beta: Float32Array } {
    checkSize(this.name, "features", features, this.maxFeatures);
    return {
      gamma: floatData(this.gamma).slice(0, features),
      beta: floatData(this.beta).slice(0, features),
    };
  }

  variables(): tf.Variable[] {
    return [this.gamma, this.beta];
  }
}
