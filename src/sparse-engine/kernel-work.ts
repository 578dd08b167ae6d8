/**
 * The work a matrix-kernel call does (conv 1x1, conv KxK and linear, dense
 * and sparse: they share tf_nn_conv_rows_s8), as counts the kernel's
 * instruction count is linear in. The counts follow the C: output pixels
 * are taken four at a time (a *group*); each group's input rows are packed
 * once (per four values, plus a tail), then every weight row is applied and
 * requantized. Which requantization runs is decided per call, as the C
 * decides it (tf_nn_conv_rows_s8 and tf_nn_requant_rows4_s8):
 *
 *   fused       every channel has its zero point folded (a right shift
 *               e <= 21, or a left shift s <= 31 with a multiplier of 0 or
 *               in [2^30, 2^31)) and the clamp is the whole int8 range: the
 *               asm stores (7 instructions per output, either kind); a
 *               sparse walk requantizes each row right after its blocks and
 *               skips rows with no stored block (their outputs are
 *               prefilled once per group). When some channels shift left
 *               (a multiplier of 0.5 or more, as an all-zero or nearly
 *               pruned row of a trained layer gets), the output pass over
 *               the accumulators and the sparse walk test each channel's
 *               kind ("mixed" counts)
 *   narrow      every channel shifts right but the clamp is narrower: the
 *               asm stores with a clamp; a sparse layer goes through the
 *               accumulators (tf_nn_sparse_rows4_s32) first
 *   C loop      some channel shifts left and the clamp is narrower (or a
 *               left shift cannot be fused): the portable loop, with
 *               tf_requantize for the left-shift channels
 *
 * The cost model (cost-model.ts) holds one coefficient per count and
 * kernel, fitted to per-layer instruction counts of generated models under
 * QEMU (test/support/calibration/calibrate-instructions.ts).
 */

/** How a call requantizes: what the C tests before choosing its path. */
export interface RequantStats {
  /** Every channel's zero point folds (either shift) and the clamp is [-128, 127]. */
  fused: boolean;
  /** Every channel shifts right (the asm output pass runs, with or without a clamp). */
  allRight: boolean;
  /** Channels whose shift is a left shift (or none): tf_requantize per output. */
  leftShiftChannels: number;
  /** The clamp is the whole int8 range. */
  fullRange: boolean;
}

/** TF_REQUANT_LEFT_MAX_OFFSET (tf_nn_support.h). */
const LEFT_MAX_OFFSET = 16256;

/**
 * The requantization path of a call with per-channel (or one) `shift` and
 * clamp [actMin, actMax], as tf_requant_prepare and tf_requant_fold_offset
 * decide it: a right shift e >= 1 is `shift = -e`; the zero point folds into
 * the 64-bit nudge when e - 1 <= 20; a left shift s >= 0 folds when s <= 31,
 * the multiplier is 0 or in [2^30, 2^31) and |outputOffset| <= 16256. The
 * multipliers and output offset may be left out: quantized layers always
 * meet those two conditions (quantizeMultiplier, int8 zero points).
 */
export function requantStats(
  shift: ArrayLike<number>,
  actMin: number,
  actMax: number,
  multiplier?: ArrayLike<number>,
  outputOffset = 0,
): RequantStats {
  let allRight = true;
  let rightFold = true;
  let leftFold = Math.abs(outputOffset) <= LEFT_MAX_OFFSET;
  let leftShiftChannels = 0;
  for (let i = 0; i < shift.length; i++) {
    const s = shift[i] as number;
    if (s >= 0) {
      allRight = false;
      leftShiftChannels++;
      const m = multiplier === undefined ? 2 ** 30 : (multiplier[i] as number);
      if (s > 31 || !(m === 0 || m >= 2 ** 30)) leftFold = false;
    } else if (-s - 1 > 20) {
      rightFold = false;
    }
  }
  const fullRange = actMin === -128 && actMax === 127;
  const fused = rightFold && (allRight || leftFold) && fullRange;
  return { fused, allRight, leftShiftChannels, fullRange };
}

/** requantStats of a layer's per-channel quantization (codegen's ChannelQuant). */
export function channelRequantStats(q: {
  readonly shift: ArrayLike<number>;
  readonly multiplier: ArrayLike<number>;
  readonly outputOffset: number;
  readonly actMin: number;
  readonly actMax: number;
}): RequantStats {
  return requantStats(q.shift, q.actMin, q.actMax, q.multiplier, q.outputOffset);
}

/** Named counts of one call's work; the cost model multiplies each by its coefficient. */
export type KernelWork = Record<string, number>;

