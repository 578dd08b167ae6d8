/**
 * Shared setup of the codegen tests: small quantized models, random int8
 * inputs, and generate → write → build → verify in a temporary directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type GeneratedProgram,
  type GenerateOptions,
  generateModelCode,
  type HostVerification,
  verifyHost,
  type WrittenProgram,
  writeGeneratedFiles,
} from "../../src/codegen/index.js";
import { createModelBuilder } from "../../src/model-ir/builder.js";
import type { BlockSize, Model } from "../../src/model-ir/types.js";
import { quantizeModel } from "../../src/quantize/index.js";
import { createRng } from "../support/reference-cases.js";
import { buildMobileVitSample, createRandomImages } from "../support/sample-models.js";

export function quantizedMobileVit(): Model {
  const float = buildMobileVitSample({ dim: 32, heads: 2, layers: 1, resolution: 16, seed: 3 });
  return quantizeModel(float, createRandomImages(4, [1, 16, 16, 3], 5));
}

/** Random float tensor with a fixed seed. */
function randomFloats(rng: () => number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
}

/**
 * A CNN: conv3x3/2 (ReLU), depthwise 3x3, conv1x1 (ReLU6) and a conv3x3
 * pruned in blocks of `blockSize`, a residual add, average pool, global
 * average pool and two linear layers (one pruned) with hard-swish between.
 */
export function quantizedCnn(blockSize: BlockSize = 4, seed = 1): Model {
  const rng = createRng(seed);
  const b = createModelBuilder(`cnn-b${blockSize}`);
  const weight = (name: string, shape: number[], pruned?: BlockSize): string => {
    const n = shape.reduce((x, y) => x * y, 1);
    const fanIn = n / (shape[0] ?? 1);
    const v = randomFloats(rng, n, Math.sqrt(3 / fanIn));
    if (pruned !== undefined) {
      for (let s = 0; s < n; s += pruned) if (rng() < 0.6) v.fill(0, s, s + pruned);
      return b.constant(name, shape, v, { blockSize: pruned });
    }
    return b.constant(name, shape, v);
  };
  const bias = (name: string, n: number) => b.constant(name, [n], randomFloats(rng, n, 0.1));
  const conv = (
    name: string,
    x: string,
    out: number,
    k: number,
    o: {
      stride?: number;
      groups?: number;
      act?: "none" | "relu" | "relu6";
      pruned?: BlockSize;
    } = {},
  ) => {
    const cin = b.shapeOf(x)[3] ?? 0;
    const groups = o.groups ?? 1;
    const w = weight(`${name}.w`, [out, k, k, cin / groups], o.pruned);
    const s = o.stride ?? 1;
    return b.op({
      type: "conv2d",
      name,
      inputs: [x, w, bias(`${name}.b`, out)],
      attrs: {
        strides: [s, s],
        dilations: [1, 1],
        padding: "same",
        groups,
        activation: o.act ?? "none",
      },
    });
  };
  const x = b.input("image", [1, 12, 12, 3]);
  let y = conv("stem", x, 16, 3, { stride: 2, act: "relu" });
  const dw = conv("dw", y, 16, 3, { groups: 16 });
  const pw = conv("pw", dw, 16, 1, { act: "relu6", pruned: blockSize });
  const k3 = conv("k3", pw, 16, 3, { pruned: blockSize });
  y = b.op({ type: "add", name: "residual", inputs: [y, k3], attrs: { activation: "relu" } });
  y = b.op({
    type: "avg_pool2d",
    name: "pool",
    inputs: [y],
    attrs: { poolSize: [2, 2], strides: [2, 2], padding: "valid" },
  });
  y = b.op({ type: "global_avg_pool", name: "gap", inputs: [y], attrs: {} });
  const fc1w = weight("fc1.w", [32, 16], blockSize);
  y = b.op({
    type: "linear",
    name: "fc1",
    inputs: [y, fc1w, bias("fc1.b", 32)],
    attrs: { activation: "none" },
  });
  y = b.op({
    type: "activation",
    name: "fc1.hswish",
    inputs: [y],
    attrs: { function: "hard_swish" },
  });
  const fc2w = weight("fc2.w", [10, 32]);
  y = b.op({ type: "linear", name: "fc2", inputs: [y, fc2w], attrs: { activation: "none" } });
  b.output(y);
  const float = b.finish();
  return quantizeModel(float, createRandomImages(4, [1, 12, 12, 3], seed + 7));
}

export function randomInputs(model: Model, count: number, seed: number): Int8Array[] {
  const t = model.graph.tensors.find((x) => x.name === model.graph.inputs[0]);
  const n = (t?.shape ?? []).reduce((a, b) => a * b, 1);
  const rng = createRng(seed);
  return Array.from({ length: count }, () =>
    Int8Array.from({ length: n }, () => Math.floor(rng() * 256) - 128),
  );
}

export interface Built {
  dir: string;
  generated: GeneratedProgram;
  written: WrittenProgram;
}

export async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "tf-codegen-"));
  try {
    return await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function generateInto(
  dir: string,
  model: Model,
  options: GenerateOptions = {},
): Promise<Built> {
  const generated = await generateModelCode(model, options);
  const written = await writeGeneratedFiles(join(dir, "model"), generated.files);
  return { dir, generated, written };
}

export async function generateAndVerify(
  model: Model,
  inputs: readonly Int8Array[],
  options: GenerateOptions & { sanitize?: boolean } = {},
): Promise<{ verification: HostVerification; generated: GeneratedProgram }> {
  return withTempDir(async (dir) => {
    const { generated, written } = await generateInto(dir, model, options);
    const verification = await verifyHost({
      model,
      program: written,
      inputs,
      workDir: join(dir, "work"),
      sanitize: options.sanitize ?? false,
    });
    return { verification, generated };
  });
}
