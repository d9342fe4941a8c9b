// Latency statistics for the benchmark (src/bench): nearest-rank percentiles over a run's
// samples and a one-line summary per configuration. Pure functions, no I/O; the bench
// entry point (index.ts) collects the samples and prints what these return.

/** What one configuration's latencies come to, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest sample such that at
 * least p% of the samples are <= it. `p` is in [0, 100]; an empty input gives NaN.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Summarises samples in milliseconds; the input is not modified. */
export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  const asArray = Array.from(sorted);
  let sum = 0;
  for (const v of asArray) sum += v;
  return {
    count: asArray.length,
    meanMs: asArray.length > 0 ? sum / asArray.length : NaN,
    p50Ms: percentile(asArray, 50),
    p99Ms: percentile(asArray, 99),
    maxMs: asArray.length > 0 ? asArray[asArray.length - 1]! : NaN,
  };
}

/**
 * A tiny self-check of the arithmetic above, run by `npm run bench -- --self-check`.
 * Returns the failures found (none means all good), so the caller decides how to report them.
 */
export function selfCheck(): string[] {
  const failures: string[] = [];
  const expect = (what: string, got: number, want: number) => {
    if (!(got === want || (Number.isNaN(got) && Number.isNaN(want)))) failures.push(`${what}: got ${got}, want ${want}`);
  };
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  expect('p50 of 1..100', percentile(hundred, 50), 50);
  expect('p99 of 1..100', percentile(hundred, 99), 99);
  expect('p100 of 1..100', percentile(hundred, 100), 100);
  expect('p0 of 1..100', percentile(hundred, 0), 1);
  expect('p50 of [7]', percentile([7], 50), 7);
  expect('p99 of [1, 2]', percentile([1, 2], 99), 2);
  expect('p50 of []', percentile([], 50), NaN);
  const s = summarize([5, 1, 4, 2, 3]);
  expect('summary count', s.count, 5);
  expect('summary mean', s.meanMs, 3);
  expect('summary p50 (unsorted input)', s.p50Ms, 3);
  expect('summary max', s.maxMs, 5);
  return failures;
}
