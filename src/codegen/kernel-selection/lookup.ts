/**
 * What every kernel selector reads: the model's tensors by name, their
 * constants and zero points, the op's int8 parameters, and the dense-or-
 * sparse choice for a block-RLE weight (the cost model's, or the policy's).
 */
import { readBlockRle, readTensorData } from "../../model-ir/blob.js";
import { storedRowCount } from "../../model-ir/sparse-encoding.js";
import type { Model, OpIR, RequantParams, TensorIR } from "../../model-ir/types.js";
import {
  type CostModelTable,
  chooseWeightedKernel,
  type KernelChoice,
  WEIGHTED_VARIANTS,
  type WeightedLayer,
} from "../../sparse-engine/cost-model.js";
import { packSparseWeight } from "../../sparse-engine/pack-weights.js";
import {
  type ChannelQuant,
  type KernelWeight,
  type SelectedLayer,
  UnsupportedOpError,
  type WeightPolicy,
} from "../kernel-calls.js";

export interface Lookup {
  model: Model;
  tensors: Map<string, TensorIR>;
  costModel: CostModelTable | undefined;
  policy: WeightPolicy;
}

export function tensorOf(l: Lookup, name: string): TensorIR {
  const t = l.tensors.get(name);
  if (t === undefined) throw new Error(`codegen: tensor ${name} is not declared`);
  return t;
}

export function zeroPoint(t: TensorIR): number {
  return t.quant?.zeroPoint[0] ?? 0;
}

export function constInt8(l: Lookup, name: string): Int8Array {
  const v = readTensorData(l.model, tensorOf(l, name));
  if (!(v instanceof Int8Array)) throw new Error(`codegen: constant ${name} is not int8`);
  return v;
}

export function constInt32(l: Lookup, name: string): Int32Array {
  const v = readTensorData(l.model, tensorOf(l, name));
  if (!(v instanceof Int32Array)) throw new Error(`codegen: constant ${name} is not int32`);
  return v;
}

export function isActivation(l: Lookup, name: string): boolean {
  return tensorOf(l, name).data === undefined;
}

export function requireInt8<P>(op: OpIR & { int8?: P }): P {
  if (op.int8 === undefined)
    throw new Error(`codegen: ${op.type} "${op.name}" has no int8 parameters`);
  return op.int8;
}

export function dims4(
  shape: readonly number[],
  what: string,
  op: OpIR,
): [number, number, number, number] {
  const [n, h, w, c] = shape;
  if (
    shape.length !== 4 ||
    n === undefined ||
    h === undefined ||
    w === undefined ||
    c === undefined
  )
    throw new UnsupportedOpError(op, `${what} must be rank 4 (NHWC), got [${shape.join(", ")}]`);
  return [n, h, w, c];
}

export function channelQuant(
  p: RequantParams,
  input: TensorIR,
  output: TensorIR,
  channels: number,
): ChannelQuant {
  const widen = (xs: number[]) =>
    xs.length === channels ? Int32Array.from(xs) : new Int32Array(channels).fill(xs[0] ?? 0);
  return {
    inputOffset: -zeroPoint(input),
    outputOffset: zeroPoint(output),
    actMin: p.actMin,
    actMax: p.actMax,
    multiplier: widen(p.multiplier),
    shift: widen(p.shift),
  };
}

/** The weight as a kernel takes it, dense or sparse as the cost model (or the policy) says. */
export function chooseWeight(
  l: Lookup,
  name: string,
  geometry: Omit<WeightedLayer, "sparse">,
): { weight: KernelWeight; choice: KernelChoice | undefined } {
  const t = tensorOf(l, name);
  const enc = t.data?.encoding === "block-rle" ? readBlockRle(l.model, t) : undefined;
  const layer: WeightedLayer = {
    ...geometry,
    ...(enc === undefined
      ? {}
      : {
          sparse: {
            storedBlocks: enc.runs.length,
            blockSize: enc.blockSize,
            storedRows: storedRowCount(enc),
          },
        }),
  };
  const choice = l.costModel === undefined ? undefined : chooseWeightedKernel(l.costModel, layer);
  const sparse =
    enc !== undefined &&
    (l.policy === "sparse" ||
      (l.policy === "cost-model" && choice?.kernel === WEIGHTED_VARIANTS[layer.family].sparse));
  if (sparse) return { weight: { kind: "sparse", packed: packSparseWeight(enc) }, choice };
  return { weight: { kind: "dense", values: constInt8(l, name) }, choice };
}

export function weightBytes(w: KernelWeight): number {
  return w.kind === "dense" ? w.values.length : w.packed.stream.length;
}

/** What a selector decides; selectKernels adds the op's position and output. */
export type LayerSelection = Omit<SelectedLayer, "index" | "op" | "output" | "outputBytes">;
