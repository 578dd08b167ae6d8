/**
 * The non-zero stretches of each row of a weight matrix, so that conv and
 * linear skip pruned weights instead of multiplying by zero (a block-pruned
 * layer at 50 % does half the work). Skipping a zero weight changes no
 * integer sum, and no float sum of finite values, so results are unchanged.
 * Computed once per weight array (cached by identity: the prepared model
 * hands the same constant arrays to every run).
 */

/** Row r's spans are the [start, end) pairs spans[2 j], spans[2 j + 1] for j in [rowStart[r], rowStart[r + 1]). */
export interface WeightSpans {
  rowStart: Int32Array;
  spans: Int32Array;
}

/**
 * Zero gaps shorter than this are multiplied through: a span costs a few
 * loop instructions, a zero weight one multiply-add.
 */
const MIN_GAP = 4;

const cache = new WeakMap<ArrayLike<number>, WeightSpans>();

export function weightSpans(
  weights: Int8Array | Float32Array,
  rows: number,
  rowLength: number,
): WeightSpans {
  const cached = cache.get(weights);
  if (cached !== undefined && cached.rowStart.length === rows + 1) return cached;
  const rowStart = new Int32Array(rows + 1);
  const spans: number[] = [];
  for (let r = 0; r < rows; r++) {
    rowStart[r] = spans.length / 2;
    const base = r * rowLength;
    let k = 0;
    while (k < rowLength) {
      while (k < rowLength && weights[base + k] === 0) k++;
      if (k === rowLength) break;
      const start = k;
      let end = k;
      // Extend over non-zeros and over zero gaps shorter than MIN_GAP.
      while (k < rowLength) {
        if (weights[base + k] !== 0) {
          k++;
          end = k;
        } else {
          let gap = k;
          while (gap < rowLength && weights[base + gap] === 0) gap++;
          if (gap === rowLength || gap - k >= MIN_GAP) break;
          k = gap;
        }
      }
      spans.push(start, end);
      k = end;
    }
  }
  rowStart[rows] = spans.length / 2;
  const result = { rowStart, spans: Int32Array.from(spans) };
  cache.set(weights, result);
  return result;
}
