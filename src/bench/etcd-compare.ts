// `npm run bench:etcd`: tinykv and etcd side by side on this machine. Starts a 3-store
// tinykv cluster and a 3-member etcd cluster on loopback with the same timing (heartbeat
// 100 ms, election 1 s; fsync on for both), preloads the same keys into both, then runs
// the same load generator (src/loadgen) against each, workload by workload, the systems
// interleaved and the order alternated every repetition, and reports the median of the
// repetitions, the ratios, and failover (kill -9 of the leader → first acknowledged write
// from a new client, median of several). Writes Markdown and JSON under bench-results/
// (ignored by git). Skips with a message when etcd is not installed.
//
// Flags: --seconds N (per run, default 10), --reps N (default 3), --keys N (default
// 100000), --failovers N (default 5), --only LIST (workload names, e.g. put1,get64),
// --read-mode read_index|lease (tinykv's raft.read_mode, default read_index; etcd's reads
// stay linearizable ReadIndex reads, so a lease row is not a like-for-like comparison and
// the report says so).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectKvClient } from '../client/index.js';
import type { ClusterConfig } from '../config/types.js';
import { preload, runBench, type BenchResult, type BenchWorkload } from '../loadgen/run.js';
import { watchProcesses } from '../loadgen/proc-usage.js';
import { tinykvPool, type TargetPool } from '../loadgen/target.js';
import { killStore } from '../orchestrator/chaos.js';
import { clusterHealth } from '../orchestrator/health.js';
import { startStore } from '../orchestrator/up.js';
import { leaderOf, probeAll } from '../orchestrator/probe.js';
import { etcdVersion, type EtcdCluster } from './etcd-cluster.js';
import { etcdClient, etcdLeader, etcdPool } from './etcd-target.js';
import { intFlag } from './real-cluster.js';
import { etcdProcs, median, say, sleep, startClusters, tinykvProcs, waitFor, type Clusters } from './side-by-side.js';

const KEY_SIZE = 16;
const VALUE_SIZE = 64;
const MAX_WORKERS = 64;

interface Workload {
  readonly name: string;
  readonly label: string;
  readonly kind: BenchWorkload;
  readonly concurrency: number;
}

const WORKLOADS: readonly Workload[] = [
  { name: 'put1', label: 'put, 1 in flight', kind: 'put', concurrency: 1 },
  { name: 'put16', label: 'put, 16 in flight', kind: 'put', concurrency: 16 },
  { name: 'put64', label: 'put, 64 in flight', kind: 'put', concurrency: 64 },
  { name: 'get1', label: 'linearizable get, 1 in flight', kind: 'get', concurrency: 1 },
  { name: 'get64', label: 'linearizable get, 64 in flight', kind: 'get', concurrency: 64 },
  { name: 'scan64', label: 'scan 100 keys, 64 in flight', kind: 'scan', concurrency: 64 },
];

interface System {
  readonly name: 'tinykv' | 'etcd';
  readonly pool: TargetPool;
  /** PIDs of the server processes, for CPU and RSS. */
  pids(): Array<{ pid: number; label: string }>;
}

