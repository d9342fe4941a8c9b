// One round of `npm run bench:etcd-go` on fresh clusters: preload both with the Go tools,
// write the keys the gets and scans read, warm up, then every workload with the systems
// one after another (the order alternated by round and workload); and the memory phase.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinykvPool, type TargetPool } from '../loadgen/target.js';
import { statusBytes } from '../loadgen/proc-usage.js';
import { etcdLeader, etcdPool } from './etcd-target.js';
import { GET_KEY, SCAN_END, SCAN_KEYS, SCAN_START, VALUE_SIZE, runTool, type Load, type Run, type Runner } from './go-tools.js';
import {
  etcdLeaderProc, etcdProcs, say, sleep, startClusters, tinykvLeaderProc, tinykvProcs, waitFor, type Clusters, type ServerProc,
} from './side-by-side.js';

export type SystemName = 'tinykv' | 'etcd';

export interface Workload {
  readonly name: string;
  readonly label: string;
  readonly kind: Load['kind'];
  readonly clients: number;
  /** Requests per run before --total-scale. */
  readonly total: number;
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'put1', label: 'put ×1', kind: 'put', clients: 1, total: 2_000 },
  { name: 'put16', label: 'put ×16', kind: 'put', clients: 16, total: 10_000 },
  { name: 'put64', label: 'put ×64', kind: 'put', clients: 64, total: 20_000 },
  { name: 'get1', label: 'linearizable get ×1', kind: 'get', clients: 1, total: 4_000 },
  { name: 'get64', label: 'linearizable get ×64', kind: 'get', clients: 64, total: 40_000 },
  { name: 'scan64', label: 'scan 100 keys ×64', kind: 'scan', clients: 64, total: 6_000 },
];

export const RUNNERS: readonly Runner[] = ['etcd', 'tinykv-unary', 'tinykv-batch'];
export const systemOf = (r: Runner): SystemName => (r === 'etcd' ? 'etcd' : 'tinykv');

/** How a round is run (from the flags). */
export interface RoundOptions {
  readonly keys: number;
  readonly workloads: readonly Workload[];
  readonly totalScale: number;
  /** --conns for ×1, ×16 and ×64 clients (and for any other count, the next above). */
  readonly conns: (clients: number) => number;
  readonly warmup: number;
}

export interface RunRecord extends Run {
  readonly round: number;
  readonly workload: string;
  readonly runner: Runner;
}

/** One system of a round: where its servers listen, their processes, its leader. */
interface Side {
  readonly endpoints: readonly string[];
  procs(): ServerProc[];
  leader(): Promise<ServerProc>;
  pool(): Promise<TargetPool>;
}

function sidesOf(c: Clusters): Record<SystemName, Side> {
  const etcdEndpoints = c.etcd.members.map((m) => m.endpoint);
  return {
    tinykv: {
      endpoints: c.tinykv.stores.map((s) => s.addr), procs: () => tinykvProcs(c.tinykv),
      leader: () => tinykvLeaderProc(c.tinykv), pool: async () => tinykvPool(c.tinykv, 1),
    },
    etcd: {
      endpoints: etcdEndpoints, procs: () => etcdProcs(c.etcd), leader: () => etcdLeaderProc(c.etcd),
      pool: async () => etcdPool(await waitFor('etcd leader', () => etcdLeader(etcdEndpoints), 30_000), 1),
    },
  };
}

/** A run's deadline: generous, for a stalled cluster rather than a slow one (at least 200 requests/s). */
const timeoutFor = (load: Load): number => Math.max(600_000, load.total * 5);

