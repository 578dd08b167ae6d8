/**
 * Kernel selection for element-wise ops: add and mul (equal shapes, or
 * NumPy broadcasting walked with per-input strides) and the LUT activations.
 */
import { product } from "../../model-ir/shapes.js";
import type { ActivationOp, AddOp, MulOp } from "../../model-ir/types.js";
import { type KernelCall, UnsupportedOpError } from "../kernel-calls.js";
import {
  constInt8,
  isActivation,
  type LayerSelection,
  type Lookup,
  requireInt8,
  tensorOf,
  zeroPoint,
} from "./lookup.js";

/**
 * Row-major strides of `shape` aligned to the right of `outShape`, 0 along
 * the dimensions it broadcasts (size 1 or missing).
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const strides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const n = padded[d] ?? 1;
    strides[d] = n === 1 ? 0 : acc;
    acc *= n;
  }
  return strides;
}

/** The input an element-wise op may overwrite: the first one of the output's size. */
export function inPlaceInput(
  l: Lookup,
  inputs: readonly string[],
  outBytes: number,
): string | undefined {
  return inputs.find(
    (name) => isActivation(l, name) && product(tensorOf(l, name).shape) === outBytes,
  );
}

export function selectBinary(l: Lookup, op: AddOp | MulOp): LayerSelection {
  const [aName = "", bName = ""] = op.inputs;
  const a = tensorOf(l, aName);
  const b = tensorOf(l, bName);
  if (!isActivation(l, aName) || !isActivation(l, bName))
    throw new UnsupportedOpError(op, "a constant operand");
  const outputShape = tensorOf(l, op.outputs[0] ?? "").shape;
  const size = product(outputShape);
  const common = {
    input1Offset: -zeroPoint(a),
    input2Offset: -zeroPoint(b),
    outputOffset: zeroPoint(tensorOf(l, op.outputs[0] ?? "")),
  };
  let call: KernelCall;
  if (a.shape.join() === b.shape.join()) {
    call =
      op.type === "add"
        ? { kind: "add", variant: "add_s8", size, ...common, params: requireInt8(op) }
        : { kind: "mul", variant: "mul_s8", size, ...common, params: requireInt8(op) };
  } else {
    if (outputShape.length > 6)
      throw new UnsupportedOpError(op, `broadcasting over rank ${outputShape.length} (at most 6)`);
    call = {
      kind: "broadcast",
      variant: op.type === "add" ? "add_broadcast_s8" : "mul_broadcast_s8",
      outputShape: [...outputShape],
      strides1: broadcastStrides(a.shape, outputShape),
      strides2: broadcastStrides(b.shape, outputShape),
      ...common,
      params:
        op.type === "add"
          ? { op: "add", add: requireInt8(op) }
          : { op: "mul", mul: requireInt8(op) },
    };
  }
  const inPlaceOf = inPlaceInput(l, [aName, bName], size);
  return {
    inputs: [aName, bName],
    scratchBytes: 0,
    call,
    macs: 0,
    weightBytes: 0,
    ...(inPlaceOf === undefined ? {} : { inPlaceOf }),
  };
}

export function selectActivation(l: Lookup, op: ActivationOp): LayerSelection {
  const [xName = "", tableName = ""] = op.inputs;
  const size = product(tensorOf(l, xName).shape);
  const table = constInt8(l, tableName);
  if (table.length !== 256)
    throw new UnsupportedOpError(op, `a table of ${table.length} entries (256 needed)`);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: { kind: "lut", variant: "lut_s8", size, table },
    macs: 0,
    weightBytes: 256,
    inPlaceOf: xName,
  };
}
