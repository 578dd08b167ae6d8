/**
 * Small random models that reach the kernels and paths the search space's
 * networks rarely or never do: element-wise mul, broadcasting add and mul,
 * average pooling, strided and dilated KxK convolutions with "valid"
 * padding, depthwise convolutions with a channel multiplier or channel counts
 * that are not a multiple of four (the scalar loop), linear layers whose
 * width is not a multiple of four, transposes of several ranks, and
 * requantizing concatenations. The calibration measures them beside the
 * sample candidates, so every count of every kernel's work has data.
 *
 * Built with the model builder from seeded random weights (no tfjs), and
 * quantized like any model.
 */
import { createSeededRandom, type SeededRandom } from "../../../src/datasets/seeded-random.js";
import { createModelBuilder, type ModelBuilder } from "../../../src/model-ir/builder.js";

import type { BlockSize, Model } from "../../../src/model-ir/types.js";
import { quantizeModel } from "../../../src/quantize/quantize-model.js";
import { normalisedRandomImages } from "./sample-candidates.js";

const pick = <T>(random: SeededRandom, values: readonly T[]): T =>
  values[random.nextInt(values.length)] as T;

interface Ctx {
  b: ModelBuilder;
  random: SeededRandom;
}

/**
 * Random weights of fan-in scale; with `blockSize`, a random fraction of the
 * blocks zeroed and, half the time, one whole row (as pruning a trained
 * layer leaves rows without a stored block).
 */
function weight(ctx: Ctx, name: string, shape: number[], blockSize?: BlockSize): string {
  const n = shape.reduce((a, b) => a * b, 1);
  const rows = shape[0] ?? 1;
  const std = Math.sqrt(2 / (n / rows));
  const v = Float32Array.from({ length: n }, () => ctx.random.nextNormal() * std);
  if (blockSize === undefined) return ctx.b.constant(name, shape, v);
  const sparsity = ctx.random.next();
  for (let s = 0; s < n; s += blockSize)
    if (ctx.random.next() < sparsity) v.fill(0, s, s + blockSize);
  if (rows > 1 && ctx.random.next() < 0.5) {
    const row = ctx.random.nextInt(rows);
    v.fill(0, (row * n) / rows, ((row + 1) * n) / rows);
  }
  return ctx.b.constant(name, shape, v, { blockSize });
}

function bias(ctx: Ctx, name: string, n: number): string {
  return ctx.b.constant(
    name,
    [n],
    Float32Array.from({ length: n }, () => 0.1 * ctx.random.nextNormal()),
  );
}

/** A block size that divides `rowLength`, or none (dense). */
function maybeBlocks(ctx: Ctx, rowLength: number): BlockSize | undefined {
  const fitting = ([1, 4, 8, 16] as const).filter((b) => rowLength % b === 0);
  return ctx.random.next() < 0.3 ? undefined : pick(ctx.random, fitting);
}

function conv(
  ctx: Ctx,
  name: string,
  x: string,
  out: number,
  o: {
    k: [number, number];
    stride?: number;
    dilation?: number;
    padding?: "same" | "valid";
    groups?: number;
  },
): string {
  const cin = ctx.b.shapeOf(x)[3] ?? 0;
  const groups = o.groups ?? 1;
  const perGroup = cin / groups;
  const shape = [out, o.k[0], o.k[1], perGroup];
  const w = weight(
    ctx,
    `${name}.weight`,
    shape,
    groups === 1 ? maybeBlocks(ctx, o.k[0] * o.k[1] * perGroup) : undefined,
  );
  const s = o.stride ?? 1;
  const d = o.dilation ?? 1;
  return ctx.b.op({
    type: "conv2d",
    name,
    inputs: [x, w, bias(ctx, `${name}.bias`, out)],
    attrs: {
      strides: [s, s],
      dilations: [d, d],
      padding: o.padding ?? "same",
      groups,
      activation: pick(ctx.random, ["none", "relu", "relu6"] as const),
    },
  });
}

