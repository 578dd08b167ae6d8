/**
 * Full validation of a model: JSON Schema first, then the rules a schema
 * cannot express (references, topological order, shapes, dtypes, int8
 * parameters, blob ranges and digest). Every problem is reported in one pass.
 */
import { computeBlobDigest, readBlockRle } from "./blob.js";
import { getModelIrValidator } from "./schema.js";
import { inferOutputShapes, product } from "./shapes.js";
import { forEachStoredBlock } from "./sparse-encoding.js";
import type { Model, ModelGraph, OpIR, TensorIR } from "./types.js";

/** One validation problem; `path` is a JSON pointer into the graph. */
export interface ModelIrIssue {
  code:
    | "schema" // the JSON does not match schemas/model-ir.schema.json
    | "reference" // a name that no tensor has, or a duplicate name
    | "order" // an op reads a tensor before it is produced
    | "shape" // a declared shape differs from the inferred one
    | "dtype" // wrong dtype or quantization for the precision / op role
    | "blob"; // a data range outside the blob, bad size, or digest mismatch
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; model: Model } | { ok: false; issues: ModelIrIssue[] };

const DTYPE_BYTES = { float32: 4, int8: 1, int32: 4 } as const;

/** Validates an untrusted JSON value and blob. */
export function validateModel(json: unknown, blob: Uint8Array): ValidationResult {
  const validator = getModelIrValidator();
  if (!validator(json)) {
    return {
      ok: false,
      issues: (validator.errors ?? []).map((e) => ({
        code: "schema" as const,
        path: e.instancePath,
        message: e.message ?? "invalid",
      })),
    };
  }
  const graph = json as ModelGraph;
  const issues = checkSemantics({ graph, blob });
  return issues.length === 0 ? { ok: true, model: { graph, blob } } : { ok: false, issues };
}

