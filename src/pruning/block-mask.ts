/**
 * Blockwise magnitude pruning of one weight tensor in IR layout (rows of
 * `rowLength` weights along the reduction axis; see WeightLayerInfo).
 *
 * A block is `blockSize` consecutive weights of one row. Because the block
 * size divides the row length, the blocks of the whole tensor are simply
 * consecutive runs of `blockSize` values in the flat array: block i covers
 * [i * blockSize, (i + 1) * blockSize).
 *
 * Exactness: pruning to target s removes exactly `countPrunedBlocks(s, n)` =
 * round(s * n) of the n blocks (half rounds up; `Math.round` on a
 * non-negative number), the ones with the smallest L2 norm, ties broken by
 * block index (lower index pruned first) so the result is deterministic.
 */

/** A keep mask over the blocks of one tensor: 1 = kept, 0 = pruned. */
export interface BlockMask {
  readonly blockSize: number;
  readonly keep: Uint8Array;
  /** Blocks set to zero. */
  readonly pruned: number;
}

/** Blocks of a tensor of `length` weights; throws when `blockSize` does not divide the row length. */
export function countBlocks(length: number, rowLength: number, blockSize: number): number {
  if (!(blockSize >= 1 && Number.isInteger(blockSize)))
    throw new RangeError(`block size ${blockSize}`);
  if (rowLength % blockSize !== 0)
    throw new RangeError(`block size ${blockSize} does not divide the row length ${rowLength}`);
  if (length % rowLength !== 0)
    throw new RangeError(`${length} weights are not whole rows of ${rowLength}`);
  return length / blockSize;
}

/** How many of `blocks` blocks a target sparsity prunes: round(target × blocks), half up. */
export function countPrunedBlocks(target: number, blocks: number): number {
  if (!(target >= 0 && target <= 1)) throw new RangeError(`sparsity target ${target}`);
  return Math.min(blocks, Math.round(target * blocks));
}

/** The mask that prunes the `countPrunedBlocks(target)` blocks of smallest L2 norm. */
export function computeBlockMask(
  weights: Float32Array,
  rowLength: number,
  blockSize: number,
  target: number,
): BlockMask {
  const blocks = countBlocks(weights.length, rowLength, blockSize);
  const pruned = countPrunedBlocks(target, blocks);
  const norms = new Float64Array(blocks);
  for (let block = 0; block < blocks; block++) {
    let sum = 0;
    for (let i = block * blockSize; i < (block + 1) * blockSize; i++) {
      const w = weights[i] as number;
      sum += w * w;
    }
    norms[block] = sum;
  }
  const keep = new Uint8Array(blocks).fill(1);
  if (pruned > 0) {
    // The pruned-th smallest norm (typed-array sort is numeric and fast);
    // everything below it goes, then blocks equal to it in index order.
    const threshold = Float64Array.from(norms).sort()[pruned - 1] as number;
    let remaining = pruned;
    for (let block = 0; block < blocks; block++) {
      if ((norms[block] as number) < threshold) {
        keep[block] = 0;
        remaining--;
      }
    }
    for (let block = 0; block < blocks && remaining > 0; block++) {
      if (norms[block] === threshold) {
        keep[block] = 0;
        remaining--;
      }
    }
  }
  return { blockSize, keep, pruned };
}

/** Sets the pruned blocks of `weights` to exactly zero, in place. */
export function applyBlockMask(weights: Float32Array, mask: BlockMask): void {
  const { blockSize, keep } = mask;
  if (keep.length * blockSize !== weights.length)
    throw new RangeError(
      `mask covers ${keep.length * blockSize} weights, the tensor has ${weights.length}`,
    );
  for (let block = 0; block < keep.length; block++) {
    if (keep[block] === 0) weights.fill(0, block * blockSize, (block + 1) * blockSize);
  }
}

/** Fraction of blocks whose weights are all exactly zero (the sparsity the storage sees). */
export function measureBlockSparsity(weights: Float32Array, blockSize: number): number {
  const blocks = weights.length / blockSize;
  if (!Number.isInteger(blocks) || blocks === 0) throw new RangeError("no whole blocks");
  let zero = 0;
  for (let block = 0; block < blocks; block++) {
    let allZero = true;
    for (let i = block * blockSize; i < (block + 1) * blockSize; i++) {
      if (weights[i] !== 0) {
        allZero = false;
        break;
      }
    }
    if (allZero) zero++;
  }
  return zero / blocks;
}
