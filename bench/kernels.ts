/**
 * Kernel benchmark: Cortex-M7 instruction counts (QEMU mps2-an500 + the
 * insn_count plugin) of the SparseEngine kernels on representative layers,
 * dense and sparse at 0/50/75/90 % block sparsity for every block size.
 * Whole layer, requantization to int8 included; every output is checked
 * against the reference interpreter.
 *
 * `npm run bench -- kernels [--quick]` (quick: block size 8 and 16 only).
 * Last stdout line: {"layers": [...], "dense_1x1_insn_per_mac", "speedup_75",
 * "speedup_90", "bytes_ratio_90", "best_block_size_1x1"}; the last four are the
 * 1x1 convolution's at the block size with the best 90 % speedup.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoardProfile } from "../src/config/load-board.js";
import { blockRleByteSize } from "../src/model-ir/sparse-encoding.js";
import type { BlockSize } from "../src/model-ir/types.js";
import { builtinBoardsDir } from "../src/project-paths.js";
import { encodeCase, type KernelCase } from "../test/support/kernel-cases.js";
import { buildKernelRunner, runKernelCases } from "../test/support/kernel-runner.js";
import {
  type ConvSpec,
  convCase,
  createRng,
  type LinearSpec,
  linearCase,
  matmulCase,
} from "../test/support/reference-cases.js";

interface Variant {
  label: string;
  sparsity: number;
  blockSize: BlockSize | 0;
  kernelCase: KernelCase;
  expected: Int8Array;
  /** MACs the kernel executes (stored weights times output pixels). */
  executedMacs: number;
  weightBytes: number;
}

interface LayerPlan {
  name: string;
  /** Dense MACs of the layer. */
  macs: number;
  variants: Variant[];
}

const SPARSITIES = [0, 0.5, 0.75, 0.9];

function weightStats(c: KernelCase, pixels: number): { executedMacs: number; weightBytes: number } {
  if (c.kind === "matmul") return { executedMacs: c.batch * c.m * c.n * c.k, weightBytes: 0 };
  if (c.kind !== "conv" && c.kind !== "linear") throw new Error(`${c.kind} has no weights`);
  const w = c.weight;
  if ("dense" in w) return { executedMacs: w.dense.length * pixels, weightBytes: w.dense.length };
  return {
    executedMacs: w.sparse.values.length * pixels,
    weightBytes: blockRleByteSize(w.sparse),
  };
}

function planWeighted(
  name: string,
  pixels: number,
  macs: number,
  blockSizes: readonly BlockSize[],
  make: (
    blockSize: BlockSize | 0,
    sparsity: number,
  ) => { kernelCase: KernelCase; expected: Int8Array },
): LayerPlan {
  const variants: Variant[] = [];
  const add = (blockSize: BlockSize | 0, sparsity: number) => {
    const made = make(blockSize, sparsity);
    variants.push({
      label: blockSize === 0 ? "dense" : `sparse b${blockSize} ${sparsity * 100}%`,
      sparsity,
      blockSize,
      ...made,
      ...weightStats(made.kernelCase, pixels),
    });
  };
  add(0, 0);
  for (const b of blockSizes) for (const s of SPARSITIES) add(b, s);
  return { name, macs, variants };
}

