/**
 * Fits non-negative coefficients c so that Σ c[name] · counts[name] matches
 * measured values, minimising the squared *relative* error: each sample is
 * divided by its value, or by `floor` when its value is smaller, so a small
 * sample counts as much as a large one down to the floor and no further
 * (what matters about a tiny layer is its share of the model).
 *
 * Non-negative because every count stands for work the program really does
 * (instructions per row, bytes per call): a negative coefficient would only
 * trade one count against a correlated one, which fits the calibration set
 * and extrapolates badly. Solved with Lawson and Hanson's active-set NNLS.
 */

export interface FitSample {
  counts: Readonly<Record<string, number>>;
  value: number;
}

export interface Fit {
  /** One coefficient per count seen non-zero in some sample. */
  coefficients: Record<string, number>;
  samples: number;
  maxRelativeError: number;
  rmsRelativeError: number;
}

/** Solves the square system m·x = v (Gaussian elimination, partial pivoting). */
function solveSquare(m: number[][], v: number[]): number[] | undefined {
  const n = v.length;
  const a = m.map((row, i) => [...row, v[i] as number]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(a[r]?.[col] as number) > Math.abs(a[pivot]?.[col] as number)) pivot = r;
    [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
    const row = a[col] as number[];
    const p = row[col] as number;
    if (Math.abs(p) < 1e-12) return undefined;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const other = a[r] as number[];
      const f = (other[col] as number) / p;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) other[c] = (other[c] as number) - f * (row[c] as number);
    }
  }
  return a.map((row, i) => (row[n] as number) / (row[i] as number));
}

/** Least squares over the columns in `passive` (normal equations, a tiny ridge for collinear ones). */
function leastSquares(a: number[][], b: number[], passive: number[], n: number): number[] {
  const k = passive.length;
  const ata = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const atb = new Array<number>(k).fill(0);
  for (let r = 0; r < a.length; r++) {
    const row = a[r] as number[];
    for (let i = 0; i < k; i++) {
      const ri = row[passive[i] as number] as number;
      if (ri === 0) continue;
      atb[i] = (atb[i] as number) + ri * (b[r] as number);
      const line = ata[i] as number[];
      for (let j = 0; j < k; j++)
        line[j] = (line[j] as number) + ri * (row[passive[j] as number] as number);
    }
  }
  for (let i = 0; i < k; i++)
    (ata[i] as number[])[i] = ((ata[i] as number[])[i] as number) * (1 + 1e-10) + 1e-12;
  const solution = solveSquare(ata, atb) ?? new Array<number>(k).fill(0);
  const x = new Array<number>(n).fill(0);
  passive.forEach((j, i) => {
    x[j] = solution[i] as number;
  });
  return x;
}

/** min ‖a·x − b‖ subject to x ≥ 0 (Lawson–Hanson). Columns should be of similar scale. */
export function nonNegativeLeastSquares(a: number[][], b: number[]): number[] {
  const n = a[0]?.length ?? 0;
  let x = new Array<number>(n).fill(0);
  const passive = new Set<number>();
  const gradient = () => {
    const residual = b.map(
      (bi, r) => bi - (a[r] as number[]).reduce((s, v, j) => s + v * (x[j] as number), 0),
    );
    return Array.from({ length: n }, (_, j) =>
      a.reduce((s, row, r) => s + (row[j] as number) * (residual[r] as number), 0),
    );
  };
  const tolerance = 1e-10 * Math.max(1, ...b.map(Math.abs));
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    const w = gradient();
    let best = -1;
    for (let j = 0; j < n; j++)
      if (
        !passive.has(j) &&
        (w[j] as number) > tolerance &&
        (best < 0 || (w[j] as number) > (w[best] as number))
      )
        best = j;
    if (best < 0) break;
    passive.add(best);
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      const s = leastSquares(
        a,
        b,
        [...passive].sort((p, q) => p - q),
        n,
      );
      const blocked = [...passive].filter((j) => (s[j] as number) <= 0);
      if (blocked.length === 0) {
        x = s;
        break;
      }
      let alpha = 1;
      for (const j of blocked) {
        const xj = x[j] as number;
        alpha = Math.min(alpha, xj / (xj - (s[j] as number)));
      }
      x = x.map((xj, j) => xj + alpha * ((s[j] as number) - xj));
      for (const j of [...passive])
        if ((x[j] as number) <= 1e-12) {
          passive.delete(j);
          x[j] = 0;
        }
    }
  }
  return x;
}

/** The non-negative relative-error fit of `samples`, with its (relative) errors on them. */
export function fitCoefficients(
  samples: readonly FitSample[],
  options: { floor?: number } = {},
): Fit {
  const floor = options.floor ?? 0;
  if (samples.length === 0) throw new Error("fitCoefficients: no samples");
  const names = [
    ...new Set(samples.flatMap((s) => Object.keys(s.counts).filter((k) => s.counts[k] !== 0))),
  ].sort();
  // Rows scaled by 1/value (relative error), columns by their largest
  // entry (conditioning); the solution is scaled back.
  const weight = samples.map((s) => 1 / Math.max(s.value, floor));
  const raw = samples.map((s, i) =>
    names.map((name) => (s.counts[name] ?? 0) * (weight[i] as number)),
  );
  const scale = names.map((_, j) => Math.max(...raw.map((row) => Math.abs(row[j] as number))) || 1);
  const a = raw.map((row) => row.map((v, j) => v / (scale[j] as number)));
  const b = samples.map((s, i) => s.value * (weight[i] as number));
  const x = nonNegativeLeastSquares(a, b);
  const coefficients: Record<string, number> = {};
  names.forEach((name, j) => {
    coefficients[name] = (x[j] as number) / (scale[j] as number);
  });
  const errors = samples.map((s) => {
    const predicted = names.reduce(
      (sum, name) => sum + (coefficients[name] as number) * (s.counts[name] ?? 0),
      0,
    );
    return (predicted - s.value) / s.value;
  });
  return {
    coefficients,
    samples: samples.length,
    maxRelativeError: Math.max(...errors.map(Math.abs)),
    rmsRelativeError: Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length),
  };
}
