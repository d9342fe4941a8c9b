// The one closed load loop of the project: `workers` loops, each with one operation in
// flight, share a budget of `ops` operations and start none after `durationMs`, so every
// load is bounded in count and in time. Each completed operation's latency goes into an
// HDR histogram (latency.ts); failures are counted by error code, the first one kept, and
// kept out of the latencies. runBench (run.ts, for `tinykv bench` and the etcd comparison),
// `npm run bench` and the other benchmarks all drive their load through here.

import { LatencyRecorder, type LatencySummary } from './latency.js';

export interface LoopOptions {
  /** Operations in flight at once: one per worker. */
  readonly workers: number;
  /** At most this many operations are started in total; null: only the time bound. */
  readonly ops: number | null;
  /** No operation is started after this much time; those in flight are awaited. */
  readonly durationMs: number;
  /** Runs operation number `seq` (0-based, unique across workers) on worker `worker`. */
  readonly op: (worker: number, seq: number) => Promise<unknown>;
  /** Start nothing more after the first failure (for loads where a failure ends the run). */
  readonly stopOnError?: boolean;
  /** Asked before each start: true stops the loop early (an open-ended load stopped by its caller). */
  readonly stopped?: () => boolean;
  /** Called after each operation that succeeded, with its latency. */
  readonly onOk?: (worker: number, latencyMs: number) => void;
  /** Called every `tickMs` (default 1000) while the loop runs. */
  readonly onTick?: (ok: number, failed: number, elapsedMs: number) => void;
  readonly tickMs?: number;
}

export interface LoopResult {
  readonly ok: number;
  readonly failed: number;
  /** Failures by the error's `code` (or its name). */
  readonly errors: Readonly<Record<string, number>>;
  readonly firstError: Error | undefined;
  /** From the first start to the last completion. */
  readonly elapsedMs: number;
  /** Latency of the operations that succeeded. */
  readonly latencyMs: LatencySummary;
}

export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  if (!(o.workers >= 1) || !(o.ops === null || o.ops >= 0) || !(o.durationMs > 0 && Number.isFinite(o.durationMs))) {
    throw new RangeError('invalid load options');
  }
  const latencies = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let started = 0;
  let firstError: Error | undefined;
  const t0 = performance.now();
  const stopAt = t0 + o.durationMs;
  const more = () => performance.now() < stopAt && (o.ops === null || started < o.ops) &&
    !(o.stopOnError && failed > 0) && !(o.stopped?.() ?? false);
  const ticker = o.onTick ? setInterval(() => o.onTick!(ok, failed, performance.now() - t0), o.tickMs ?? 1000) : undefined;
  const worker = async (w: number): Promise<void> => {
    while (more()) {
      const seq = started++;
      const begin = performance.now();
      let ms: number;
      try {
        await o.op(w, seq);
        ms = performance.now() - begin;
      } catch (e) {
        failed++;
        firstError ??= e instanceof Error ? e : new Error(String(e));
        const code = String((e as { code?: unknown }).code ?? (e as Error).name ?? 'ERROR');
        errors[code] = (errors[code] ?? 0) + 1;
        continue;
      }
      // Outside the try: a throwing onOk is the caller's bug, not a failed operation.
      latencies.record(ms);
      ok++;
      o.onOk?.(w, ms);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  } finally {
    clearInterval(ticker);
  }
  const elapsedMs = performance.now() - t0;
  const latencyMs = latencies.summary();
  latencies.destroy();
  return { ok, failed, errors, firstError, elapsedMs, latencyMs };
}
