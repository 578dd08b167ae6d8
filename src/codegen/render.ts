/**
 * Rendering: turns the selected kernel calls and the arena plan into C text
 * through the Handlebars templates of templates/c/model (the model header,
 * the model source and one call partial per kernel family in calls/). This
 * module decides nothing: it formats numbers, names constants and fills
 * templates.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { TensorIR } from "../model-ir/types.js";
import { cTemplatesDir } from "../toolchain/c-sources.js";
import type { MemoryPlan } from "./plan-memory.js";
import type { KernelCall, KernelWeight, SelectedLayer } from "./select-kernels.js";

/** Directory of the model templates (tf_model.h.hbs, tf_model.c.hbs, calls/*.hbs). */
export const modelTemplatesDir = join(cTemplatesDir, "model");

/** What the banner records. */
export interface RenderInfo {
  modelName: string;
  generatorVersion: string;
  /** SHA-256 of the IR (graph JSON, which records the blob's digest). */
  irDigest: string;
  input: TensorIR;
  output: TensorIR;
}

type CType = "int8_t" | "uint8_t" | "int32_t";

interface ConstArray {
  name: string;
  ctype: CType;
  length: number;
  comment: string;
  values: string;
}

const PARTIAL_OF: Record<KernelCall["kind"], string> = {
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

/** A C double literal that reads back as the same double. */
export function cDouble(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) || !Number.isFinite(v) ? s : `${s}.0`;
}

function formatValues(values: ArrayLike<number>, perLine = 16): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(values.length, i + perLine); j++)
      row.push(cInt(values[j] as number));
    lines.push(`    ${row.join(", ")},`);
  }
  return lines.join("\n");
}

/** Op names in C comments and string literals. */
const commentSafe = (s: string): string => s.replace(/\*\//g, "*\\/").replace(/[\r\n]/g, " ");
const stringSafe = (s: string): string =>
  s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, "?");

class Constants {
  readonly arrays: ConstArray[] = [];

  constructor(private readonly layer: SelectedLayer) {}

  add(role: string, ctype: CType, values: ArrayLike<number>): string {
    const name = `l${this.layer.index}_${role}`;
    this.arrays.push({
      name,
      ctype,
      length: values.length,
      comment: `${commentSafe(this.layer.op.name)}: ${role}`,
      values: formatValues(values),
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

function tensorView(t: TensorIR) {
  const size = t.shape.reduce((a, b) => a * b, 1);
  return {
    name: stringSafe(t.name),
    size,
    rank: t.shape.length,
    shape: t.shape.join(", "),
    scale: cDouble(t.quant?.scale[0] ?? 1),
    zeroPoint: t.quant?.zeroPoint[0] ?? 0,
  };
}

type Compiled = (context: object) => string;

async function loadTemplates(): Promise<{ header: Compiled; source: Compiled }> {
  const { default: Handlebars } = await import("handlebars");
  const hb = Handlebars.create();
  const callsDir = join(modelTemplatesDir, "calls");
  for (const file of readdirSync(callsDir).filter((f) => f.endsWith(".hbs"))) {
    hb.registerPartial(basename(file, ".hbs"), readFileSync(join(callsDir, file), "utf8"));
  }
  const compile = (file: string): Compiled =>
    hb.compile(readFileSync(join(modelTemplatesDir, file), "utf8"), {
      noEscape: true,
      strict: true,
    });
  return { header: compile("tf_model.h.hbs"), source: compile("tf_model.c.hbs") };
}

/** Renders tf_model.h and tf_model.c. */
export async function renderModel(
  layers: readonly SelectedLayer[],
  memory: MemoryPlan,
  info: RenderInfo,
): Promise<{ header: string; source: string }> {
  const templates = await loadTemplates();
  const constants: ConstArray[] = [];
  const offsetOf = (name: string): number => {
    const offset = memory.tensorOffsets.get(name);
    if (offset === undefined) throw new Error(`codegen: tensor ${name} has no arena offset`);
    return offset;
  };
  const layerViews = layers.map((layer) => {
    const c = new Constants(layer);
    const a = callArgs(layer.call, c, memory, layer);
    constants.push(...c.arrays);
    return {
      index: layer.index,
      opType: layer.op.type,
      commentName: commentSafe(layer.op.name),
      stringName: stringSafe(layer.op.name),
      variant: layer.call.variant,
      partial: PARTIAL_OF[layer.call.kind],
      in0: layer.inputs[0] === undefined ? 0 : offsetOf(layer.inputs[0]),
      in1: layer.inputs[1] === undefined ? 0 : offsetOf(layer.inputs[1]),
      outputOffset: offsetOf(layer.output),
      outputBytes: layer.outputBytes,
      scratchOffset: memory.scratchOffsets.get(layer.index) ?? 0,
      scratchBytes: layer.scratchBytes,
      a,
    };
  });
  const context = {
    banner: {
      title: "Generated by TinyFormer codegen; do not edit.",
      source: `Generator ${info.generatorVersion}.`,
      model: `Model IR sha256:${info.irDigest}.`,
      notice: "Regenerate from the model IR instead of changing this file.",
    },
    modelName: commentSafe(info.modelName),
    arenaBytes: memory.plan.arenaBytes,
    lowerBoundBytes: memory.plan.lowerBoundBytes,
    layerCount: layers.length,
    input: tensorView(info.input),
    output: tensorView(info.output),
    inputOffset: offsetOf(info.input.name),
    outputOffset: offsetOf(info.output.name),
    constants,
    layers: layerViews,
  };
  return { header: templates.header(context), source: templates.source(context) };
}