function linear(ctx: Ctx, name: string, x: string, out: number): string {
  const shape = ctx.b.shapeOf(x);
  const cin = shape[shape.length - 1] ?? 0;
  const w = weight(ctx, `${name}.weight`, [out, cin], maybeBlocks(ctx, cin));
  return ctx.b.op({
    type: "linear",
    name,
    inputs: [x, w, bias(ctx, `${name}.bias`, out)],
    attrs: { activation: "none" },
  });
}

/** The image part: convolutions of every kind, pooling, element-wise and broadcast ops. */
function imageOps(ctx: Ctx, x0: string): string {
  const { b, random } = ctx;
  const kxk: [number, number] = pick(random, [
    [3, 3],
    [5, 5],
    [1, 3],
    [3, 1],
    [2, 2],
  ] as [number, number][]);
  // Dilated only where even a "valid" 3x3 fits the smallest input (6 pixels).
  const dilation = kxk[0] <= 3 && kxk[1] <= 3 && random.next() < 0.3 ? 2 : 1;
  let x = conv(ctx, "kxk", x0, 4 + random.nextInt(20), {
    k: kxk,
    stride: pick(random, [1, 2]),
    dilation,
    padding: pick(random, ["same", "valid"] as const),
  });
  const c1 = b.shapeOf(x)[3] ?? 0;
  const multiplier = pick(random, [1, 1, 2]);
  x = conv(ctx, "depthwise", x, c1 * multiplier, {
    k: pick(random, [
      [3, 3],
      [5, 5],
      [3, 3],
    ] as [number, number][]),
    stride: pick(random, [1, 2]),
    groups: c1,
  });
  x = conv(ctx, "pointwise", x, 4 + random.nextInt(28), {
    k: [1, 1],
    padding: "valid",
    stride: pick(random, [1, 1, 2]),
  });
  const pool = pick(random, [2, 3]);
  const [, h = 1, w = 1] = b.shapeOf(x);
  if (h >= pool && w >= pool) {
    x = b.op({
      type: "avg_pool2d",
      name: "pool",
      inputs: [x],
      attrs: {
        poolSize: [pool, pool],
        strides: [pick(random, [1, 2]), pick(random, [1, 2])],
        padding: pick(random, ["same", "valid"] as const),
      },
    });
  }
  const c = b.shapeOf(x)[3] ?? 0;
  const gate = conv(ctx, "gate", x, c, { k: [1, 1], padding: "valid" });
  x = b.op({ type: "mul", name: "mul", inputs: [x, gate], attrs: { activation: "none" } });
  const pooled = b.op({ type: "global_avg_pool", name: "squeeze", inputs: [x], attrs: {} });
  const r = b.op({
    type: "reshape",
    name: "squeeze.r",
    inputs: [pooled],
    attrs: { shape: [1, 1, 1, c] },
  });
  x = b.op({ type: "add", name: "add.broadcast", inputs: [x, r], attrs: { activation: "none" } });
  return b.op({
    type: "mul",
    name: "mul.broadcast",
    inputs: [r, x],
    attrs: { activation: pick(random, ["none", "relu"] as const) },
  });
}