/** Validates a model built in memory, throwing on the first pass's issues. */
export function assertValidModel(model: Model): Model {
  const result = validateModel(model.graph, model.blob);
  if (!result.ok) {
    throw new Error(
      `invalid model ${model.graph.name}:\n${result.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
    );
  }
  return result.model;
}

function checkSemantics(model: Model): ModelIrIssue[] {
  const { graph, blob } = model;
  const issues: ModelIrIssue[] = [];
  const add = (code: ModelIrIssue["code"], path: string, message: string) =>
    issues.push({ code, path, message });

  if (blob.byteLength !== graph.blob.byteLength) {
    add(
      "blob",
      "/blob/byteLength",
      `blob has ${blob.byteLength} bytes, graph says ${graph.blob.byteLength}`,
    );
  } else if (computeBlobDigest(blob) !== graph.blob.sha256) {
    add("blob", "/blob/sha256", "blob digest does not match");
  }

  const tensors = new Map<string, TensorIR>();
  graph.tensors.forEach((t, i) => {
    if (tensors.has(t.name)) add("reference", `/tensors/${i}`, `duplicate tensor ${t.name}`);
    tensors.set(t.name, t);
    checkTensor(model, t, `/tensors/${i}`, add);
  });

  const available = new Set<string>();
  for (const [i, name] of graph.inputs.entries()) {
    const t = tensors.get(name);
    if (t === undefined) add("reference", `/inputs/${i}`, `unknown tensor ${name}`);
    else if (t.data !== undefined) add("reference", `/inputs/${i}`, `input ${name} has data`);
    available.add(name);
  }
  for (const t of graph.tensors) if (t.data !== undefined) available.add(t.name);

  const opNames = new Set<string>();
  graph.ops.forEach((op, i) => {
    const path = `/ops/${i}`;
    if (opNames.has(op.name)) add("reference", path, `duplicate op ${op.name}`);
    opNames.add(op.name);
    const inputs: TensorIR[] = [];
    for (const [j, name] of op.inputs.entries()) {
      const t = tensors.get(name);
      if (t === undefined) add("reference", `${path}/inputs/${j}`, `unknown tensor ${name}`);
      else {
        if (!available.has(name))
          add("order", `${path}/inputs/${j}`, `${name} is read before it is produced`);
        inputs.push(t);
      }
    }
    const outName = op.outputs[0] ?? "";
    const out = tensors.get(outName);
    if (out === undefined) {
      add("reference", `${path}/outputs/0`, `unknown tensor ${outName}`);
      return;
    }
    if (available.has(outName)) add("order", `${path}/outputs/0`, `${outName} is produced twice`);
    available.add(outName);
    if (inputs.length !== op.inputs.length) return;
    const arity = expectedArity(op, graph.precision);
    if (op.inputs.length < arity[0] || op.inputs.length > arity[1]) {
      add(
        "reference",
        `${path}/inputs`,
        `${op.type} takes ${arity[0]}..${arity[1]} inputs, got ${op.inputs.length}`,
      );
      return;
    }
    try {
      const shapeInputs = op.type === "activation" ? inputs.slice(0, 1) : inputs;
      const [expected = []] = inferOutputShapes(
        op,
        shapeInputs.map((t) => t.shape),
      );
      if (expected.join() !== out.shape.join()) {
        add(
          "shape",
          `${path}/outputs/0`,
          `${outName} is [${out.shape.join(",")}], ${op.type} gives [${expected.join(",")}]`,
        );
      }
    } catch (e) {
      add("shape", path, `${op.name}: ${(e as Error).message}`);
    }
    if (graph.precision === "int8") checkInt8Op(op, inputs, out, path, add);
  });
  for (const [i, name] of graph.outputs.entries()) {
    if (!available.has(name)) add("reference", `/outputs/${i}`, `output ${name} is never produced`);
  }
  return issues;
}

type AddIssue = (code: ModelIrIssue["code"], path: string, message: string) => void;

function checkTensor(model: Model, t: TensorIR, path: string, add: AddIssue): void {
  const { graph } = model;
  if (graph.precision === "float32") {
    if (t.dtype !== "float32")
      add("dtype", `${path}/dtype`, `float model tensor ${t.name} is ${t.dtype}`);
    if (t.quant !== undefined)
      add("dtype", `${path}/quant`, `float model tensor ${t.name} has quant`);
  } else {
    if (t.dtype === "float32")
      add("dtype", `${path}/dtype`, `int8 model tensor ${t.name} is float32`);
    if (
      t.quant === undefined &&
      !(t.dtype === "int8" && t.data !== undefined && t.shape.join() === "256")
    ) {
      add("dtype", `${path}/quant`, `int8 model tensor ${t.name} has no quant`);
    }
    if (t.quant !== undefined && t.quant.scale.length !== t.quant.zeroPoint.length) {
      add("dtype", `${path}/quant`, `${t.name}: scale and zeroPoint lengths differ`);
    }
  }
  if (t.sparsity !== undefined) {
    const rowLength = product(t.shape.slice(1));
    if (rowLength % t.sparsity.blockSize !== 0) {
      add(
        "shape",
        `${path}/sparsity`,
        `${t.name}: row length ${rowLength} not a multiple of ${t.sparsity.blockSize}`,
      );
    }
  }
  const data = t.data;
  if (data === undefined) return;
  if (data.encoding === "dense") {
    const want = product(t.shape) * DTYPE_BYTES[t.dtype];
    if (data.byteLength !== want)
      add("blob", `${path}/data`, `${t.name}: ${data.byteLength} bytes, shape needs ${want}`);
    if (data.offset + data.byteLength > model.blob.byteLength)
      add("blob", `${path}/data`, `${t.name}: range beyond blob`);
    return;
  }
  if (t.dtype !== "int8") add("dtype", `${path}/data`, `${t.name}: block-rle needs int8`);
  for (const r of [data.values, data.runs, data.rowBlockCounts]) {
    if (r.offset + r.byteLength > model.blob.byteLength) {
      add("blob", `${path}/data`, `${t.name}: range beyond blob`);
      return;
    }
  }
  try {
    const enc = readBlockRle(model, t);
    if (enc.rowLength % enc.blockSize !== 0)
      throw new Error(`row length ${enc.rowLength} not a multiple of ${enc.blockSize}`);
    if (enc.rowBlockCounts.length !== enc.rows)
      throw new Error(`${enc.rowBlockCounts.length} row counts for ${enc.rows} rows`);
    if (enc.runs.length !== data.nonZeroBlocks)
      throw new Error(`${enc.runs.length} runs, nonZeroBlocks ${data.nonZeroBlocks}`);
    forEachStoredBlock(enc, () => {});
  } catch (e) {
    add("blob", `${path}/data`, `${t.name}: ${(e as Error).message}`);
  }
}

/** [min, max] number of inputs per op type and precision. */
function expectedArity(op: OpIR, precision: ModelGraph["precision"]): [number, number] {
  switch (op.type) {
    case "conv2d":
    case "linear":
      return [2, 3];
    case "matmul":
    case "add":
    case "mul":
      return [2, 2];
    case "layer_norm":
      return [3, 3];
    case "activation":
      return precision === "int8" ? [2, 2] : [1, 1];
    case "concat":
      return [1, Number.POSITIVE_INFINITY];
    default:
      return [1, 1];
  }
}

/** Ops whose int8 form carries precomputed integer parameters. */
const OPS_WITH_INT8_PARAMS = new Set<OpIR["type"]>([
  "conv2d",
  "linear",
  "matmul",
  "add",
  "mul",
  "global_avg_pool",
  "layer_norm",
  "softmax",
  "concat",
]);

function checkInt8Op(
  op: OpIR,
  inputs: TensorIR[],
  out: TensorIR,
  path: string,
  add: AddIssue,
): void {
  const [x, w, b] = inputs;
  const missing =
    OPS_WITH_INT8_PARAMS.has(op.type) && (op as { int8?: unknown }).int8 === undefined;
  if (missing) add("dtype", `${path}/int8`, `${op.name}: int8 model op without int8 parameters`);
  if (x !== undefined && x.dtype !== "int8")
    add("dtype", path, `${op.name}: input ${x.name} is not int8`);
  if (out.dtype !== "int8") add("dtype", path, `${op.name}: output ${out.name} is not int8`);
  const samePassThrough = (): void => {
    const a = x?.quant;
    const q = out.quant;
    if (a === undefined || q === undefined) return;
    if (a.scale[0] !== q.scale[0] || a.zeroPoint[0] !== q.zeroPoint[0]) {
      add("dtype", `${path}`, `${op.name}: output quantization must equal the input's`);
    }
  };
  switch (op.type) {
    case "conv2d":
    case "linear": {
      if (w?.dtype !== "int8") add("dtype", path, `${op.name}: weight must be int8`);
      if (b !== undefined && b.dtype !== "int32")
        add("dtype", path, `${op.name}: bias must be int32`);
      const channels = w?.shape[0] ?? 0;
      const n = op.int8?.multiplier.length ?? 0;
      if (op.int8 !== undefined && (n !== channels || op.int8.shift.length !== channels)) {
        add("dtype", `${path}/int8`, `${op.name}: ${n} multipliers for ${channels} channels`);
      }
      break;
    }
    case "layer_norm": {
      if (w?.dtype !== "int8" || b?.dtype !== "int32")
        add("dtype", path, `${op.name}: gamma int8 and beta int32 needed`);
      const channels = w?.shape[0] ?? 0;
      const p = op.int8;
      if (p !== undefined && (p.multiplier.length !== channels || p.shift.length !== channels)) {
        add(
          "dtype",
          `${path}/int8`,
          `${op.name}: ${p.multiplier.length} multipliers for ${channels} channels`,
        );
      }
      break;
    }
    case "activation":
      if (w?.dtype !== "int8" || w.shape.join() !== "256" || w.data === undefined) {
        add("dtype", path, `${op.name}: second input must be a constant int8[256] table`);
      }
      break;
    case "softmax": {
      const q = out.quant;
      if (q !== undefined && (q.scale[0] !== 1 / 256 || q.zeroPoint[0] !== -128)) {
        add("dtype", path, `${op.name}: softmax output must be quantized (1/256, -128)`);
      }
      break;
    }
    case "avg_pool2d":
    case "reshape":
    case "transpose":
    case "unfold":
    case "fold":
      samePassThrough();
      break;
    case "concat":
      if (op.int8 !== undefined && op.int8.inputs.length !== inputs.length) {
        add("dtype", `${path}/int8`, `${op.name}: one requantization entry per input needed`);
      }
      break;
    default:
      break;
  }
}
