/**
 * Memory planning for generated code: every activation tensor and every
 * kernel's scratch buffer gets an offset in one static arena (planArena over
 * the op order). A tensor lives from the op that writes it (graph input: op
 * 0) to the last op that reads it (graph output: the last op); a scratch
 * buffer lives during its op only; element-wise ops (add, mul, LUT, reshape)
 * ask to write over the input they read for the last time.
 */
import { type ArenaPlan, type BufferRequest, planArena } from "../memory-planner/plan-arena.js";
import { product } from "../model-ir/shapes.js";
import type { Model } from "../model-ir/types.js";
import type { SelectedLayer } from "./kernel-calls.js";

/** Arena placement of the model's buffers. */
export interface MemoryPlan {
  plan: ArenaPlan;
  /** Arena offset of every activation tensor, by name. */
  tensorOffsets: Map<string, number>;
  /** Arena offset of each layer's scratch (undefined: the layer needs none), by layer index. */
  scratchOffsets: Map<number, number>;
}

export const scratchId = (layer: SelectedLayer): string => `scratch:${layer.op.name}`;

export function planMemory(model: Model, layers: readonly SelectedLayer[]): MemoryPlan {
  const { graph } = model;
  const lastOp = Math.max(0, layers.length - 1);
  const tensors = new Map(graph.tensors.map((t) => [t.name, t]));
  const life = new Map<string, { first: number; last: number; inPlaceOf?: string }>();
  for (const name of graph.inputs) life.set(name, { first: 0, last: 0 });
  for (const layer of layers) {
    for (const name of layer.inputs) {
      const l = life.get(name);
      if (l === undefined)
        throw new Error(`codegen: ${layer.op.name} reads ${name} before it is written`);
      l.last = Math.max(l.last, layer.index);
    }
    life.set(layer.output, {
      first: layer.index,
      last: layer.index,
      ...(layer.inPlaceOf === undefined ? {} : { inPlaceOf: layer.inPlaceOf }),
    });
  }
  for (const name of graph.outputs) {
    const l = life.get(name);
    if (l === undefined) throw new Error(`codegen: output ${name} is never written`);
    l.last = lastOp;
  }
  const requests: BufferRequest[] = [];
  for (const [name, l] of life) {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`codegen: tensor ${name} is not declared`);
    requests.push({
      id: name,
      bytes: product(t.shape),
      firstOp: l.first,
      lastOp: l.last,
      ...(l.inPlaceOf === undefined ? {} : { inPlaceOf: l.inPlaceOf }),
    });
  }
  for (const layer of layers) {
    if (layer.scratchBytes > 0) {
      requests.push({
        id: scratchId(layer),
        bytes: layer.scratchBytes,
        firstOp: layer.index,
        lastOp: layer.index,
      });
    }
  }
  const plan = planArena(requests);
  const offsetOf = new Map(plan.buffers.map((b) => [b.id, b.offset]));
  const tensorOffsets = new Map<string, number>();
  for (const name of life.keys()) tensorOffsets.set(name, offsetOf.get(name) as number);
  const scratchOffsets = new Map<number, number>();
  for (const layer of layers) {
    const offset = offsetOf.get(scratchId(layer));
    if (offset !== undefined) scratchOffsets.set(layer.index, offset);
  }
  return { plan, tensorOffsets, scratchOffsets };
}