function plans(blockSizes: readonly BlockSize[]): LayerPlan[] {
  const rng = createRng(2023);
  const conv =
    (variant: "1x1" | "kxk", c: number, o: number, k: number) =>
    (blockSize: BlockSize | 0, sparsity: number) => {
      const spec: ConvSpec = {
        variant,
        batch: 1,
        h: 16,
        w: 16,
        c,
        o,
        k: [k, k],
        strides: [1, 1],
        dilations: [1, 1],
        padding: "same",
        blockSize,
        sparsity,
        bias: true,
      };
      return convCase(rng, spec, { exactSparsity: true, typicalQuant: true });
    };
  const linear = (blockSize: BlockSize | 0, sparsity: number) => {
    const spec: LinearSpec = {
      rows: 64,
      inFeatures: 128,
      outFeatures: 256,
      blockSize,
      sparsity,
      bias: true,
    };
    return linearCase(rng, spec, { exactSparsity: true, typicalQuant: true });
  };
  const attention = (name: string, transposeB: boolean, k: number, n: number): LayerPlan => {
    const made = matmulCase(rng, { batch: 2, m: 64, k, n, transposeB });
    const macs = 2 * 64 * k * n;
    return {
      name,
      macs,
      variants: [
        { label: "dense", sparsity: 0, blockSize: 0, ...made, executedMacs: macs, weightBytes: 0 },
      ],
    };
  };
  const depthwise = (): LayerPlan => {
    const spec: ConvSpec = {
      variant: "depthwise",
      batch: 1,
      h: 16,
      w: 16,
      c: 64,
      o: 64,
      k: [3, 3],
      strides: [1, 1],
      dilations: [1, 1],
      padding: "same",
      blockSize: 0,
      sparsity: 0,
      bias: true,
    };
    const made = convCase(rng, spec, { typicalQuant: true });
    const macs = 256 * 64 * 9;
    return {
      name: "depthwise 3x3 64 ch @16x16",
      macs,
      variants: [
        {
          label: "dense",
          sparsity: 0,
          blockSize: 0,
          ...made,
          executedMacs: macs,
          weightBytes: 64 * 9,
        },
      ],
    };
  };
  return [
    planWeighted(
      "conv1x1 64->128 @16x16",
      256,
      256 * 64 * 128,
      blockSizes,
      conv("1x1", 64, 128, 1),
    ),
    planWeighted(
      "conv3x3 32->32 @16x16",
      256,
      256 * 9 * 32 * 32,
      blockSizes,
      conv("kxk", 32, 32, 3),
    ),
    planWeighted("linear 128->256 x64 tokens", 64, 64 * 128 * 256, blockSizes, linear),
    attention("attention Q.K^T 2 heads x64 tokens, dim 32", true, 32, 64),
    attention("attention A.V 2 heads x64 tokens, dim 32", false, 64, 32),
    depthwise(),
  ];
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

export async function main(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const blockSizes: readonly BlockSize[] = quick ? [8, 16] : [1, 4, 8, 16];
  const board = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
  if (board === undefined) throw new Error("board profile stm32f746 not found");
  const dir = await mkdtemp(join(tmpdir(), "tf-bench-kernels-"));
  try {
    const runner = await buildKernelRunner({ kind: "qemu", board }, dir);
    const layers = [];
    for (const plan of plans(blockSizes)) {
      const { results, instructions } = await runKernelCases(
        runner,
        plan.variants.map((v) => encodeCase(v.kernelCase)),
        { timeoutMs: 600_000 },
      );
      const rows = plan.variants.map((v, i) => {
        const r = results[i];
        if (
          r === undefined ||
          r.status !== 0 ||
          !Buffer.from(r.output.buffer).equals(Buffer.from(v.expected.buffer))
        ) {
          throw new Error(`${plan.name} ${v.label}: output differs from the reference`);
        }
        return { v, insn: instructions?.[i] ?? Number.NaN };
      });
      const dense = rows[0] as (typeof rows)[number];
      const denseBytes = dense.v.weightBytes;
      const entries = rows.map(({ v, insn }) => ({
        kernel: v.blockSize === 0 ? "dense" : "sparse",
        block_size: v.blockSize === 0 ? null : v.blockSize,
        sparsity: v.sparsity,
        instructions: insn,
        executed_macs: v.executedMacs,
        insn_per_executed_mac: round(insn / Math.max(1, v.executedMacs)),
        insn_per_dense_mac: round(insn / plan.macs),
        speedup_vs_dense: round(dense.insn / insn, 2),
        weight_bytes: v.weightBytes,
        bytes_ratio_vs_dense: denseBytes === 0 ? null : round(v.weightBytes / denseBytes),
      }));
      for (const e of entries) {
        process.stderr.write(
          `${plan.name.padEnd(44)} ${`${e.kernel}${e.block_size ? ` b${e.block_size}` : ""}`.padEnd(11)} ${String(e.sparsity * 100).padStart(3)}%  ${String(e.instructions).padStart(9)} insn  ${e.insn_per_executed_mac.toFixed(2)} insn/MAC  x${e.speedup_vs_dense.toFixed(2)}  ${e.weight_bytes} B\n`,
        );
      }
      layers.push({ name: plan.name, macs: plan.macs, results: entries });
    }
    const conv1x1 = layers[0];
    if (conv1x1 === undefined) throw new Error("no 1x1 layer");
    const at = (b: number, s: number) =>
      conv1x1.results.find((e) => e.block_size === b && e.sparsity === s);
    let best = blockSizes[0] as number;
    for (const b of blockSizes) {
      if ((at(b, 0.9)?.speedup_vs_dense ?? 0) > (at(best, 0.9)?.speedup_vs_dense ?? 0)) best = b;
    }
    const summary = {
      layers,
      dense_1x1_insn_per_mac: conv1x1.results[0]?.insn_per_dense_mac,
      speedup_75: at(best, 0.75)?.speedup_vs_dense,
      speedup_90: at(best, 0.9)?.speedup_vs_dense,
      bytes_ratio_90: at(best, 0.9)?.bytes_ratio_vs_dense,
      best_block_size_1x1: best,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
