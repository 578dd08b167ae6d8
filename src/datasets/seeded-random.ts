/**
 * A small seeded pseudo-random generator (mulberry32) shared by dataset
 * splitting, augmentation and weight initialisation. `Math.random` cannot be
 * seeded, and every result of a build must be a function of its recipe, seed
 * included, so the cache can reuse it.
 */
export interface SeededRandom {
  /** Uniform in [0, 1), 2^-32 resolution. */
  next(): number;
  /** Uniform integer in [0, bound). */
  nextInt(bound: number): number;
  /** Standard normal (Box-Muller). */
  nextNormal(): number;
}

export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  let spareNormal: number | undefined;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  return {
    next,
    nextInt(bound: number): number {
      if (!Number.isInteger(bound) || bound <= 0) {
        throw new RangeError(`nextInt bound must be a positive integer, got ${bound}`);
      }
      return Math.floor(next() * bound);
    },
    nextNormal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      // 1 - next() lies in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spareNormal = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

/**
 * Derives an independent seed for a named sub-stream (e.g. "split",
 * "augment/epoch3"), so adding a consumer does not shift the others' numbers.
 */
export function deriveSeed(seed: number, label: string): number {
  // FNV-1a over the label, mixed with the parent seed.
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Fisher-Yates shuffle of `0..count-1`. */
export function shuffledIndices(count: number, random: SeededRandom): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}