/** The sequence part: transposes, LayerNorm, softmax, LUT, matmuls, a requantizing concat. */
function sequenceOps(ctx: Ctx, image: string): string {
  const { b, random } = ctx;
  const shape4 = b.shapeOf(image);
  // Softmax rows are at most 256 wide: keep the token count (dims 1 and 2 after the transpose) under it.
  const perms = [
    [0, 3, 1, 2],
    [0, 2, 1, 3],
    [2, 1, 0, 3],
    [0, 1, 3, 2],
  ].filter((p) => (shape4[p[1] as number] ?? 1) * (shape4[p[2] as number] ?? 1) <= 256);
  const perm = perms.length > 0 ? pick(random, perms) : [0, 2, 1, 3];
  let x = b.op({ type: "transpose", name: "t4", inputs: [image], attrs: { perm } });
  const shape = b.shapeOf(x);
  x = b.op({
    type: "reshape",
    name: "t4.r",
    inputs: [x],
    attrs: { shape: [shape[0] ?? 1, (shape[1] ?? 1) * (shape[2] ?? 1), shape[3] ?? 1] },
  });
  const d = 3 + random.nextInt(30);
  x = linear(ctx, "embed", x, d);
  x = b.op({
    type: "layer_norm",
    name: "norm",
    inputs: [x, bias(ctx, "norm.gamma", d), bias(ctx, "norm.beta", d)],
    attrs: { epsilon: 1e-5 },
  });
  const a = linear(ctx, "q", x, d);
  const v = linear(ctx, "v", x, 2 + random.nextInt(20));
  const scores = b.op({
    type: "matmul",
    name: "scores",
    inputs: [a, x],
    attrs: { transposeB: true, alpha: 0.3 },
  });
  const probs = b.op({ type: "softmax", name: "softmax", inputs: [scores], attrs: { beta: 1 } });
  let y = b.op({
    type: "matmul",
    name: "context",
    inputs: [probs, v],
    attrs: { transposeB: false, alpha: 1 },
  });
  y = b.op({
    type: "activation",
    name: "gelu",
    inputs: [y],
    attrs: { function: pick(random, ["gelu", "silu", "hard_swish"] as const) },
  });
  const t = b.op({ type: "transpose", name: "t3", inputs: [y], attrs: { perm: [0, 2, 1] } });
  const back = b.op({
    type: "transpose",
    name: "t3.back",
    inputs: [t],
    attrs: { perm: [0, 2, 1] },
  });
  const cat = b.op({ type: "concat", name: "concat", inputs: [back, x, v], attrs: { axis: 2 } });
  return linear(ctx, "head", extraOps(ctx, cat), 1 + random.nextInt(13));
}

/**
 * Zero to four more shape-preserving ops on a [B, N, C] tensor, drawn at
 * random, so that how often each kernel is called varies from model to
 * model (which the per-call code size fit needs to tell the kernels apart).
 */
function extraOps(ctx: Ctx, input: string): string {
  const { b, random } = ctx;
  let x = input;
  const count = random.nextInt(5);
  for (let i = 0; i < count; i++) {
    const c = b.shapeOf(x)[2] ?? 1;
    const name = `extra${i}`;
    switch (random.nextInt(6)) {
      case 0:
        x = b.op({
          type: "layer_norm",
          name,
          inputs: [x, bias(ctx, `${name}.gamma`, c), bias(ctx, `${name}.beta`, c)],
          attrs: { epsilon: 1e-5 },
        });
        break;
      case 1:
        x = b.op({ type: "activation", name, inputs: [x], attrs: { function: "silu" } });
        break;
      case 2: {
        const t = b.op({ type: "transpose", name, inputs: [x], attrs: { perm: [0, 2, 1] } });
        x = b.op({
          type: "transpose",
          name: `${name}.back`,
          inputs: [t],
          attrs: { perm: [0, 2, 1] },
        });
        break;
      }
      case 3:
        x = b.op({ type: "softmax", name, inputs: [x], attrs: { beta: 1 } });
        break;
      case 4:
        x = b.op({
          type: "add",
          name,
          inputs: [x, linear(ctx, `${name}.branch`, x, c)],
          attrs: { activation: "none" },
        });
        break;
      default:
        x = b.op({
          type: "concat",
          name,
          inputs: [x, linear(ctx, `${name}.branch`, x, 1 + random.nextInt(8))],
          attrs: { axis: 2 },
        });
    }
  }
  return x;
}

/** A coverage model from `seed` (an int8 model IR). */
export function createCoverageModel(seed: number): Model {
  const random = createSeededRandom(seed);
  const ctx: Ctx = { b: createModelBuilder(`coverage-${seed}`), random };
  const side = 6 + random.nextInt(9);
  const channels = 3 + random.nextInt(10);
  const input = ctx.b.input("image", [1, side, side, channels]);
  const out = sequenceOps(ctx, imageOps(ctx, input));
  ctx.b.output(out);
  const images = normalisedRandomImages(6, [1, side, side, channels], seed);
  return quantizeModel(ctx.b.finish(), images);
}
