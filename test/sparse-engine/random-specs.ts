/** Random layer shapes for the kernel tests (sizes kept small: many cases, fast). */
import type { BlockSize } from "../../src/model-ir/types.js";
import type { KernelCase } from "../support/kernel-cases.js";
import type { ConvSpec, LinearSpec, MatMulSpec, Rng } from "../support/reference-cases.js";
import {
  addCase,
  avgPoolCase,
  broadcastCase,
  concatCase,
  convCase,
  createRng,
  globalAvgPoolCase,
  layerNormCase,
  linearCase,
  lutCase,
  matmulCase,
  mulCase,
  patchCase,
  pick,
  randInt,
  reshapeCase,
  softmaxCase,
  transposeCase,
} from "../support/reference-cases.js";

/** A case with the reference output. */
export interface Expected {
  label: string;
  kernelCase: KernelCase;
  expected: Int8Array;
}

/** A reproducible batch of random cases per kernel family. */
export function randomCases(seed: number, counts: Record<string, number>): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  for (let i = 0; i < (counts.conv1x1 ?? 0); i++)
    out.push({ label: `conv1x1 #${i}`, ...convCase(rng, randomConvSpec(rng, "1x1")) });
  for (let i = 0; i < (counts.convKxK ?? 0); i++)
    out.push({ label: `convKxK #${i}`, ...convCase(rng, randomConvSpec(rng, "kxk")) });
  for (let i = 0; i < (counts.depthwise ?? 0); i++)
    out.push({ label: `depthwise #${i}`, ...convCase(rng, randomConvSpec(rng, "depthwise")) });
  for (let i = 0; i < (counts.linear ?? 0); i++)
    out.push({ label: `linear #${i}`, ...linearCase(rng, randomLinearSpec(rng)) });
  for (let i = 0; i < (counts.matmul ?? 0); i++)
    out.push({ label: `matmul #${i}`, ...matmulCase(rng, randomMatMulSpec(rng)) });
  return out;
}

const BLOCKS: readonly (BlockSize | 0)[] = [0, 1, 4, 8, 16];

/** Channel count divisible by the block size, sometimes odd for dense. */
function channels(rng: Rng, blockSize: number, max: number): number {
  if (blockSize <= 1) return randInt(rng, 1, max);
  return blockSize * randInt(rng, 1, Math.max(1, Math.floor(max / blockSize)));
}

