// `tinykv bench [workload]`: load against the cluster in the cluster file (or --endpoints):
// a closed loop of --concurrency requests in flight for --duration (or --ops), latency from
// an HDR histogram, and the stores' CPU and peak RSS over the run from their PIDs. The
// loop itself is src/loadgen; this file parses, shows progress and prints.

import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ClusterConfig } from '../config/types.js';
import type { BenchResult, BenchWorkload } from '../loadgen/run.js';
import type { ProcUsage } from '../loadgen/proc-usage.js';
import { parseDuration } from './chaos-run.js';
import { clientConfigOf, startProgress } from './context.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { parsePositiveInt, parseProbability, writeOutOf } from './options.js';

const WORKLOADS: readonly BenchWorkload[] = ['put', 'get', 'scan', 'delete', 'mixed'];

interface BenchOptions {
  readonly concurrency: number;
  readonly duration: number;
  readonly ops?: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly keys: number;
  readonly preload: number;
  readonly readRatio: number;
  readonly scanSize: number;
  readonly seed: number;
}

function parseNonNegativeInt(what: string): (v: string) => number {
  return (v) => {
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} must be an integer >= 0.`);
    return n;
  };
}

export function registerBench(program: Command, io: CliIo): void {
  program
    .command('bench')
    .argument('[workload]', `${WORKLOADS.join(', ')}`, 'put')
    .usage('[put|get|scan|delete|mixed] [--concurrency 16] [--duration 10s] [options]')
    .summary('measure throughput and latency of the cluster')
    .description(
      'Drive the cluster with one workload: --concurrency requests in flight (each from its own client ' +
        'session), for --duration or until --ops operations, on keys "bench:<n>" of a --keys key space ' +
        '(it writes into the cluster: use a test cluster). Prints operations per second, latency ' +
        'percentiles from an HDR histogram (p50, p90, p99, p99.9, max) and, for stores started by the ' +
        'orchestrator, their CPU use and peak RSS over the run. mixed: gets and puts by --read-ratio; ' +
        'scan: --scan-size consecutive keys. --preload N writes keys 0..N-1 first (for get, scan, delete). ' +
        '-w json: {"workload","concurrency","ok","failed","errors","seconds","ops_per_sec",' +
        '"latency_ms":{"p50","p90","p99","p999","max","mean"},"preloaded","stores":[{"store_id","pid","cpu","peak_rss_bytes"}]}.',
    )
    .addOption(new Option('--concurrency <n>', 'requests in flight').default(16).argParser(parsePositiveInt('--concurrency')))
    .addOption(new Option('--duration <time>', 'how long to run (10s, 1m)').default(10_000, '10s').argParser(parseDuration))
    .addOption(new Option('--ops <n>', 'stop after this many operations, if that comes first').argParser(parsePositiveInt('--ops')))
    .addOption(new Option('--key-size <bytes>', 'bytes per key').default(16).argParser(parsePositiveInt('--key-size')))
    .addOption(new Option('--value-size <bytes>', 'bytes per value').default(64).argParser(parseNonNegativeInt('--value-size')))
    .addOption(new Option('--keys <n>', 'size of the key space').default(100_000).argParser(parsePositiveInt('--keys')))
    .addOption(new Option('--preload <n>', 'write keys 0..n-1 before measuring').default(0).argParser(parseNonNegativeInt('--preload')))
    .addOption(new Option('--read-ratio <r>', 'mixed: share of gets').default(0.5).argParser(parseProbability))
    .addOption(new Option('--scan-size <n>', 'scan: keys per scan').default(100).argParser(parsePositiveInt('--scan-size')))
    .addOption(new Option('--seed <n>', 'seed of the key choices').default(1).argParser(parseNonNegativeInt('--seed')))
    .action(async (workload: string, opts: BenchOptions, cmd: Command) => {
      if (!WORKLOADS.includes(workload as BenchWorkload)) throw new UsageError(`bench: unknown workload ${JSON.stringify(workload)}; expected one of ${WORKLOADS.join(', ')}`);
      const cfg = await clientConfigOf(cmd);
      const { benchKey, minKeySize } = await import('../loadgen/keys.js');
      const lastKey = Math.max(opts.keys, opts.preload) - 1;
      if (opts.keySize < minKeySize(lastKey + 1)) throw new UsageError(`bench: --key-size ${opts.keySize} cannot hold ${lastKey + 1} keys (need at least ${minKeySize(lastKey + 1)})`);
      if (opts.keySize > cfg.maxKeyBytes) throw new UsageError(`bench: --key-size ${opts.keySize} is over the cluster's max_key_bytes (${cfg.maxKeyBytes})`);
      if (opts.valueSize > cfg.maxValueBytes) throw new UsageError(`bench: --value-size ${opts.valueSize} is over the cluster's max_value_bytes (${cfg.maxValueBytes})`);
      const { tinykvPool } = await import('../loadgen/target.js');
      const { preload, runBench } = await import('../loadgen/run.js');
      const { watchProcesses } = await import('../loadgen/proc-usage.js');
      const pool = tinykvPool(cfg, opts.concurrency);
      // One read first: a cluster that is down fails here, once, with the usual message
      // (exit 3), instead of as thousands of failed operations.
      try {
        await pool.targets[0]!.get(benchKey(0, opts.keySize));
      } catch (e) {
        await pool.close();
        throw e;
      }
      const progress = await startProgress(io, `bench ${workload}: ${opts.concurrency} in flight for ${opts.duration / 1000} s${opts.ops ? ` or ${opts.ops} operations` : ''}`);
      try {
        let preloaded = 0;
        if (opts.preload > 0) {
          preloaded = await preload(pool.targets, opts.preload, opts, (done) => progress.update(`preload: ${done}/${opts.preload} keys`));
        }
        const procs = cfg.file === '' ? [] : await storePids(cfg);
        const watch = watchProcesses(procs);
        const result = await runBench(pool.targets, {
          workload: workload as BenchWorkload, concurrency: opts.concurrency, durationMs: opts.duration, ops: opts.ops ?? null,
          keySize: opts.keySize, valueSize: opts.valueSize, keys: opts.keys, readRatio: opts.readRatio, scanSize: opts.scanSize, seed: opts.seed,
        }, {
          onTick: (ok, failed, ms) => progress.update(`${(ms / 1000).toFixed(0)} s: ${ok} ok (${Math.round(ok / (ms / 1000))}/s)${failed ? `, ${failed} failed` : ''}`),
        });
        const usage = watch.stop();
        progress.stop();
        io.stdout(writeOutOf(cmd) === 'json' ? benchJson(result, usage, preloaded) : benchTable(result, usage, preloaded));
      } finally {
        progress.stop();
        await pool.close();
      }
    });
}

