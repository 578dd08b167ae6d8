/**
 * Naming the first layer whose output differs: a -DTF_MODEL_DEBUG build of
 * the generated C writes every layer's output, in layer order, for one input
 * (a "trace"); the reference interpreter's dump of the same input is walked
 * alongside it. Shared by host verification (codegen/host-verify.ts) and the
 * verify-target stage, whose debug build writes its trace through
 * semihosting.
 */
import { runInt8 } from "../interpreter/index.js";
import { product } from "../model-ir/shapes.js";
import type { Model } from "../model-ir/types.js";

/** The first layer whose output differs from the interpreter's. */
export interface LayerDifference {
  index: number;
  op: string;
  type: string;
  /** The C function that ran the layer, or "?" when unknown. */
  kernel: string;
  byte: number;
  expected: number;
  actual: number;
}

/** Index of the first differing element, or -1 when equal. */
export function firstDifference(a: Int8Array, b: Int8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * Compares a debug build's trace for `input` with the interpreter's dump;
 * undefined when every layer matches (or the trace is complete and equal).
 */
export function firstDifferingLayer(
  model: Model,
  input: Int8Array,
  trace: Uint8Array,
  kernels: readonly string[],
): LayerDifference | undefined {
  const dump = runInt8(model, input, { dump: true }).tensors ?? new Map<string, Int8Array>();
  const shapes = new Map(model.graph.tensors.map((t) => [t.name, t.shape]));
  let at = 0;
  for (const [index, op] of model.graph.ops.entries()) {
    const name = op.outputs[0] ?? "";
    const size = product(shapes.get(name) ?? []);
    const actual = new Int8Array(
      trace.buffer,
      trace.byteOffset + at,
      Math.max(0, Math.min(size, trace.length - at)),
    );
    at += size;
    const expected = dump.get(name) ?? new Int8Array();
    const byte = firstDifference(expected, actual);
    if (byte >= 0) {
      return {
        index,
        op: op.name,
        type: op.type,
        kernel: kernels[index] ?? "?",
        byte,
        expected: expected[byte] ?? 0,
        actual: actual[byte] ?? 0,
      };
    }
  }
  return undefined;
}

/** The diagnosis appended to a mismatch message. */
export function describeLayerDifference(layer: LayerDifference | undefined): string {
  return layer === undefined
    ? "; every layer's output matched the interpreter's dump"
    : `; first differing layer: ${layer.index} ${layer.type} "${layer.op}" (${layer.kernel}), ` +
        `byte ${layer.byte} (expected ${layer.expected}, got ${layer.actual})`;
}