/** Runs `load` with `runner`; a failure names `what` (e.g. `round 2 put64`). */
async function measure(what: string, side: Side, runner: Runner, load: Load): Promise<Run> {
  try {
    return await runTool(runner, load, side.endpoints, side.procs(), await side.leader(), timeoutFor(load));
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

/** Fresh clusters in a temporary folder for `f`; both stopped and the folder removed after, whatever happens. */
export async function withClusters<T>(f: (sides: Record<SystemName, Side>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-vs-etcd-go-'));
  let clusters: Clusters | undefined;
  try {
    clusters = await startClusters(dir);
    return await f(sidesOf(clusters));
  } finally {
    if (clusters) await clusters.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `keys` keys 0..keys-1 written in order by the system's Go tool, 64 clients over 8 connections. */
async function fill(what: string, sides: Record<SystemName, Side>, system: SystemName, keys: number): Promise<Run> {
  const load: Load = { kind: 'put', clients: 64, conns: 8, total: keys, keySpace: keys, sequential: true };
  return measure(what, sides[system], system === 'etcd' ? 'etcd' : 'tinykv-unary', load);
}

/** The key every get reads and the 100 every scan covers, through the Node client; checks the scan sees 100. */
async function writeReadableKeys(side: Side, system: SystemName): Promise<void> {
  const pool = await side.pool();
  try {
    const t = pool.targets[0]!;
    const value = Buffer.alloc(VALUE_SIZE, 'r');
    for (const k of [GET_KEY, ...SCAN_KEYS]) await t.put(Buffer.from(k), value);
    const n = await t.scan(Buffer.from(SCAN_START), Buffer.from(SCAN_END), 1000);
    if (n !== SCAN_KEYS.length) throw new Error(`${system}: the scan range holds ${n} keys, not ${SCAN_KEYS.length}`);
  } finally {
    await pool.close();
  }
}

/** The preload's runs are recorded as this workload (etcd and tinykv-unary). */
export const FILL = 'fill';

/**
 * One round: fresh clusters, preload (recorded as workload FILL), warm-up, every workload
 * with every runner.
 */
export async function runRound(round: number, o: RoundOptions): Promise<RunRecord[]> {
  return withClusters(async (sides) => {
    const runs: RunRecord[] = [];
    const systems: SystemName[] = round % 2 === 0 ? ['etcd', 'tinykv'] : ['tinykv', 'etcd'];
    for (const system of systems) {
      const r = await fill(`round ${round + 1} preload`, sides, system, o.keys);
      runs.push({ round, workload: FILL, runner: system === 'etcd' ? 'etcd' : 'tinykv-unary', ...r });
      say(`round ${round + 1}: ${system} preloaded ${o.keys} keys at ${r.reqPerSec.toFixed(0)}/s${r.errors ? ` (${r.errors} failed)` : ''}`);
      await writeReadableKeys(sides[system], system);
    }
    for (const runner of RUNNERS) await warmUp(`round ${round + 1} warm-up`, sides[systemOf(runner)], runner, o);
    for (const [wi, w] of o.workloads.entries()) {
      const order = (round + wi) % 2 === 0 ? RUNNERS : [...RUNNERS].reverse();
      for (const runner of order) {
        const load: Load = { kind: w.kind, clients: w.clients, conns: o.conns(w.clients), total: Math.max(1, Math.round(w.total * o.totalScale)), keySpace: o.keys };
        const r = await measure(`round ${round + 1} ${w.name}`, sides[systemOf(runner)], runner, load);
        runs.push({ round, workload: w.name, runner, ...r });
        say(`round ${round + 1} ${w.name} ${runner}: ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms` +
          `, CPU/req leader ${r.leaderCpuMsPerReq.toFixed(3)} ms, servers ${r.serversCpuMsPerReq.toFixed(3)} ms${r.errors ? `, ${r.errors} failed` : ''}`);
      }
    }
    return runs;
  });
}

/** An unmeasured put and get at 16 clients, so that no measured run starts cold. */
async function warmUp(what: string, side: Side, runner: Runner, o: RoundOptions): Promise<void> {
  for (const kind of ['put', 'get'] as const) {
    await measure(what, side, runner, { kind, clients: 16, conns: o.conns(16), total: o.warmup, keySpace: o.keys });
  }
}

/** One server process's resident memory, at idle after start and after the keys were written. */
export interface MemoryRow {
  readonly system: SystemName;
  readonly label: string;
  readonly leader: boolean;
  readonly idleMiB: number;
  readonly afterMiB: number;
  readonly peakMiB: number;
}

export interface MemoryResult {
  readonly keys: number;
  readonly rows: readonly MemoryRow[];
  /** Keys written per second by each system's Go tool. */
  readonly fills: Record<SystemName, number>;
}

const mib = (b: number | undefined): number => (b === undefined ? NaN : b / 2 ** 20);

/** Fresh clusters: every server's RSS at idle, then after `keys` keys written through each Go tool at 64 clients. */
export async function memoryPhase(keys: number): Promise<MemoryResult> {
  return withClusters(async (sides) => {
    await sleep(3000);
    const systems: SystemName[] = ['etcd', 'tinykv'];
    const idle = new Map(systems.flatMap((s) => sides[s].procs()).map((p) => [p.pid, mib(statusBytes(p.pid, 'VmRSS'))]));
    const fills = { etcd: NaN, tinykv: NaN };
    for (const system of systems) {
      const r = await fill('memory', sides, system, keys);
      fills[system] = r.reqPerSec;
      say(`memory: ${system} wrote ${keys} keys at ${r.reqPerSec.toFixed(0)}/s${r.errors ? ` (${r.errors} failed)` : ''}`);
    }
    await sleep(3000);
    const rows: MemoryRow[] = [];
    for (const system of systems) {
      const leader = await sides[system].leader();
      for (const p of sides[system].procs()) {
        rows.push({
          system, label: p.label, leader: p.pid === leader.pid, idleMiB: idle.get(p.pid) ?? NaN,
          afterMiB: mib(statusBytes(p.pid, 'VmRSS')), peakMiB: mib(statusBytes(p.pid, 'VmHWM')),
        });
      }
    }
    return { keys, rows, fills };
  });
}
