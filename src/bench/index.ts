// `npm run bench`: the throughput and latency benchmark of an in-process 3-store cluster
// (src/harness) on real RocksDB with fsync on. It runs four closed-loop configurations —
// put×1, put×64, get×1, get×64 (operations in flight) — each bounded by an operation count
// and a time cap and preceded by a short warm-up, then prints one table row per
// configuration, the raftdb fsyncs per put, the process memory and the machine.
//
// This is the process entry point: the only file here that reads argv or writes output.
// Flags: --ops N (per configuration, default 3000), --value-bytes N (default 100),
// --duration-ms N (cap per configuration, default 10000), --seed N, --json,
// --only LIST (some configurations, e.g. `put64` or `put1,get64`: for profiling one of them).

import { cpus, platform, arch, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KvClient } from '../client/index.js';
import { Cluster } from '../harness/in-process-cluster.js';
import type { StoreId } from '../api/ids.js';
import { runLoop, type LoopResult } from '../loadgen/loop.js';
import { installWriteCounter, writesBetween, type WriteCounter, type WriteCounts } from './write-counter.js';

interface BenchFlags {
  readonly ops: number;
  readonly valueBytes: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly json: boolean;
  /** The configurations to run, in CONFIGS order. */
  readonly configs: readonly ConfigSpec[];
}

interface ConfigSpec {
  readonly kind: 'put' | 'get';
  /** Operations in flight: for puts one client each (a client has one write in flight). */
  readonly inflight: number;
}

/** Synced raftdb writes during a measured run; each is one WAL fsync. */
interface FsyncCounts {
  readonly leader: number;
  readonly allStores: number;
  /** Unsynced kvdb (apply) writes on the leader. */
  readonly leaderApplyWrites: number;
}

/** What one configuration's latencies come to, in milliseconds (the --json field names). */
interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

interface ConfigResult {
  readonly config: string;
  readonly completed: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly latency: LatencySummary;
  readonly fsyncs: FsyncCounts;
  /** The leader at the start and at the end of the measured run (a change taints the row). */
  readonly leaders: readonly [StoreId | undefined, StoreId | undefined];
}

const CONFIGS: readonly ConfigSpec[] = [
  { kind: 'put', inflight: 1 },
  { kind: 'put', inflight: 64 },
  { kind: 'get', inflight: 1 },
  { kind: 'get', inflight: 64 },
];
const CLIENT_TIMEOUT_MS = 10_000;

function parseFlags(argv: string[]): BenchFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      'ops': { type: 'string', default: '3000' },
      'value-bytes': { type: 'string', default: '100' },
      'duration-ms': { type: 'string', default: '10000' },
      'seed': { type: 'string', default: '1' },
      'json': { type: 'boolean', default: false },
      'only': { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  return {
    ops: int('ops', values['ops'], 1),
    valueBytes: int('value-bytes', values['value-bytes'], 0),
    durationMs: int('duration-ms', values['duration-ms'], 1),
    seed: int('seed', values['seed'], 1),
    json: values['json'] === true,
    configs: pickConfigs(values['only']),
  };
}

/** `put64`, `put×64`, `put-64` and `put:64` all name put×64; undefined picks all. */
function pickConfigs(only: string | undefined): readonly ConfigSpec[] {
  if (only === undefined) return CONFIGS;
  const norm = (s: string) => s.trim().toLowerCase().replace(/[×x:\- ]/g, '');
  const wanted = new Set(only.split(',').map(norm));
  const picked = CONFIGS.filter((c) => wanted.delete(`${c.kind}${c.inflight}`));
  if (wanted.size > 0 || picked.length === 0) {
    throw new RangeError(`--only: unknown configuration(s) ${[...wanted].join(', ') || '(none)'}; have ${CONFIGS.map((c) => `${c.kind}${c.inflight}`).join(', ')}`);
  }
  return picked;
}

const progress = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

/** Runs the configurations on one cluster; keys written by puts are what gets read. */
class Bench {
  private readonly clients: KvClient[];
  private readonly written: Buffer[] = [];
  private readonly value: Buffer;

  constructor(private readonly cluster: Cluster, private readonly flags: BenchFlags, private readonly counter: WriteCounter) {
    const most = Math.max(...flags.configs.map((c) => c.inflight));
    this.clients = Array.from({ length: most }, () => cluster.client({ timeoutMs: CLIENT_TIMEOUT_MS }));
    this.value = Buffer.alloc(flags.valueBytes, 0x61);
  }

  async run(spec: ConfigSpec): Promise<ConfigResult> {
    const config = `${spec.kind}×${spec.inflight}`;
    if (spec.kind === 'get' && this.written.length === 0) {
      // Run without a put configuration (--only): write keys to read back first.
      const n = Math.min(this.flags.ops, 1_000);
      progress(`${config}: writing ${n} keys to read`);
      await this.load({ kind: 'put', inflight: this.clients.length }, 'preload', n, this.flags.durationMs);
    }
    const warmOps = Math.min(this.flags.ops, Math.max(4 * spec.inflight, 100));
    progress(`${config}: warm-up (${warmOps} ops)`);
    await this.load(spec, `warm-${config}`, warmOps, Math.min(1_000, this.flags.durationMs));
    progress(`${config}: measuring (up to ${this.flags.ops} ops or ${this.flags.durationMs} ms)`);
    const leaderBefore = this.cluster.leaderId();
    const before = this.counter.snapshot();
    const r = await this.load(spec, config, this.flags.ops, this.flags.durationMs);
    const after = this.counter.snapshot();
    const leaderAfter = this.cluster.leaderId();
    return {
      config,
      completed: r.ok,
      failed: r.failed,
      firstError: r.firstError?.message,
      seconds: r.elapsedMs / 1000,
      opsPerSec: r.ok / (r.elapsedMs / 1000),
      latency: { count: r.ok, meanMs: r.latencyMs.mean, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99, maxMs: r.latencyMs.max },
      fsyncs: this.fsyncs(before, after, leaderAfter),
      leaders: [leaderBefore, leaderAfter],
    };
  }

