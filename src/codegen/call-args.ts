/**
 * What each kernel call of the generated tf_model.c passes: the template
 * arguments of its call partial (templates/c/model/calls) and the constant
 * arrays it references (weights, biases, multipliers, tables, shapes).
 *
 * The renderer prints these; the resource evaluator (src/resources) counts
 * the constant arrays' bytes from the same list, so a predicted flash size
 * and the emitted C cannot disagree on what is stored.
 */

import type { KernelCall, KernelWeight, SelectedLayer } from "./kernel-calls.js";
import type { MemoryPlan } from "./plan-memory.js";

export type CType = "int8_t" | "uint8_t" | "int32_t";

/** Bytes of one element of each C type a constant array may have. */
export const CTYPE_BYTES: Record<CType, number> = { int8_t: 1, uint8_t: 1, int32_t: 4 };

/**
 * Alignment of every constant array (TF_MODEL_ALIGN in tf_model.c): word
 * loads of int8 weights need it.
 */
export const CONSTANT_ALIGNMENT = 4;

/** One `static const` array of tf_model.c. */
export interface ConstArray {
  name: string;
  ctype: CType;
  length: number;
  /** The layer and role, for the C comment above it. */
  comment: string;
  values: ArrayLike<number>;
}

/** Bytes an array occupies in flash, padding to the next array's alignment included. */
export function constArrayBytes(array: Pick<ConstArray, "ctype" | "length">): number {
  const bytes = array.length * CTYPE_BYTES[array.ctype];
  return Math.ceil(bytes / CONSTANT_ALIGNMENT) * CONSTANT_ALIGNMENT;
}

/** A call partial's name (calls/<name>.hbs) per kernel call kind. */
export const PARTIAL_OF: Record<KernelCall["kind"], string> = {
  conv: "conv",
  linear: "linear",
  matmul: "matmul",
  add: "add",
  mul: "mul",
  broadcast: "broadcast",
  lut: "lut",
  avgPool: "avg-pool",
  globalAvgPool: "global-avg-pool",
  softmax: "softmax",
  layerNorm: "layernorm",
  transpose: "transpose",
  reshape: "reshape",
  patches: "patches",
  concat: "concat",
};

/** A C int32 literal (INT32_MIN has no literal of its own). */
export function cInt(v: number): string {
  return v === -2147483648 ? "INT32_MIN" : String(v);
}

/** Collects the constant arrays of one layer, named after it. */
class Constants {
  readonly arrays: ConstArray[] = [];

  constructor(private readonly layer: SelectedLayer) {}

  add(role: string, ctype: CType, values: ArrayLike<number>): string {
    const name = `l${this.layer.index}_${role}`;
    this.arrays.push({
      name,
      ctype,
      length: values.length,
      comment: `${this.layer.op.name}: ${role}`,
      values,
    });
    return name;
  }

  weight(w: KernelWeight): {
    weights: string;
    sparse: { blockSize: number; runBytes: number; storedRows: number } | false;
  } {
    if (w.kind === "dense")
      return { weights: this.add("weight", "int8_t", w.values), sparse: false };
    return {
      weights: this.add("weight_stream", "uint8_t", w.packed.stream),
      sparse: {
        blockSize: w.packed.blockSize,
        runBytes: w.packed.runBytes,
        storedRows: w.packed.storedRows,
      },
    };
  }
}

const list = (xs: readonly number[]): string => xs.map(cInt).join(", ");