/** A conv 1x1 / KxK or linear layer as the matrix kernels see it. */
export interface MatrixLayer {
  /** Output pixels (conv, over the batch) or rows (linear). */
  pixels: number;
  outChannels: number;
  /** Weights per output channel: the reduction length K. */
  rowLength: number;
  /** Kernel positions (kh·kw) when the input goes through im2col; undefined for 1x1 and linear. */
  im2colTaps?: number;
  requant: RequantStats;
  /** Stored blocks over all rows, their size and the rows with one: for the sparse kernels. */
  sparse?: { storedBlocks: number; blockSize: number; storedRows: number };
}

/**
 * The counts of the output pass over the accumulators
 * (tf_nn_requant_rows4_s8): `rowVisits` channel rows of four outputs, of
 * which `leftShiftRowVisits` shift left. Fused with every channel shifting
 * right costs nothing beyond the kernel's own row count; fused with some
 * left shifts, each row tests its kind (mixedRightRowVisits,
 * mixedLeftRowVisits); a narrow clamp adds its compares on either path.
 */
export function requantPass(
  rowVisits: number,
  leftShiftRowVisits: number,
  q: RequantStats,
): KernelWork {
  const narrow: KernelWork = q.fullRange ? {} : { narrowRowVisits: rowVisits };
  if (q.allRight) return narrow;
  if (q.fused)
    return {
      mixedRightRowVisits: rowVisits - leftShiftRowVisits,
      mixedLeftRowVisits: leftShiftRowVisits,
    };
  return { cLoopRowVisits: rowVisits, leftShiftRowVisits, ...narrow };
}

/**
 * The work of the dense (`sparse` false) or sparse kernel on `layer`. The
 * sparse kernel needs `layer.sparse`.
 */
export function matrixWork(layer: MatrixLayer, sparse: boolean): KernelWork {
  const k = layer.rowLength;
  const o = layer.outChannels;
  const groups = Math.ceil(layer.pixels / 4);
  const quads = k >> 2;
  // Blocks of 1 use the pair layout, whose packing differs (tf_nn_pack_rows4_s16).
  const pairLayout = sparse && layer.sparse?.blockSize === 1;
  const work: KernelWork = {
    calls: 1,
    channels: o,
    pixels: layer.pixels,
    groups,
    [pairLayout ? "pairPackedQuads" : "packedQuads"]: groups * quads,
    packedTail: groups * (k & 3),
  };
  if (layer.im2colTaps !== undefined) {
    work.im2colTaps = layer.pixels * layer.im2colTaps;
    work.im2colBytes = layer.pixels * k;
  }
  const q = layer.requant;
  const rowVisits = groups * o;
  if (!sparse) {
    return {
      ...work,
      rowVisits,
      macQuads: rowVisits * quads,
      macQuadRemainder: rowVisits * (quads & 3),
      macTail: rowVisits * (k & 3),
      ...requantPass(rowVisits, groups * q.leftShiftChannels, q),
    };
  }
  if (layer.sparse === undefined)
    throw new Error("matrixWork: the sparse kernel needs the weight's storage");
  const { storedBlocks, blockSize, storedRows } = layer.sparse;
  const weights: KernelWork =
    blockSize === 1 ? { singleWeights: 1 } : { weightQuads: blockSize / 4 };
  if (q.fused) {
    const prefilled = storedRows < o;
    return {
      ...work,
      prefilledGroups: prefilled ? groups : 0,
      prefilledBytes: prefilled ? 4 * rowVisits : 0,
      storedRowVisits: groups * storedRows,
      // Some channels shift left: each stored row tests its kind.
      ...(q.allRight ? {} : { mixedStoredRowVisits: groups * storedRows }),
      blockVisits: groups * storedBlocks,
      ...scale(weights, groups * storedBlocks),
    };
  }
  // Not fused: accumulate every row (bias alone for the empty ones), then the pass.
  return {
    ...work,
    accStoredRowVisits: groups * storedRows,
    accEmptyRows: groups * (o - storedRows),
    accBlockVisits: groups * storedBlocks,
    ...scale(
      blockSize === 1 ? { accSingleWeights: 1 } : { accWeightQuads: blockSize / 4 },
      groups * storedBlocks,
    ),
    requantRowVisits: rowVisits,
    ...requantPass(rowVisits, groups * q.leftShiftChannels, q),
  };
}

function scale(work: KernelWork, factor: number): KernelWork {
  return Object.fromEntries(Object.entries(work).map(([key, value]) => [key, value * factor]));
}
