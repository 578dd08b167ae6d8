/**
 * The arithmetic of splitting one batch across replicas and combining what
 * they return, kept free of tensors and threads so it is easy to test.
 */

/**
 * Contiguous shards of a batch of `count` images over `replicas`: the first
 * `count % replicas` shards get one image more. Every shard is non-empty.
 */
export function shardBatch(
  count: number,
  replicas: number,
): { readonly start: number; readonly end: number }[] {
  if (!(Number.isInteger(replicas) && replicas >= 1)) throw new RangeError(`replicas ${replicas}`);
  if (count < replicas) {
    throw new Error(
      `a batch of ${count} image(s) cannot be split across ${replicas} training workers (lower training_workers or raise the batch size)`,
    );
  }
  const base = Math.floor(count / replicas);
  const extra = count % replicas;
  const shards: { start: number; end: number }[] = [];
  let start = 0;
  for (let shard = 0; shard < replicas; shard++) {
    const end = start + base + (shard < extra ? 1 : 0);
    shards.push({ start, end });
    start = end;
  }
  return shards;
}

/**
 * The element-wise weighted mean of the replicas' running statistics, in
 * replica order, into `into` (replica 0's values); `weights` (one per
 * replica, summing to 1) are their shares of the images. An element every
 * replica left equal stays exactly as it is: a sub-network of a sandwich step
 * that does not update running statistics must not see them drift by rounding.
 *
 * Exponential running averages (and recalibration's plain mean) are linear in
 * the batch statistics, so the weighted mean of each replica's result from the
 * same starting value is the result with the statistics of all the images.
 */
export function meanOfReplicas(
  into: Float32Array,
  others: readonly Float32Array[],
  weights: readonly number[],
): void {
  if (weights.length !== others.length + 1)
    throw new Error(`${weights.length} weights for ${others.length + 1} replicas`);
  const own = weights[0] as number;
  for (let i = 0; i < into.length; i++) {
    const first = into[i] as number;
    let sum = first * own;
    let same = true;
    for (const [replica, values] of others.entries()) {
      const value = values[i] as number;
      sum += value * (weights[replica + 1] as number);
      same &&= value === first;
    }
    if (!same) into[i] = sum;
  }
}
