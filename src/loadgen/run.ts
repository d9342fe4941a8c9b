// The benchmark's load loop: `concurrency` workers, each with one request in flight,
// issue the workload's operations until the time or count bound, and every completed
// operation's latency goes into an HDR histogram (microsecond resolution, 3 significant
// digits, so p999 and max of a long run cost a few kilobytes, not one number per request).
// Failed operations are counted by error code and kept out of the latencies.

import hdr from 'hdr-histogram-js';
import { seededRng } from '../util/rng.js';
import { benchKey, benchValue } from './keys.js';
import type { KvTarget } from './target.js';

export type BenchWorkload = 'put' | 'get' | 'scan' | 'delete' | 'mixed';

export interface BenchSpec {
  readonly workload: BenchWorkload;
  readonly concurrency: number;
  readonly durationMs: number;
  /** Stop after this many operations (started), if it comes first. */
  readonly ops: number | null;
  readonly keySize: number;
  readonly valueSize: number;
  /** Key space: keys 0..keys-1. */
  readonly keys: number;
  /** mixed: share of gets (the rest are puts). */
  readonly readRatio: number;
  /** scan: keys per scan. */
  readonly scanSize: number;
  readonly seed: number;
}

export interface BenchResult {
  readonly workload: BenchWorkload;
  readonly concurrency: number;
  readonly ok: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
  /** Latency of ok operations, in milliseconds. */
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number; readonly mean: number };
}

export interface RunHooks {
  /** Told once a second: operations completed so far and the elapsed time. */
  readonly onTick?: (okSoFar: number, failedSoFar: number, elapsedMs: number) => void;
}

export async function runBench(targets: readonly KvTarget[], spec: BenchSpec, hooks: RunHooks = {}): Promise<BenchResult> {
  if (targets.length < spec.concurrency) throw new RangeError(`${spec.concurrency} workers need as many targets, got ${targets.length}`);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const errors: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let started = 0;
  let seq = 0;
  const t0 = performance.now();
  const stopAt = t0 + spec.durationMs;
  const more = () => performance.now() < stopAt && (spec.ops === null || started < spec.ops);
  const ticker = setInterval(() => hooks.onTick?.(ok, failed, performance.now() - t0), 1000);
  const worker = async (w: number): Promise<void> => {
    const target = targets[w]!;
    // Each worker its own deterministic stream of key choices.
    const rng = seededRng((spec.seed * 7919 + w + 1) >>> 0);
    const next = () => rng.next();
    while (more()) {
      started++;
      const i = Math.floor(next() * spec.keys);
      const begin = performance.now();
      try {
        await operation(target, spec, i, seq++, next);
        histogram.recordValue(Math.max(1, Math.round((performance.now() - begin) * 1000)));
        ok++;
      } catch (e) {
        failed++;
        const code = String((e as { code?: unknown }).code ?? (e as Error).name ?? 'ERROR');
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.concurrency }, (_, w) => worker(w)));
  } finally {
    clearInterval(ticker);
  }
  const elapsedMs = performance.now() - t0;
  const ms = (us: number) => us / 1000;
  // A percentile reads a bucket's upper edge, which can sit just above the largest sample.
  const pct = (p: number) => ms(Math.min(histogram.getValueAtPercentile(p), histogram.maxValue));
  const result: BenchResult = {
    workload: spec.workload, concurrency: spec.concurrency, ok, failed, errors, elapsedMs,
    opsPerSec: ok / (elapsedMs / 1000),
    latencyMs: {
      p50: pct(50), p90: pct(90),
      p99: pct(99), p999: pct(99.9),
      max: ms(histogram.maxValue), mean: ms(histogram.mean),
    },
  };
  histogram.destroy();
  return result;
}

async function operation(t: KvTarget, spec: BenchSpec, i: number, seq: number, next: () => number): Promise<void> {
  switch (spec.workload) {
    case 'put':
      return t.put(benchKey(i, spec.keySize), benchValue(seq, spec.valueSize));
    case 'get':
      await t.get(benchKey(i, spec.keySize));
      return;
    case 'delete':
      return t.delete(benchKey(i, spec.keySize));
    case 'scan': {
      const first = Math.min(i, Math.max(0, spec.keys - spec.scanSize));
      const last = Math.min(spec.keys, first + spec.scanSize) - 1;
      // The end is just past the last key (its immediate successor): scanSize keys in range.
      await t.scan(benchKey(first, spec.keySize), Buffer.concat([benchKey(last, spec.keySize), Buffer.of(0)]), spec.scanSize);
      return;
    }
    case 'mixed':
      if (next() < spec.readRatio) await t.get(benchKey(i, spec.keySize));
      else await t.put(benchKey(i, spec.keySize), benchValue(seq, spec.valueSize));
      return;
  }
}

/** Writes keys 0..n-1 once (concurrency workers), for reads and scans to find data. */
export async function preload(targets: readonly KvTarget[], n: number, spec: Pick<BenchSpec, 'keySize' | 'valueSize' | 'concurrency'>, onTick?: (done: number) => void): Promise<number> {
  let nextKey = 0;
  let done = 0;
  const ticker = setInterval(() => onTick?.(done), 1000);
  try {
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, targets.length) }, async (_, w) => {
      for (let i = nextKey++; i < n; i = nextKey++) {
        await targets[w]!.put(benchKey(i, spec.keySize), benchValue(i, spec.valueSize));
        done++;
      }
    }));
  } finally {
    clearInterval(ticker);
  }
  return done;
}
