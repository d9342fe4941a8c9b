// The benchmark's workloads (put, get, scan, delete, mixed) on keys of a fixed-size key
// space, driven by the load loop (loop.ts): `concurrency` workers, each with one request in
// flight, until the time or count bound; latencies in an HDR histogram (latency.ts).
// Failed operations are counted by error code and kept out of the latencies.

import { seededRng } from '../util/rng.js';
import { benchKey, benchValue } from './keys.js';
import type { LatencySummary } from './latency.js';
import { runLoop } from './loop.js';
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
  /** Latency of ok operations, in milliseconds (NaN when none succeeded). */
  readonly latencyMs: LatencySummary;
}

export interface RunHooks {
  /** Told once a second: operations completed so far and the elapsed time. */
  readonly onTick?: (okSoFar: number, failedSoFar: number, elapsedMs: number) => void;
}

export async function runBench(targets: readonly KvTarget[], spec: BenchSpec, hooks: RunHooks = {}): Promise<BenchResult> {
  if (targets.length < spec.concurrency) throw new RangeError(`${spec.concurrency} workers need as many targets, got ${targets.length}`);
  // Each worker its own deterministic stream of key choices.
  const rngs = Array.from({ length: spec.concurrency }, (_, w) => seededRng((spec.seed * 7919 + w + 1) >>> 0));
  const r = await runLoop({
    workers: spec.concurrency, ops: spec.ops, durationMs: spec.durationMs,
    ...(hooks.onTick ? { onTick: hooks.onTick } : {}),
    op: (w, seq) => {
      const next = () => rngs[w]!.next();
      return operation(targets[w]!, spec, Math.floor(next() * spec.keys), seq, next);
    },
  });
  return {
    workload: spec.workload, concurrency: spec.concurrency, ok: r.ok, failed: r.failed, errors: r.errors, elapsedMs: r.elapsedMs,
    opsPerSec: r.ok / (r.elapsedMs / 1000),
    latencyMs: r.latencyMs,
  };
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

/**
 * Writes keys 0..n-1 once (concurrency workers), for reads and scans to find data; at most
 * `capMs` (default an hour). Resolves with how many were written; throws the first failure.
 */
export async function preload(
  targets: readonly KvTarget[], n: number, spec: Pick<BenchSpec, 'keySize' | 'valueSize' | 'concurrency'>,
  onTick?: (done: number) => void, capMs = 60 * 60_000,
): Promise<number> {
  const r = await runLoop({
    workers: Math.min(spec.concurrency, targets.length), ops: n, durationMs: capMs, stopOnError: true,
    ...(onTick ? { onTick: (ok: number) => onTick(ok) } : {}),
    op: (w, i) => targets[w]!.put(benchKey(i, spec.keySize), benchValue(i, spec.valueSize)),
  });
  if (r.firstError) throw r.firstError;
  return r.ok;
}
