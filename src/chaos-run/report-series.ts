// The numbers behind the report's charts: how far the time axis goes, and per-second
// throughput and latency percentiles of the operations that succeeded.

import type { OpRecord, RunRecord } from './run-record.js';

export const BUCKET_MS = 1000;

/**
 * The end of the time axis: the run's own length, stretched to cover anything recorded
 * after it (so a bar or a fault band is never cut off by a runMs that was rounded down).
 */
export function runEndMs(record: RunRecord): number {
  let end = Math.max(record.verdict.runMs || 0, 1);
  for (const op of record.ops) end = Math.max(end, op.invokeMs, op.completeMs ?? 0);
  for (const f of record.faults) end = Math.max(end, f.startMs, f.endMs ?? 0);
  return end;
}

export interface SecondSeries {
  /** Ok operations completed in each 1 s bucket. */
  readonly throughput: number[];
  /** p50 / p99 latency (ms) of the ok operations completed in each bucket; null if none. */
  readonly p50: Array<number | null>;
  readonly p99: Array<number | null>;
}

/** Nearest-rank percentile of ascending `sorted` (p in 0..1). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Buckets ok operations by completion time (an operation counts when its answer came). */
export function perSecond(ops: readonly OpRecord[], endMs: number): SecondSeries {
  const n = Math.max(1, Math.ceil(endMs / BUCKET_MS));
  const latencies: number[][] = Array.from({ length: n }, () => []);
  for (const op of ops) {
    if (op.outcome !== 'ok' || op.completeMs === null) continue;
    const b = Math.min(n - 1, Math.max(0, Math.floor(op.completeMs / BUCKET_MS)));
    latencies[b]!.push(Math.max(0, op.completeMs - op.invokeMs));
  }
  for (const l of latencies) l.sort((a, b) => a - b);
  return {
    throughput: latencies.map((l) => l.length),
    p50: latencies.map((l) => (l.length === 0 ? null : percentile(l, 0.5))),
    p99: latencies.map((l) => (l.length === 0 ? null : percentile(l, 0.99))),
  };
}