/** PIDs of this cluster's store processes started by the orchestrator (others are not measured). */
async function storePids(cfg: ClusterConfig): Promise<Array<{ pid: number; label: string }>> {
  const { storeProcess } = await import('../orchestrator/stores.js');
  return cfg.stores.flatMap((s) => {
    const p = storeProcess(cfg, s.id);
    return p.rec && p.state === 'running' ? [{ pid: p.rec.pid, label: String(s.id) }] : [];
  });
}

function benchJson(r: BenchResult, usage: readonly ProcUsage[], preloaded: number): string {
  return `${JSON.stringify({
    workload: r.workload, concurrency: r.concurrency, ok: r.ok, failed: r.failed, errors: r.errors,
    seconds: round(r.elapsedMs / 1000, 3), ops_per_sec: round(r.opsPerSec, 1),
    latency_ms: Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [k, round(v, 3)])),
    preloaded,
    stores: usage.map((u) => ({ store_id: Number(u.label), pid: u.pid, cpu: u.cpu === null ? null : round(u.cpu, 3), peak_rss_bytes: u.peakRssBytes })),
  })}\n`;
}

function benchTable(r: BenchResult, usage: readonly ProcUsage[], preloaded: number): string {
  const l = r.latencyMs;
  const head = ['WORKLOAD', 'IN FLIGHT', 'OK', 'FAILED', 'OPS/S', 'P50 MS', 'P90 MS', 'P99 MS', 'P99.9 MS', 'MAX MS'];
  const row = [r.workload, String(r.concurrency), String(r.ok), String(r.failed), r.opsPerSec.toFixed(0),
    ...[l.p50, l.p90, l.p99, l.p999, l.max].map((v) => (r.ok > 0 ? v.toFixed(2) : '-'))];
  const widths = head.map((h, i) => Math.max(h.length, row[i]!.length));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const lines = [fmt(head), fmt(row)];
  if (r.failed > 0) lines.push(`failed: ${Object.entries(r.errors).map(([c, n]) => `${c} ${n}`).join(', ')}`);
  if (preloaded > 0) lines.push(`preloaded ${preloaded} keys`);
  for (const u of usage) {
    lines.push(`store ${u.label} (pid ${u.pid}): cpu ${u.cpu === null ? '-' : `${(u.cpu * 100).toFixed(0)}%`} of a core, peak RSS ${u.peakRssBytes === null ? '-' : `${(u.peakRssBytes / 1048576).toFixed(0)} MiB`}`);
  }
  return lines.map((x) => `${x}\n`).join('');
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
