// Latency statistics of every load loop (src/loadgen/loop.ts, so `tinykv bench`, `npm run
// bench` and the other benchmarks): an HDR histogram at microsecond resolution and 3
// significant digits, so p99.9 and max of a long run cost a few kilobytes, not one number
// per request, and every report agrees on how a percentile is computed.

import hdr from 'hdr-histogram-js';

/** Milliseconds; NaN for all of them when nothing was recorded (no sample, no latency). */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Two minutes in microseconds: above any client timeout the benchmarks use. */
const HIGHEST_US = 120_000_000;

export class LatencyRecorder {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });

  /** Samples recorded so far. */
  get count(): number {
    return this.histogram.totalCount;
  }

  record(ms: number): void {
    // Sub-microsecond operations still count, as the smallest value the histogram holds.
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
    const ms = (us: number) => us / 1000;
    // A percentile reads a bucket's upper edge, which can sit just above the largest sample.
    const pct = (p: number) => ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
    return { p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: ms(h.maxValue), mean: ms(h.mean) };
  }

  /** Frees the histogram (the JS implementation holds plain arrays; this keeps the API honest). */
  destroy(): void {
    this.histogram.destroy();
  }
}

