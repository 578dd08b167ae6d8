/**
 * Resolves a model once for repeated runs: tensor descriptions by name and
 * constants decoded to dense typed arrays (block-rle weights expanded; the
 * arithmetic is the same as walking the runs, since skipped weights are 0).
 * Cached per model object.
 */
import { readTensorData } from "../model-ir/blob.js";
import type { Model, TensorIR } from "../model-ir/types.js";

export interface PreparedModel {
  model: Model;
  tensors: Map<string, TensorIR>;
  constants: Map<string, Float32Array | Int8Array | Int32Array>;
}

const cache = new WeakMap<Model, PreparedModel>();

export function prepareModel(model: Model): PreparedModel {
  const hit = cache.get(model);
  if (hit !== undefined) return hit;
  const tensors = new Map<string, TensorIR>();
  const constants = new Map<string, Float32Array | Int8Array | Int32Array>();
  for (const t of model.graph.tensors) {
    tensors.set(t.name, t);
    if (t.data !== undefined) constants.set(t.name, readTensorData(model, t));
  }
  const prepared = { model, tensors, constants };
  cache.set(model, prepared);
  return prepared;
}

export function tensorOf(prepared: PreparedModel, name: string): TensorIR {
  const t = prepared.tensors.get(name);
  if (t === undefined) throw new Error(`unknown tensor ${name}`);
  return t;
}