interface Row {
  readonly workload: string;
  readonly label: string;
  readonly runs: Record<'tinykv' | 'etcd', BenchResult[]>;
  readonly leaderCpu: Record<'tinykv' | 'etcd', number[]>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' }, reps: { type: 'string' }, keys: { type: 'string' }, failovers: { type: 'string' }, only: { type: 'string' },
      'read-mode': { type: 'string' },
    },
  });
  const readMode = values['read-mode'] ?? 'read_index';
  if (readMode !== 'read_index' && readMode !== 'lease') throw new RangeError(`--read-mode: expected read_index or lease, got ${JSON.stringify(readMode)}`);
  const seconds = intFlag('seconds', values.seconds ?? '10', 1);
  const reps = intFlag('reps', values.reps ?? '3', 1);
  const keys = intFlag('keys', values.keys ?? '100000', 100);
  const failovers = intFlag('failovers', values.failovers ?? '5', 0);
  const only = values.only?.split(',');
  const workloads = only ? WORKLOADS.filter((w) => only.includes(w.name)) : WORKLOADS;
  if (workloads.length === 0) throw new RangeError(`--only: expected some of ${WORKLOADS.map((w) => w.name).join(',')}`);

  const version = etcdVersion();
  if (!version) {
    say('bench:etcd: etcd is not installed here (Debian: apt-get install etcd-server etcd-client); skipping the side-by-side.');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-vs-etcd-'));
  say(`bench:etcd: ${version}; tinykv (read_mode ${readMode}) and etcd in ${dir}; ${reps} × ${seconds} s per workload, ${keys} keys preloaded`);
  let clusters: Clusters | undefined;
  const pools: TargetPool[] = [];
  try {
    clusters = await startClusters(dir, readMode);
    const c = clusters.tinykv;
    const e = clusters.etcd;
    const etcdLead = await waitFor('an etcd leader', () => etcdLeader(e.members.map((m) => m.endpoint)), 30_000);
    const tinykv: System = { name: 'tinykv', pool: tinykvPool(c, MAX_WORKERS), pids: () => tinykvProcs(c) };
    const etcdSys: System = { name: 'etcd', pool: etcdPool(etcdLead, MAX_WORKERS), pids: () => etcdProcs(e) };
    pools.push(tinykv.pool, etcdSys.pool);
    const systems = [tinykv, etcdSys];

    const fill: Record<string, number> = {};
    for (const s of systems) {
      const t0 = performance.now();
      const n = await preload(s.pool.targets, keys, { keySize: KEY_SIZE, valueSize: VALUE_SIZE, concurrency: 64 }, (d) => say(`  ${s.name}: preload ${d}/${keys}`));
      fill[s.name] = n / ((performance.now() - t0) / 1000);
      say(`${s.name}: preloaded ${n} keys at ${fill[s.name]!.toFixed(0)}/s`);
    }

    const rows: Row[] = workloads.map((w) => ({ workload: w.name, label: w.label, runs: { tinykv: [], etcd: [] }, leaderCpu: { tinykv: [], etcd: [] } }));
    for (let rep = 0; rep < reps; rep++) {
      for (const [wi, w] of workloads.entries()) {
        const order = (rep + wi) % 2 === 0 ? systems : [...systems].reverse();
        for (const s of order) {
          const watch = watchProcesses(s.pids());
          const r = await runBench(s.pool.targets, {
            workload: w.kind, concurrency: w.concurrency, durationMs: seconds * 1000, ops: null,
            keySize: KEY_SIZE, valueSize: VALUE_SIZE, keys, readRatio: 0.5, scanSize: 100, seed: rep * 100 + wi,
          });
          const usage = watch.stop();
          rows[wi]!.runs[s.name].push(r);
          rows[wi]!.leaderCpu[s.name].push(Math.max(...usage.map((u) => u.cpu ?? 0)));
          say(`rep ${rep + 1}/${reps} ${w.name} ${s.name}: ${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms${r.failed ? `, ${r.failed} failed` : ''}`);
        }
      }
    }

    const failover: Record<string, number[]> = { tinykv: [], etcd: [] };
    for (let i = 0; i < failovers; i++) {
      failover['tinykv']!.push(await tinykvFailover(c));
      failover['etcd']!.push(await etcdFailover(e));
      say(`failover ${i + 1}/${failovers}: tinykv ${failover['tinykv']!.at(-1)} ms, etcd ${failover['etcd']!.at(-1)} ms`);
    }

    const report = { version, readMode, machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, seconds, reps, keys, fill, rows: rows.map(summarizeRow), failover };
    const md = markdown(report);
    const outDir = resolve('bench-results');
    mkdirSync(outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    writeFileSync(join(outDir, `etcd-compare-${stamp}.md`), md);
    writeFileSync(join(outDir, `etcd-compare-${stamp}.json`), `${JSON.stringify({ ...report, raw: rows }, null, 2)}\n`);
    process.stdout.write(md);
    say(`written: bench-results/etcd-compare-${stamp}.md and .json`);
  } finally {
    for (const p of pools) await p.close().catch(() => undefined);
    if (clusters) await clusters.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** kill -9 of the leader → the first write a new client gets acknowledged; then the store is restarted. */
async function tinykvFailover(cfg: ClusterConfig): Promise<number> {
  const leader = await waitFor('tinykv leader', async () => leaderOf(await probeAll(cfg, 500))?.storeId, 30_000);
  await killStore(cfg, leader);
  const t0 = performance.now();
  const { client, close } = connectKvClient(cfg, { timeoutMs: 30_000 });
  try {
    await client.put(Buffer.from('failover'), Buffer.from(String(t0)));
  } finally {
    close();
  }
  const ms = Math.round(performance.now() - t0);
  await startStore(cfg, leader);
  await waitFor('a healthy tinykv', () => clusterHealth(cfg).then(() => true, () => undefined), 30_000);
  await sleep(2000);
  return ms;
}

async function etcdFailover(etcd: EtcdCluster): Promise<number> {
  const endpoints = etcd.members.map((m) => m.endpoint);
  const leader = await waitFor('etcd leader', () => etcdLeader(endpoints), 30_000);
  const member = etcd.members.find((m) => m.endpoint === leader)!;
  await etcd.kill(member);
  const t0 = performance.now();
  const rest = endpoints.filter((x) => x !== leader);
  for (let i = 0; ; i++) {
    const c = etcdClient([rest[i % rest.length]!], 1000);
    try {
      await c.put('failover').value(String(t0)).exec();
      break;
    } catch {
      if (performance.now() - t0 > 30_000) throw new Error('etcd: no write acknowledged within 30 s of killing the leader');
    } finally {
      c.close();
    }
  }
  const ms = Math.round(performance.now() - t0);
  etcd.start(member);
  await waitFor('etcd leader again', () => etcdLeader(endpoints), 30_000);
  await sleep(2000);
  return ms;
}

function summarizeRow(r: Row) {
  const of = (s: 'tinykv' | 'etcd') => ({
    opsPerSec: median(r.runs[s].map((x) => x.opsPerSec)),
    p50: median(r.runs[s].map((x) => x.latencyMs.p50)),
    p99: median(r.runs[s].map((x) => x.latencyMs.p99)),
    failed: r.runs[s].reduce((n, x) => n + x.failed, 0),
    leaderCpu: median(r.leaderCpu[s]),
  });
  const t = of('tinykv');
  const e = of('etcd');
  return { workload: r.workload, label: r.label, tinykv: t, etcd: e, ratio: t.opsPerSec / e.opsPerSec };
}

function markdown(r: { version: string; readMode: string; machine: string; seconds: number; reps: number; keys: number; fill: Record<string, number>; rows: ReturnType<typeof summarizeRow>[]; failover: Record<string, number[]> }): string {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
  const lines = [
    `tinykv vs ${r.version}: 3 nodes each on loopback, ${r.machine}; heartbeat 100 ms, election 1 s, fsync on;`,
    `${r.keys} keys of 16 B with 64 B values preloaded; median of ${r.reps} × ${r.seconds} s, systems interleaved.`,
    ...(r.readMode === 'lease'
      ? ['tinykv reads with **read_mode: lease** (no heartbeat round under the lease); etcd\'s are ReadIndex reads: not like for like.']
      : []),
    '',
    '| workload | etcd ops/s | tinykv ops/s | tinykv ÷ etcd | etcd p50 / p99 ms | tinykv p50 / p99 ms | leader CPU etcd / tinykv |',
    '|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.label} | ${f(x.etcd.opsPerSec)} | ${f(x.tinykv.opsPerSec)} | **${f(x.ratio, 2)}** | ${f(x.etcd.p50, 1)} / ${f(x.etcd.p99, 1)} | ${f(x.tinykv.p50, 1)} / ${f(x.tinykv.p99, 1)} | ${f(x.etcd.leaderCpu * 100)}% / ${f(x.tinykv.leaderCpu * 100)}% |` +
      (x.etcd.failed + x.tinykv.failed > 0 ? ` failed: etcd ${x.etcd.failed}, tinykv ${x.tinykv.failed}` : '')),
    `| fill ${r.keys} keys, 64 in flight | ${f(r.fill['etcd'] ?? NaN)} | ${f(r.fill['tinykv'] ?? NaN)} | **${f((r.fill['tinykv'] ?? NaN) / (r.fill['etcd'] ?? NaN), 2)}** | | | |`,
    '',
  ];
  if ((r.failover['tinykv'] ?? []).length > 0) {
    lines.push(`Failover (kill -9 of the leader → first write acknowledged to a new client), median of ${r.failover['tinykv']!.length}: ` +
      `tinykv ${f(median(r.failover['tinykv']!))} ms (${r.failover['tinykv']!.join(', ')}), etcd ${f(median(r.failover['etcd']!))} ms (${r.failover['etcd']!.join(', ')}).`, '');
  }
  return lines.join('\n');
}

main().catch((e: Error) => {
  say(`bench:etcd: ${e.message}`);
  process.exitCode = 1;
});
