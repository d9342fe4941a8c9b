// A closed-loop load generator for the benchmark (src/bench): `workers` loops, each with
// exactly one operation outstanding, share a budget of `ops` operations and stop early at
// `durationMs`. Every completed operation's latency is recorded; failures are counted and
// the first is kept, so one bad run does not hide behind its throughput.

import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  /** Operations in flight at once: one per worker. */
  readonly workers: number;
  /** At most this many operations are started in total. */
  readonly ops: number;
  /** No operation is started after this much time; those in flight are awaited. */
  readonly durationMs: number;
  /** Runs operation number `seq` (0-based, unique across workers) on worker `worker`. */
  readonly op: (worker: number, seq: number) => Promise<void>;
}

export interface LoadResult {
  /** Operations that completed without error; latenciesMs.length === completed. */
  readonly completed: number;
  readonly failed: number;
  readonly firstError: Error | undefined;
  /** From the first start to the last completion. */
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
}

/** Runs the load to its count or time bound and reports what happened. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!(o.workers >= 1) || !(o.ops >= 0) || !(o.durationMs > 0)) throw new RangeError('invalid load options');
  const latenciesMs: number[] = [];
  let started = 0;
  let failed = 0;
  let firstError: Error | undefined;
  const t0 = performance.now();
  const stopAt = t0 + o.durationMs;
  const worker = async (w: number): Promise<void> => {
    while (started < o.ops && performance.now() < stopAt) {
      const seq = started++;
      const begin = performance.now();
      try {
        await o.op(w, seq);
        latenciesMs.push(performance.now() - begin);
      } catch (e) {
        failed++;
        firstError ??= e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return { completed: latenciesMs.length, failed, firstError, elapsedMs: performance.now() - t0, latenciesMs };
}
