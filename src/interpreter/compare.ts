/**
 * Per-layer error between a float model and its int8 quantization: both run
 * on the same float inputs with every tensor dumped; each int8 activation is
 * dequantized and compared with the float tensor of the same name.
 */
import type { Model } from "../model-ir/types.js";
import { dequantizeValues } from "../quantize/quant-params.js";
import { quantizeInput } from "../quantize/quantize-model.js";
import { runFloat, runInt8 } from "./run.js";

export interface LayerError {
  /** Tensor name (the producing op's name for op outputs). */
  tensor: string;
  /** Cosine similarity over all values of all inputs (1 = same direction). */
  cosine: number;
  /** Largest |float - dequantized int8|. */
  maxAbs: number;
  /** Largest |float| value, to put maxAbs in proportion. */
  floatMaxAbs: number;
}

export function compareModels(
  floatModel: Model,
  int8Model: Model,
  inputs: readonly Float32Array[],
): LayerError[] {
  const acc = new Map<
    string,
    { dot: number; nf: number; nq: number; maxAbs: number; floatMaxAbs: number }
  >();
  const quant = new Map(int8Model.graph.tensors.map((t) => [t.name, t.quant]));
  for (const input of inputs) {
    const f =
      runFloat(floatModel, input, { dump: true }).tensors ?? new Map<string, Float32Array>();
    const q =
      runInt8(int8Model, quantizeInput(int8Model, input), { dump: true }).tensors ?? new Map();
    for (const [name, qv] of q) {
      const fv = f.get(name);
      const qp = quant.get(name);
      if (fv === undefined || qp === undefined || fv.length !== qv.length) continue;
      const dq = dequantizeValues(qv, qp.scale[0] ?? 1, qp.zeroPoint[0] ?? 0);
      const a = acc.get(name) ?? { dot: 0, nf: 0, nq: 0, maxAbs: 0, floatMaxAbs: 0 };
      for (let i = 0; i < fv.length; i++) {
        const x = fv[i] as number;
        const y = dq[i] as number;
        a.dot += x * y;
        a.nf += x * x;
        a.nq += y * y;
        a.maxAbs = Math.max(a.maxAbs, Math.abs(x - y));
        a.floatMaxAbs = Math.max(a.floatMaxAbs, Math.abs(x));
      }
      acc.set(name, a);
    }
  }
  const order = int8Model.graph.inputs.concat(int8Model.graph.ops.map((op) => op.outputs[0] ?? ""));
  return order.flatMap((name) => {
    const a = acc.get(name);
    if (a === undefined) return [];
    const denom = Math.sqrt(a.nf) * Math.sqrt(a.nq);
    const cosine = denom === 0 ? (a.nf === a.nq ? 1 : 0) : a.dot / denom;
    return [{ tensor: name, cosine, maxAbs: a.maxAbs, floatMaxAbs: a.floatMaxAbs }];
  });
}

/** A fixed-width text table of the comparison, one layer per line. */
export function renderComparison(rows: readonly LayerError[]): string {
  const width = Math.max(6, ...rows.map((r) => r.tensor.length));
  const lines = [`${"tensor".padEnd(width)}  cosine    max|err|   max|float|`];
  for (const r of rows) {
    lines.push(
      `${r.tensor.padEnd(width)}  ${r.cosine.toFixed(5)}  ${r.maxAbs.toExponential(3).padStart(10)}  ${r.floatMaxAbs.toExponential(3).padStart(10)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