/** The template arguments (`a`) of one call; constants are added to `c`. */
function callArgs(call: KernelCall, c: Constants, plan: MemoryPlan, layer: SelectedLayer): object {
  switch (call.kind) {
    case "conv":
      return {
        inputOffset: call.quant.inputOffset,
        outputOffset: call.quant.outputOffset,
        strides: list(call.strides),
        pad: list(call.pad),
        dilations: list(call.dilations),
        actMin: call.quant.actMin,
        actMax: call.quant.actMax,
        multiplier: c.add("multiplier", "int32_t", call.quant.multiplier),
        shift: c.add("shift", "int32_t", call.quant.shift),
        inputDims: list(call.inputDims),
        filterDims: list(call.filterDims),
        outputDims: list(call.outputDims),
        ...c.weight(call.weight),
        bias: call.bias === undefined ? "0" : c.add("bias", "int32_t", call.bias),
      };
    case "linear":
      return {
        inputOffset: call.quant.inputOffset,
        outputOffset: call.quant.outputOffset,
        actMin: call.quant.actMin,
        actMax: call.quant.actMax,
        multiplier: c.add("multiplier", "int32_t", call.quant.multiplier),
        shift: c.add("shift", "int32_t", call.quant.shift),
        rows: call.rows,
        inFeatures: call.inFeatures,
        outFeatures: call.outFeatures,
        ...c.weight(call.weight),
        bias: call.bias === undefined ? "0" : c.add("bias", "int32_t", call.bias),
      };
    case "matmul":
      return { ...call, multiplier: cInt(call.multiplier), transposeB: call.transposeB ? 1 : 0 };
    case "add":
    case "mul":
      return { ...call, p: call.params };
    case "broadcast":
      return {
        ...call,
        isAdd: call.params.op === "add",
        p: call.params.op === "add" ? call.params.add : call.params.mul,
        rank: call.outputShape.length,
        shape: c.add("shape", "int32_t", call.outputShape),
        strides1: c.add("strides1", "int32_t", call.strides1),
        strides2: c.add("strides2", "int32_t", call.strides2),
      };
    case "lut":
      return { size: call.size, table: c.add("table", "int8_t", call.table) };
    case "avgPool":
      return {
        pool: list(call.pool),
        strides: list(call.strides),
        pad: list(call.pad),
        inputDims: list(call.inputDims),
        outputDims: list(call.outputDims),
      };
    case "globalAvgPool":
      return { ...call, inputDims: list(call.inputDims), multiplier: cInt(call.multiplier) };
    case "softmax":
      return { rows: call.rows, depth: call.depth, p: call.params };
    case "layerNorm":
      return {
        rows: call.rows,
        channels: call.channels,
        epsQ: call.epsQ,
        gamma: c.add("gamma", "int8_t", call.gamma),
        beta: c.add("beta", "int32_t", call.beta),
        multiplier: c.add("multiplier", "int32_t", call.multiplier),
        shift: c.add("shift", "int32_t", call.shift),
        outputOffset: call.outputOffset,
      };
    case "transpose":
      return {
        rank: call.shape.length,
        shape: c.add("shape", "int32_t", call.shape),
        perm: c.add("perm", "int32_t", call.perm),
      };
    case "reshape":
      return { size: call.size };
    case "patches":
      return { imageDims: list(call.imageDims), patch: list(call.patch) };
    case "concat":
      return {
        outer: call.outer,
        count: call.parts.length,
        outputOffset: call.outputOffset,
        parts: call.parts.map((part, i) => ({
          offset: plan.tensorOffsets.get(layer.inputs[i] ?? ""),
          width: part.width,
          requantize: part.requant === null ? 0 : 1,
          inputOffset: part.requant?.inputOffset ?? 0,
          multiplier: cInt(part.requant?.multiplier ?? 0),
          shift: part.requant?.shift ?? 0,
        })),
      };
    default: {
      const never: never = call;
      throw new Error(`codegen: cannot render ${JSON.stringify(never)}`);
    }
  }
}

/** One layer's call: its template arguments and the constant arrays they name. */
export interface LayerCall {
  layer: SelectedLayer;
  /** The `a` of the layer's call partial. */
  args: object;
  constants: ConstArray[];
}

/** Every layer's call arguments and constants, in layer order. */
export function buildLayerCalls(layers: readonly SelectedLayer[], memory: MemoryPlan): LayerCall[] {
  return layers.map((layer) => {
    const c = new Constants(layer);
    const args = callArgs(layer.call, c, memory, layer);
    return { layer, args, constants: c.arrays };
  });
}
