/**
 * Small float models built in code, with seeded random weights: a
 * MobileViT-style network (stem conv, two MobileNetV2 blocks, one MobileViT
 * block with multi-head attention, classifier) for benchmarks and end-to-end
 * tests of the quantizer and the interpreter. Some weights are pruned
 * blockwise so the sparse path is exercised.
 */
import { createModelBuilder, type ModelBuilder } from "../../src/model-ir/builder.js";
import type {
  ActivationFunction,
  BlockSize,
  FusedActivation,
  Model,
} from "../../src/model-ir/types.js";

/** mulberry32: a tiny deterministic PRNG, uniform in [0, 1). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller). */
export function createGaussian(seed: number): () => number {
  const uniform = createRandom(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export interface MobileVitSampleOptions {
  /** @default 1 */
  seed?: number;
  /** Transformer width d. @default 96 */
  dim?: number;
  /** Attention heads (d must be divisible). @default 4 */
  heads?: number;
  /** Transformer layers in the MobileViT block. @default 2 */
  layers?: number;
  /** Fraction of blocks zeroed in pruned weights. @default 0.5 */
  sparsity?: number;
  /** Input resolution (square, divisible by 8). @default 32 */
  resolution?: number;
  /** Classes. @default 10 */
  classes?: number;
}

interface Ctx {
  b: ModelBuilder;
  gauss: () => number;
  uniform: () => number;
  sparsity: number;
}

/** He-style random weights; with `blockSize`, zeroes a fraction of blocks. */
function weight(ctx: Ctx, name: string, shape: number[], blockSize?: BlockSize): string {
  const n = shape.reduce((a, b) => a * b, 1);
  const fanIn = n / (shape[0] ?? 1);
  const std = Math.sqrt(2 / fanIn);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = ctx.gauss() * std;
  if (blockSize !== undefined) {
    for (let start = 0; start < n; start += blockSize) {
      if (ctx.uniform() < ctx.sparsity) v.fill(0, start, start + blockSize);
    }
    return ctx.b.constant(name, shape, v, { blockSize });
  }
  return ctx.b.constant(name, shape, v);
}

function vector(ctx: Ctx, name: string, n: number, mean: number, std: number): string {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = mean + ctx.gauss() * std;
  return ctx.b.constant(name, [n], v);
}

function conv(
  ctx: Ctx,
  name: string,
  x: string,
  out: number,
  k: number,
  options: {
    stride?: number;
    groups?: number;
    activation?: FusedActivation;
    blockSize?: BlockSize;
  } = {},
): string {
  const cin = ctx.b.shapeOf(x)[3] ?? 0;
  const groups = options.groups ?? 1;
  const w = weight(ctx, `${name}.weight`, [out, k, k, cin / groups], options.blockSize);
  const bias = vector(ctx, `${name}.bias`, out, 0, 0.05);
  const s = options.stride ?? 1;
  return ctx.b.op({
    type: "conv2d",
    name,
    inputs: [x, w, bias],
    attrs: {
      strides: [s, s],
      dilations: [1, 1],
      padding: "same",
      groups,
      activation: options.activation ?? "none",
    },
  });
}

function linear(ctx: Ctx, name: string, x: string, out: number, blockSize?: BlockSize): string {
  const shape = ctx.b.shapeOf(x);
  const cin = shape[shape.length - 1] ?? 0;
  const w = weight(ctx, `${name}.weight`, [out, cin], blockSize);
  const bias = vector(ctx, `${name}.bias`, out, 0, 0.05);
  return ctx.b.op({ type: "linear", name, inputs: [x, w, bias], attrs: { activation: "none" } });
}

function act(ctx: Ctx, name: string, x: string, fn: ActivationFunction): string {
  return ctx.b.op({ type: "activation", name, inputs: [x], attrs: { function: fn } });
}

function layerNorm(ctx: Ctx, name: string, x: string): string {
  const shape = ctx.b.shapeOf(x);
  const c = shape[shape.length - 1] ?? 0;
  const gamma = vector(ctx, `${name}.gamma`, c, 1, 0.1);
  const beta = vector(ctx, `${name}.beta`, c, 0, 0.05);
  return ctx.b.op({ type: "layer_norm", name, inputs: [x, gamma, beta], attrs: { epsilon: 1e-5 } });
}

function mv2(
  ctx: Ctx,
  name: string,
  x: string,
  out: number,
  stride: number,
  expand: number,
): string {
  const cin = ctx.b.shapeOf(x)[3] ?? 0;
  const hidden = cin * expand;
  let y = conv(ctx, `${name}.expand`, x, hidden, 1, { activation: "relu6", blockSize: 4 });
  y = conv(ctx, `${name}.dw`, y, hidden, 3, { stride, groups: hidden, activation: "relu6" });
  y = conv(ctx, `${name}.project`, y, out, 1, { blockSize: 8 });
  if (stride === 1 && cin === out) {
    y = ctx.b.op({
      type: "add",
      name: `${name}.residual`,
      inputs: [x, y],
      attrs: { activation: "none" },
    });
  }
  return y;
}

/** Multi-head self-attention over [P, N, d] sequences. */
function attention(ctx: Ctx, name: string, x: string, heads: number): string {
  const [p = 0, n = 0, d = 0] = ctx.b.shapeOf(x);
  const dh = d / heads;
  const split = (t: string, tag: string): string => {
    const r = ctx.b.op({
      type: "reshape",
      name: `${name}.${tag}.split`,
      inputs: [t],
      attrs: { shape: [p, n, heads, dh] },
    });
    const tr = ctx.b.op({
      type: "transpose",
      name: `${name}.${tag}.heads`,
      inputs: [r],
      attrs: { perm: [0, 2, 1, 3] },
    });
    return ctx.b.op({
      type: "reshape",
      name: `${name}.${tag}.merge`,
      inputs: [tr],
      attrs: { shape: [p * heads, n, dh] },
    });
  };
  const q = split(linear(ctx, `${name}.q`, x, d, 16), "q");
  const k = split(linear(ctx, `${name}.k`, x, d, 16), "k");
  const v = split(linear(ctx, `${name}.v`, x, d), "v");
  const scores = ctx.b.op({
    type: "matmul",
    name: `${name}.scores`,
    inputs: [q, k],
    attrs: { transposeB: true, alpha: 1 / Math.sqrt(dh) },
  });
  const probs = ctx.b.op({
    type: "softmax",
    name: `${name}.softmax`,
    inputs: [scores],
    attrs: { beta: 1 },
  });
  const ctxv = ctx.b.op({
    type: "matmul",
    name: `${name}.context`,
    inputs: [probs, v],
    attrs: { transposeB: false, alpha: 1 },
  });
  const r = ctx.b.op({
    type: "reshape",
    name: `${name}.context.split`,
    inputs: [ctxv],
    attrs: { shape: [p, heads, n, dh] },
  });
  const tr = ctx.b.op({
    type: "transpose",
    name: `${name}.context.tokens`,
    inputs: [r],
    attrs: { perm: [0, 2, 1, 3] },
  });
  const merged = ctx.b.op({
    type: "reshape",
    name: `${name}.context.merge`,
    inputs: [tr],
    attrs: { shape: [p, n, d] },
  });
  return linear(ctx, `${name}.out`, merged, d, 8);
}

function transformerLayer(ctx: Ctx, name: string, x: string, heads: number): string {
  const shape = ctx.b.shapeOf(x);
  const d = shape[shape.length - 1] ?? 0;
  const a = attention(ctx, `${name}.attn`, layerNorm(ctx, `${name}.ln1`, x), heads);
  const x1 = ctx.b.op({
    type: "add",
    name: `${name}.residual1`,
    inputs: [x, a],
    attrs: { activation: "none" },
  });
  let f = linear(ctx, `${name}.ffn1`, layerNorm(ctx, `${name}.ln2`, x1), 2 * d, 16);
  f = act(ctx, `${name}.gelu`, f, "gelu");
  f = linear(ctx, `${name}.ffn2`, f, d, 16);
  return ctx.b.op({
    type: "add",
    name: `${name}.residual2`,
    inputs: [x1, f],
    attrs: { activation: "none" },
  });
}

function mobileVitBlock(
  ctx: Ctx,
  name: string,
  x: string,
  dim: number,
  heads: number,
  layers: number,
): string {
  const [, h = 0, w = 0, c = 0] = ctx.b.shapeOf(x);
  let y = conv(ctx, `${name}.local`, x, c, 3);
  y = act(ctx, `${name}.local.silu`, y, "silu");
  y = conv(ctx, `${name}.expand`, y, dim, 1, { blockSize: 8 });
  let t = ctx.b.op({
    type: "unfold",
    name: `${name}.unfold`,
    inputs: [y],
    attrs: { patchSize: [2, 2] },
  });
  for (let i = 0; i < layers; i++) t = transformerLayer(ctx, `${name}.layer${i}`, t, heads);
  t = layerNorm(ctx, `${name}.ln`, t);
  y = ctx.b.op({
    type: "fold",
    name: `${name}.fold`,
    inputs: [t],
    attrs: { patchSize: [2, 2], height: h, width: w },
  });
  y = conv(ctx, `${name}.project`, y, c, 1, { blockSize: 4 });
  y = act(ctx, `${name}.project.silu`, y, "silu");
  const cat = ctx.b.op({
    type: "concat",
    name: `${name}.concat`,
    inputs: [x, y],
    attrs: { axis: 3 },
  });
  y = conv(ctx, `${name}.fuse`, cat, c, 3, { blockSize: 16 });
  return act(ctx, `${name}.fuse.silu`, y, "silu");
}

/** A ~200K-parameter MobileViT-style float model for 32x32x3 inputs. */
export function buildMobileVitSample(options: MobileVitSampleOptions = {}): Model {
  const seed = options.seed ?? 1;
  const res = options.resolution ?? 32;
  const ctx: Ctx = {
    b: createModelBuilder("mobilevit-sample"),
    gauss: createGaussian(seed),
    uniform: createRandom(seed + 1000),
    sparsity: options.sparsity ?? 0.5,
  };
  const x = ctx.b.input("image", [1, res, res, 3]);
  let y = conv(ctx, "stem", x, 16, 3, { stride: 2 });
  y = act(ctx, "stem.hswish", y, "hard_swish");
  y = mv2(ctx, "mv2a", y, 16, 1, 2);
  y = mv2(ctx, "mv2b", y, 32, 2, 3);
  y = mobileVitBlock(ctx, "mvit", y, options.dim ?? 96, options.heads ?? 4, options.layers ?? 2);
  y = conv(ctx, "head", y, 128, 1, { activation: "relu", blockSize: 8 });
  y = ctx.b.op({
    type: "avg_pool2d",
    name: "head.pool",
    inputs: [y],
    attrs: { poolSize: [2, 2], strides: [2, 2], padding: "valid" },
  });
  y = ctx.b.op({ type: "global_avg_pool", name: "gap", inputs: [y], attrs: {} });
  y = linear(ctx, "classifier", y, options.classes ?? 10);
  ctx.b.output(y);
  return ctx.b.finish();
}

/** Uniform random float images in [0, 1), for calibration and tests. */
export function createRandomImages(count: number, shape: number[], seed: number): Float32Array[] {
  const uniform = createRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, () => Float32Array.from({ length: n }, () => uniform()));
}