  private load(spec: ConfigSpec, label: string, ops: number, durationMs: number): Promise<LoopResult> {
    const op = spec.kind === 'put'
      ? (w: number, seq: number) => this.put(w, Buffer.from(`${label}/${String(seq).padStart(8, '0')}`))
      : (w: number, seq: number) => this.get(w, seq);
    return runLoop({ workers: spec.inflight, ops, durationMs, op });
  }

  private async put(worker: number, key: Buffer): Promise<void> {
    await this.clients[worker]!.put(key, this.value);
    this.written.push(key);
  }

  private async get(worker: number, seq: number): Promise<void> {
    if (this.written.length === 0) throw new Error('no key was written to read back');
    // Stride through the written keys so consecutive gets do not hit one key.
    const key = this.written[(seq * 7919) % this.written.length]!;
    const v = await this.clients[worker]!.get(key);
    if (v === undefined || v.length !== this.value.length) {
      throw new Error(`get ${key.toString()} returned ${v === undefined ? 'nothing' : `${v.length} bytes`}`);
    }
  }

  private fsyncs(before: WriteCounts, after: WriteCounts, leader: StoreId | undefined): FsyncCounts {
    const raftDir = (id: StoreId) => join(this.cluster.storeDir(id), 'raftdb');
    let allStores = 0;
    for (const id of this.cluster.ids) allStores += writesBetween(before, after, raftDir(id), 'synced');
    if (leader === undefined) return { leader: NaN, allStores, leaderApplyWrites: NaN };
    return {
      leader: writesBetween(before, after, raftDir(leader), 'synced'),
      allStores,
      leaderApplyWrites: writesBetween(before, after, join(this.cluster.storeDir(leader), 'kvdb'), 'unsynced'),
    };
  }
}

function machine() {
  const c = cpus();
  return {
    cpus: c.length, cpuModel: c[0]?.model.trim() ?? 'unknown', totalMemMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version, platform: `${platform()}-${arch()}`, tmpdir: tmpdir(),
  };
}

function memory() {
  const m = process.memoryUsage();
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), maxRssMiB: mib(process.resourceUsage().maxRSS * 1024) };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function report(flags: BenchFlags, results: readonly ConfigResult[], mem: ReturnType<typeof memory>): string {
  const f = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  const m = machine();
  const out = [
    `tinykv bench: 3 stores in-process, RocksDB, raftdb fsync on; ${flags.valueBytes}-byte values; ` +
      `up to ${flags.ops} ops or ${flags.durationMs} ms per configuration; seed ${flags.seed}`,
    '',
    table(['config', 'ops', 'errors', 'seconds', 'ops/s', 'p50 ms', 'p99 ms', 'max ms'], results.map((r) => [
      r.config, String(r.completed), String(r.failed), f(r.seconds, 2), f(r.opsPerSec, 0),
      f(r.latency.p50Ms, 2), f(r.latency.p99Ms, 2), f(r.latency.maxMs, 2),
    ])),
    '',
    'raftdb fsyncs (synced raftdb writes) during each measured run:',
    table(['config', 'ops', 'leader fsyncs', 'ops/leader fsync', 'fsyncs all stores', 'leader apply writes'], results.map((r) => [
      r.config, String(r.completed), f(r.fsyncs.leader, 0), f(r.completed / r.fsyncs.leader, 2),
      f(r.fsyncs.allStores, 0), f(r.fsyncs.leaderApplyWrites, 0),
    ])),
    '',
    `memory at end: rss ${mem.rssMiB} MiB, heap used ${mem.heapUsedMiB} MiB, peak rss ${mem.maxRssMiB} MiB`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemMiB} MiB, node ${m.node}, ${m.platform}, data in ${m.tmpdir}`,
  ];
  for (const r of results) {
    if (r.firstError !== undefined) out.push(`${r.config}: ${r.failed} failed; first error: ${r.firstError}`);
    if (r.leaders[0] !== r.leaders[1]) out.push(`${r.config}: leader changed during the run (${r.leaders[0]} → ${r.leaders[1]})`);
  }
  return out.join('\n');
}

async function benchCluster(flags: BenchFlags): Promise<{ results: ConfigResult[]; mem: ReturnType<typeof memory> }> {
  const counter = installWriteCounter();
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start({ stores: 3, seed: flags.seed, tickMs: 20, electionTick: 10, heartbeatTick: 2 });
    const leader = await cluster.waitForLeader();
    progress(`cluster up in ${cluster.dir}, leader store ${leader}`);
    const bench = new Bench(cluster, flags, counter);
    const results: ConfigResult[] = [];
    for (const spec of flags.configs) results.push(await bench.run(spec));
    return { results, mem: memory() };
  } finally {
    await cluster?.close();
    counter.uninstall();
  }
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const { results, mem } = await benchCluster(flags);
  if (flags.json) process.stdout.write(`${JSON.stringify({ flags, machine: machine(), memory: mem, results }, null, 2)}\n`);
  else process.stdout.write(`${report(flags, results, mem)}\n`);
  return results.some((r) => r.failed > 0) ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    // A usage mistake gets its message; anything else its stack.
    const usage = e instanceof RangeError || String((e as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`bench: ${e instanceof Error ? (usage ? e.message : (e.stack ?? e.message)) : String(e)}\n`);
    process.exitCode = 2;
  },
);
