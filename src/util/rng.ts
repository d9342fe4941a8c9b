// A small seeded pseudo-random generator (mulberry32). The Raft core takes all of its
// randomness from one of these so a run is fully determined by its seed; the chaos runner,
// the load generator and tests use it for the same reason. It lives in src/util, the leaf
// every layer may import, so that they need not reach into the Raft core for it.

/** A source of pseudo-random numbers; the same seed gives the same sequence. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi). */
  intBetween(lo: number, hi: number): number;
}

/** A mulberry32 generator seeded with `seed` (taken as an unsigned 32-bit integer). */
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
