// A small seeded pseudo-random generator (mulberry32). The Raft core takes all of its
// randomness from one of these so a run is fully determined by its seed.

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi). */
  intBetween(lo: number, hi: number): number;
}

export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    intBetween(lo, hi) {
      if (!(hi > lo)) throw new RangeError(`intBetween: empty range [${lo}, ${hi})`);
      return lo + Math.floor(next() * (hi - lo));
    },
  };
}
