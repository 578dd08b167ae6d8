/**
 * Kernel selection for ops that only move bytes: transpose, reshape (an
 * alias of its input), unfold/fold into patches and concat.
 */
import { product } from "../../model-ir/shapes.js";
import type { ConcatOp, FoldOp, OpIR, TransposeOp, UnfoldOp } from "../../model-ir/types.js";
import { UnsupportedOpError } from "../kernel-calls.js";
import {
  dims4,
  isActivation,
  type LayerSelection,
  type Lookup,
  tensorOf,
  zeroPoint,
} from "./lookup.js";

export function selectTranspose(l: Lookup, op: TransposeOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const shape = tensorOf(l, xName).shape;
  if (shape.length < 1 || shape.length > 6)
    throw new UnsupportedOpError(op, `rank ${shape.length} (1..6)`);
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "transpose",
      variant: "transpose_s8",
      shape: [...shape],
      perm: [...op.attrs.perm],
    },
    macs: 0,
    weightBytes: 0,
  };
}

export function selectReshape(l: Lookup, op: OpIR): LayerSelection {
  const [xName = ""] = op.inputs;
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: { kind: "reshape", variant: "reshape_s8", size: product(tensorOf(l, xName).shape) },
    macs: 0,
    weightBytes: 0,
    inPlaceOf: xName,
  };
}

export function selectPatches(l: Lookup, op: UnfoldOp | FoldOp): LayerSelection {
  const [xName = ""] = op.inputs;
  const image = op.type === "unfold" ? tensorOf(l, xName) : tensorOf(l, op.outputs[0] ?? "");
  return {
    inputs: [xName],
    scratchBytes: 0,
    call: {
      kind: "patches",
      variant: op.type === "unfold" ? "unfold_s8" : "fold_s8",
      imageDims: dims4(image.shape, "image", op),
      patch: op.attrs.patchSize,
    },
    macs: 0,
    weightBytes: 0,
  };
}

export function selectConcat(l: Lookup, op: ConcatOp): LayerSelection {
  const y = tensorOf(l, op.outputs[0] ?? "");
  const rank = y.shape.length;
  const axis = op.attrs.axis < 0 ? op.attrs.axis + rank : op.attrs.axis;
  const outer = product(y.shape.slice(0, axis));
  const inner = product(y.shape.slice(axis + 1));
  const entries = op.int8?.inputs ?? [];
  for (const name of op.inputs)
    if (!isActivation(l, name)) throw new UnsupportedOpError(op, `constant input ${name}`);
  return {
    inputs: [...op.inputs],
    scratchBytes: 0,
    call: {
      kind: "concat",
      variant: "concat_s8",
      outer,
      parts: op.inputs.map((name, i) => {
        const t = tensorOf(l, name);
        const e = entries[i];
        return {
          width: (t.shape[axis] ?? 1) * inner,
          requant:
            e === null || e === undefined
              ? null
              : { inputOffset: -zeroPoint(t), multiplier: e.multiplier, shift: e.shift },
        };
      }),
      outputOffset: zeroPoint(y),
    },
    macs: 0,
    weightBytes: 0,
  };
}