export function randomConvSpec(rng: Rng, variant: ConvSpec["variant"]): ConvSpec {
  const blockSize = variant === "depthwise" ? 0 : pick(rng, BLOCKS);
  const k: [number, number] =
    variant === "1x1" ? [1, 1] : [pick(rng, [1, 2, 3, 5]), pick(rng, [1, 3, 4])];
  // KxK row length is KH*KW*C: pick C so that it is a multiple of the block size.
  const taps = k[0] * k[1];
  let c = channels(rng, blockSize, 40);
  if (variant === "kxk" && blockSize > 1)
    c = randInt(rng, 1, 12) * (blockSize / gcd(blockSize, taps));
  const o = variant === "depthwise" ? c * pick(rng, [1, 1, 2, 3]) : randInt(rng, 1, 24);
  const stride = (): number => pick(rng, [1, 1, 2, 3]);
  const dilations: [number, number] =
    variant === "1x1" ? [1, 1] : [pick(rng, [1, 1, 2]), pick(rng, [1, 1, 2])];
  const padding = pick(rng, ["same", "valid"] as const);
  // "valid" needs the input at least as large as the dilated kernel.
  const size = (axis: 0 | 1): number => {
    const min = padding === "valid" ? (k[axis] - 1) * dilations[axis] + 1 : 1;
    return randInt(rng, min, min + 8);
  };
  return {
    variant,
    batch: randInt(rng, 1, 2),
    h: size(0),
    w: size(1),
    c,
    o,
    k,
    strides: [stride(), stride()],
    dilations,
    padding,
    blockSize,
    sparsity: pick(rng, [0, 0.3, 0.5, 0.75, 0.9, 1]),
    bias: rng() < 0.8,
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function randomLinearSpec(rng: Rng): LinearSpec {
  const blockSize = pick(rng, BLOCKS);
  return {
    rows: randInt(rng, 1, 9),
    inFeatures: channels(rng, blockSize, 96),
    outFeatures: randInt(rng, 1, 40),
    blockSize,
    sparsity: pick(rng, [0, 0.5, 0.75, 0.9, 1]),
    bias: rng() < 0.8,
  };
}

export function randomMatMulSpec(rng: Rng): MatMulSpec {
  return {
    batch: randInt(rng, 1, 3),
    m: randInt(rng, 1, 9),
    k: randInt(rng, 1, 40),
    n: randInt(rng, 1, 12),
    transposeB: rng() < 0.5,
  };
}

/**
 * Sparse conv 1x1 and linear layers with whole output channels pruned: 0 and
 * all 32 empty rows bound it; 1 and 3 of 32 are stored one by one, 16
 * prefilled (tf_nn_conv_rows_s8); random shifts and clamps take the unfused
 * path, the typical quantization the fused one.
 */
export function emptyRowCases(seed: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  for (const typicalQuant of [true, false]) {
    for (const emptyRows of [0, 1, 3, 16, 32]) {
      for (const blockSize of [1, 4, 16] as const) {
        const prune = { typicalQuant, emptyRows, exactSparsity: true };
        const label = `${emptyRows} empty rows, b${blockSize}, typical ${typicalQuant}`;
        const linear = { rows: 5, inFeatures: 64, outFeatures: 32, blockSize, sparsity: 0.5 };
        out.push({
          label: `linear ${label}`,
          ...linearCase(rng, { ...linear, bias: true }, prune),
        });
        const conv: ConvSpec = {
          variant: "1x1",
          batch: 1,
          h: 3,
          w: 3,
          c: 32,
          o: 32,
          k: [1, 1],
          strides: [1, 1],
          dilations: [1, 1],
          padding: "valid",
          blockSize,
          sparsity: 0.5,
          bias: true,
        };
        out.push({ label: `conv1x1 ${label}`, ...convCase(rng, conv, prune) });
      }
    }
  }
  return out;
}

/** Random cases of the element-wise, pooling, normalisation and data-movement kernels. */
export function randomOtherCases(seed: number, perKind: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  for (let i = 0; i < perKind; i++) {
    out.push({ label: `add #${i}`, ...addCase(rng, randInt(rng, 1, 300)) });
    out.push({ label: `lut #${i}`, ...lutCase(rng, randInt(rng, 1, 300)) });
    const pool = (): [number, number] => [randInt(rng, 1, 4), randInt(rng, 1, 4)];
    const p = pool();
    const padding = pick(rng, ["same", "valid"] as const);
    out.push({
      label: `avg_pool #${i}`,
      ...avgPoolCase(rng, {
        batch: randInt(rng, 1, 2),
        h: randInt(rng, p[0], p[0] + 7),
        w: randInt(rng, p[1], p[1] + 7),
        c: randInt(rng, 1, 20),
        pool: p,
        strides: [randInt(rng, 1, 3), randInt(rng, 1, 3)],
        padding,
      }),
    });
    out.push({
      label: `global_avg_pool #${i}`,
      ...globalAvgPoolCase(rng, {
        batch: randInt(rng, 1, 2),
        h: randInt(rng, 1, 8),
        w: randInt(rng, 1, 8),
        c: randInt(rng, 1, 40),
      }),
    });
    out.push({
      label: `softmax #${i}`,
      ...softmaxCase(rng, randInt(rng, 1, 6), pick(rng, [1, 2, 7, 64, 100, 256])),
    });
    out.push({
      label: `layer_norm #${i}`,
      ...layerNormCase(rng, randInt(rng, 1, 5), pick(rng, [1, 2, 16, 96, 192, 4096])),
    });
    const rank = randInt(rng, 1, 6);
    out.push({
      label: `transpose #${i}`,
      ...transposeCase(
        rng,
        Array.from({ length: rank }, () => randInt(rng, 1, rank > 4 ? 3 : 6)),
      ),
    });
    out.push({ label: `reshape #${i}`, ...reshapeCase(rng, randInt(rng, 0, 100)) });
  }
  return out;
}

/**
 * Depthwise shapes that reach every path of tf_depthwise_conv_s8: 3x3
 * (unrolled) with interior and border pixels, stride 2, dilation 2, "valid",
 * inputs smaller than the kernel, other tap counts (odd and even), a channel
 * multiplier above 1 and O % 4 != 0; each with the typical quantization
 * (requantized right after the MACs) and a random one.
 */
export function depthwiseCases(seed: number): Expected[] {
  const rng = createRng(seed);
  const shapes: [string, Partial<ConvSpec>][] = [
    ["3x3 same", { h: 6, w: 7, c: 12, k: [3, 3] }],
    ["3x3 same, 2 images", { batch: 2, h: 5, w: 5, c: 8, k: [3, 3] }],
    ["3x3 stride 2, O % 4 = 2", { h: 7, w: 6, c: 10, k: [3, 3], strides: [2, 2] }],
    ["3x3 dilation 2", { h: 7, w: 8, c: 8, k: [3, 3], dilations: [2, 2] }],
    ["3x3 valid, O % 4 = 1", { h: 5, w: 6, c: 5, k: [3, 3], padding: "valid" }],
    ["3x3 on 1x2", { h: 1, w: 2, c: 4, k: [3, 3] }],
    ["3x3 multiplier 2", { h: 4, w: 5, c: 4, o: 8, k: [3, 3] }],
    ["5x5 same", { h: 6, w: 6, c: 8, k: [5, 5] }],
    ["3x4 stride 3", { h: 8, w: 9, c: 7, k: [3, 4], strides: [3, 3] }],
    ["1x3 dilation 2x1", { h: 5, w: 7, c: 16, k: [1, 3], dilations: [2, 1] }],
    ["1x1", { h: 3, w: 3, c: 4, k: [1, 1] }],
  ];
  const out: Expected[] = [];
  for (const typicalQuant of [true, false]) {
    for (const [label, shape] of shapes) {
      const c = shape.c ?? 4;
      const spec: ConvSpec = {
        variant: "depthwise",
        batch: 1,
        h: 4,
        w: 4,
        c,
        o: c,
        k: [3, 3],
        strides: [1, 1],
        dilations: [1, 1],
        padding: "same",
        blockSize: 0,
        sparsity: 0,
        bias: rng() < 0.8,
        ...shape,
      };
      out.push({
        label: `depthwise ${label}, typical ${typicalQuant}`,
        ...convCase(rng, spec, { typicalQuant }),
      });
    }
  }
  return out;
}

/**
 * Layers where some or all channels shift left (multiplier 0.5 or more, as
 * pruning makes common), the rest right, with the whole int8 range: the
 * fused stores of both kinds (PruneOptions.leftShifts: shifts up to 31,
 * multipliers 0, 2^30 and 2^31 - 1, biases at the int32 limits). Depthwise
 * 3x3 with interior and border pixels and other shapes, conv 1x1 and KxK
 * and linear, dense and sparse with every block size and empty rows, and
 * batch matmuls with a left shift.
 */
export function leftShiftCases(seed: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  const depthwise: [string, Partial<ConvSpec>][] = [
    ["3x3 same", { h: 7, w: 8, c: 16, k: [3, 3] }],
    ["3x3 stride 2, O % 4 = 2", { h: 7, w: 6, c: 10, k: [3, 3], strides: [2, 2] }],
    ["3x3 valid", { h: 6, w: 6, c: 8, k: [3, 3], padding: "valid" }],
    ["5x5 same", { h: 6, w: 6, c: 8, k: [5, 5] }],
    ["3x4 stride 3", { h: 8, w: 9, c: 7, k: [3, 4], strides: [3, 3] }],
    ["3x3 multiplier 2", { h: 4, w: 5, c: 4, o: 8, k: [3, 3] }],
  ];
  for (const leftShifts of [0.3, 1]) {
    for (const [label, shape] of depthwise) {
      const c = shape.c ?? 4;
      const spec: ConvSpec = {
        variant: "depthwise",
        batch: 1,
        h: 4,
        w: 4,
        c,
        o: c,
        k: [3, 3],
        strides: [1, 1],
        dilations: [1, 1],
        padding: "same",
        blockSize: 0,
        sparsity: 0,
        bias: true,
        ...shape,
      };
      out.push({
        label: `depthwise ${label}, left ${leftShifts}`,
        ...convCase(rng, spec, { leftShifts }),
      });
    }
    for (const blockSize of [0, 1, 4, 8, 16] as const) {
      for (const emptyRows of blockSize === 0 ? [0] : [0, 5]) {
        const label = `b${blockSize}, ${emptyRows} empty rows, left ${leftShifts}`;
        const prune = { leftShifts, emptyRows };
        const sparsity = blockSize === 0 ? 0 : pick(rng, [0.5, 0.9]);
        const conv: ConvSpec = {
          variant: "1x1",
          batch: 1,
          h: 3,
          w: 5,
          c: 32,
          o: 24,
          k: [1, 1],
          strides: [1, 1],
          dilations: [1, 1],
          padding: "valid",
          blockSize,
          sparsity,
          bias: rng() < 0.9,
        };
        out.push({ label: `conv1x1 ${label}`, ...convCase(rng, conv, prune) });
        const kxk: ConvSpec = {
          ...conv,
          variant: "kxk",
          h: 5,
          w: 4,
          c: 16,
          o: 12,
          k: [3, 3],
          padding: "same",
        };
        out.push({ label: `conv3x3 ${label}`, ...convCase(rng, kxk, prune) });
        const linear = { rows: 7, inFeatures: 64, outFeatures: 20, blockSize, sparsity };
        out.push({
          label: `linear ${label}`,
          ...linearCase(rng, { ...linear, bias: rng() < 0.9 }, prune),
        });
      }
    }
  }
  for (const shift of [0, 1, 3]) {
    const spec = { batch: 2, m: 6, k: 24, n: 10, transposeB: rng() < 0.5, shift };
    out.push({ label: `matmul shift ${shift}`, ...matmulCase(rng, spec) });
  }
  return out;
}

/** A random shape of `rank` dimensions of 1..max. */
function randomShape(rng: Rng, rank: number, max: number): number[] {
  return Array.from({ length: rank }, () => randInt(rng, 1, max));
}

/**
 * Two shapes that broadcast against each other: a random output shape
 * (rank 1..6) with each input dropping some leading dimensions or setting
 * some to 1; never both the same.
 */
function randomBroadcastShapes(rng: Rng): [number[], number[]] {
  const rank = randInt(rng, 1, 6);
  const out = randomShape(rng, rank, rank > 4 ? 3 : 5);
  const input = (): number[] => {
    const dropped = rng() < 0.3 ? randInt(rng, 1, rank) : 0;
    return out.slice(dropped).map((d) => (rng() < 0.35 ? 1 : d));
  };
  let a = input();
  const b = input();
  if (a.join() === b.join()) a = a.length > 1 ? a.slice(1) : [1];
  return [a, b];
}

/**
 * Random cases of mul (same shape), add and mul with broadcasting, concat,
 * unfold and fold; every other case takes the extreme quantization (scales
 * over 2^-12..2^12, zero points at the int8 limits, fused ReLU / ReLU6
 * clamps).
 */
export function randomMovementCases(seed: number, perKind: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  for (let i = 0; i < perKind; i++) {
    const quant = i % 2 === 0 ? "typical" : "extreme";
    out.push({ label: `mul #${i} ${quant}`, ...mulCase(rng, randInt(rng, 1, 300), quant) });
    for (const kind of ["add", "mul"] as const) {
      const [a, b] = randomBroadcastShapes(rng);
      out.push({
        label: `${kind} broadcast #${i} ${quant} [${a}] [${b}]`,
        ...broadcastCase(rng, kind, a, b, quant),
      });
    }
    const rank = randInt(rng, 1, 4);
    const axis = randInt(rng, 0, rank - 1);
    const count = randInt(rng, 1, 6);
    const base = randomShape(rng, rank, 6);
    const shapes = Array.from({ length: count }, () =>
      base.map((d, j) => (j === axis ? randInt(rng, 1, 6) : d)),
    );
    const requantize = shapes.map(() => rng() < 0.5);
    out.push({
      label: `concat #${i} axis ${axis} of [${shapes.join("] [")}]`,
      ...concatCase(rng, shapes, axis, requantize),
    });
    for (const variant of ["unfold", "fold"] as const) {
      const patch: [number, number] = [randInt(rng, 1, 4), randInt(rng, 1, 4)];
      const dims: [number, number, number, number] = [
        randInt(rng, 1, 2),
        patch[0] * randInt(rng, 1, 4),
        patch[1] * randInt(rng, 1, 4),
        randInt(rng, 1, 12),
      ];
      out.push({
        label: `${variant} #${i} [${dims}] patch ${patch}`,
        ...patchCase(rng, variant, dims, patch),
      });
    }
  }
  return out;
}

/**
 * add and mul broadcasting along each axis of ranks 1 to 6: the second
 * input of size 1 there, the first one, the second without the dimensions
 * before it and of size 1 there, both broadcasting (along that axis and another),
 * and a one-element second input; typical and extreme quantization.
 */
export function broadcastAxisCases(seed: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  for (let rank = 1; rank <= 6; rank++) {
    for (let d = 0; d < rank; d++) {
      const full = randomShape(rng, rank, rank > 4 ? 3 : 5).map((n) => n + 1);
      const ones = (shape: number[], axes: number[]) =>
        shape.map((n, j) => (axes.includes(j) ? 1 : n));
      const other = (d + 1 + randInt(rng, 0, rank - 1)) % rank;
      const pairs: [string, number[], number[]][] = [
        ["second along", full, ones(full, [d])],
        ["first along", ones(full, [d]), full],
        ["second without the dimensions before and 1", full, ones(full.slice(d), [0])],
        ["both along", ones(full, [d]), ones(full, [other === d ? (d + 1) % rank : other])],
        ["scalar", full, [1]],
      ];
      for (const [what, a, b] of pairs) {
        if (a.join() === b.join()) continue;
        for (const kind of ["add", "mul"] as const) {
          const quant = rng() < 0.5 ? "typical" : "extreme";
          out.push({
            label: `${kind} broadcast, rank ${rank}, ${what} axis ${d}, ${quant}: [${a}] [${b}]`,
            ...broadcastCase(rng, kind, a, b, quant),
          });
        }
      }
    }
  }
  return out;
}

/**
 * concat along every axis of ranks 1 to 4, of 1, 2, 3 and 5 inputs, some
 * copied and some requantized, one of odd sizes.
 */
export function concatAxisCases(seed: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  for (let rank = 1; rank <= 4; rank++) {
    for (let axis = 0; axis < rank; axis++) {
      for (const count of [1, 2, 3, 5]) {
        const base = randomShape(rng, rank, 5);
        const shapes = Array.from({ length: count }, () =>
          base.map((d, j) => (j === axis ? randInt(rng, 1, 7) : d)),
        );
        const requantize = shapes.map((_, j) => (j === 0 ? rng() < 0.5 : rng() < 0.6));
        out.push({
          label: `concat rank ${rank} axis ${axis} of [${shapes.join("] [")}] requantize ${requantize}`,
          ...concatCase(rng, shapes, axis, requantize),
        });
      }
    }
  }
  return out;
}

/** unfold and fold with square, tall, wide and unit patches, odd channel counts. */
export function patchSizeCases(seed: number): Expected[] {
  const rng = createRng(seed);
  const out: Expected[] = [];
  const patches: [number, number][] = [
    [1, 1],
    [2, 2],
    [1, 2],
    [2, 1],
    [3, 2],
    [2, 4],
    [3, 3],
    [4, 4],
  ];
  for (const patch of patches) {
    for (const variant of ["unfold", "fold"] as const) {
      const dims: [number, number, number, number] = [
        randInt(rng, 1, 2),
        patch[0] * randInt(rng, 1, 3),
        patch[1] * randInt(rng, 1, 3),
        pick(rng, [1, 3, 4, 7, 16]),
      ];
      out.push({
        label: `${variant} [${dims}] patch ${patch}`,
        ...patchCase(rng, variant, dims, patch),
      });
    }
  }
  return out;
}
