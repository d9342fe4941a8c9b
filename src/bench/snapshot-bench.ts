// `npm run bench:snapshot`: what log compaction and snapshots cost and buy, measured on
// real store processes (a temporary 3-store cluster on loopback, fsync on):
//   1. a store down: store 3 is killed and --writes puts (default 100,000, 16-byte keys,
//      100-byte values, 64 in flight) go through the other two with the default
//      compaction threshold (1,000): each live store's raftdb size on disk, log entries
//      kept, JS heap and RSS at the end;
//   2. catch-up: more writes of --big-value-bytes until the region holds --region-mb
//      (default 200 MiB), then store 3 restarts: snapshot generation, transfer and install
//      times (from the stores' logs), the time until it has applied everything, and both
//      stores' peak RSS meanwhile (sampled from /proc every 100 ms);
//   3. a wiped store, in-process (the identity check lives in the store process, so the
//      in-process harness is what the store was before it): raft messages per second
//      between the leader and a store restarted on an empty directory, over one idle second.
// Every load loop is bounded by a count and a time cap. Flags: --writes N, --region-mb N,
// --big-value-bytes N, --only 1,2,3, --keep (leave the data directory), --json.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts, intFlag } from './real-cluster.js';
import { AdminClient } from '../client/index.js';
import type { StoreStatusInfo } from '../client/index.js';
import { connectKvClients } from '../client/index.js';
import { loadClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { storeDir } from '../config/types.js';
import { Cluster } from '../harness/in-process-cluster.js';
import { runLoop } from '../loadgen/loop.js';
import { killStore } from '../orchestrator/chaos.js';
import { clusterDown } from '../orchestrator/down.js';
import { readPidFile } from '../orchestrator/pid-file.js';
import { clusterUp, startStore } from '../orchestrator/up.js';
import type { StoreId } from '../api/ids.js';

const progress = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);
const MiB = 1024 * 1024;
const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statuses(cfg: ClusterConfig): Promise<Map<number, StoreStatusInfo>> {
  const out = new Map<number, StoreStatusInfo>();
  await Promise.all(cfg.stores.map(async (s) => {
    const a = new AdminClient(s.addr);
    try {
      out.set(s.id, await a.status({ timeoutMs: 2000 }));
    } catch {
      // down
    } finally {
      a.close();
    }
  }));
  return out;
}

/** Writes `n` keys from `from` on, `inflight` at a time, within `capMs`; returns how many completed. */
async function write(cfg: ClusterConfig, from: number, n: number, valueBytes: number, capMs: number, inflight = 64): Promise<number> {
  // One client per write in flight: a client's writes are serialized (one session each).
  const { clients, close } = connectKvClients(cfg, inflight, { timeoutMs: 30_000 });
  const value = Buffer.alloc(valueBytes, 0x62);
  try {
    const r = await runLoop({
      workers: inflight, ops: n, durationMs: capMs, stopOnError: true, tickMs: 10_000,
      onTick: (done) => progress(`  ${done} of ${n} written`),
      op: (w, seq) => clients[w]!.put(Buffer.from(`k${String(from + seq).padStart(15, '0')}`), value),
    });
    // A failed write ends the benchmark: its figures would not be of the load asked for.
    if (r.firstError) throw r.firstError;
    return r.ok;
  } finally {
    close();
  }
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Milliseconds of the last log line of `msg` in a store's log, or undefined. */
function logMs(cfg: ClusterConfig, id: number, msg: string): number | undefined {
  let found: number | undefined;
  for (const line of readFileSync(join(storeDir(cfg, id), 'store.log'), 'utf8').split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const ms = (JSON.parse(line) as { ms?: number }).ms;
    if (typeof ms === 'number') found = ms;
  }
  return found;
}

interface Flags { writes: number; regionMb: number; bigValueBytes: number; only: Set<number>; keep: boolean; json: boolean }

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      'writes': { type: 'string', default: '100000' },
      'region-mb': { type: 'string', default: '200' },
      'big-value-bytes': { type: 'string', default: '4096' },
      'only': { type: 'string', default: '1,2,3' },
      'keep': { type: 'boolean', default: false },
      'json': { type: 'boolean', default: false },
    },
  });
  const int = intFlag;
  return {
    writes: int('writes', values['writes'], 1), regionMb: int('region-mb', values['region-mb'], 1),
    bigValueBytes: int('big-value-bytes', values['big-value-bytes'], 1),
    only: new Set(String(values['only']).split(',').map(Number)), keep: values['keep'] === true, json: values['json'] === true,
  };
}

async function realProcesses(f: Flags, out: Record<string, unknown>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-bench-snap-'));
  const ports = await freePorts(3);
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, `data_dir: ./data\ncluster_id: bench\nstores:\n${ports.map((p, i) => `  - id: ${i + 1}\n    addr: 127.0.0.1:${p}\n`).join('')}` +
    'max_value_bytes: 1048576\n');
  const cfg = loadClusterConfig(file);
  try {
    progress(`cluster in ${dir}`);
    await clusterUp(cfg, { timeoutMs: 30_000 });
    await killStore(cfg, 3);
    const s0 = await statuses(cfg);
    progress(`phase 1: store 3 down, ${f.writes} writes of 100 B through stores 1 and 2`);
    const t1 = Date.now();
    const done = await write(cfg, 0, f.writes, 100, 30 * 60_000);
    const secs = (Date.now() - t1) / 1000;
    await sleep(3000); // let the last compaction apply everywhere
    const s1 = await statuses(cfg);
    const phase1 = [...s1].map(([id, s]) => ({
      store: id, raftdbBytes: s.raftdbBytes, logEntries: s.lastIndex - s.truncatedIndex, logBytes: s.logBytes,
      truncatedIndex: s.truncatedIndex, lastIndex: s.lastIndex, heapUsedBytes: s.heapUsedBytes, rssBytes: s.rssBytes,
      heapAtStart: s0.get(id)?.heapUsedBytes, rssAtStart: s0.get(id)?.rssBytes,
    }));
    out['storeDown'] = { writes: done, seconds: secs, writesPerSec: Math.round(done / secs), stores: phase1 };
    for (const p of phase1) {
      progress(`  store ${p.store}: raftdb ${mb(p.raftdbBytes)}, ${p.logEntries} log entries kept (truncated at ${p.truncatedIndex} of ${p.lastIndex}), ` +
        `heap ${mb(p.heapUsedBytes)} (${mb(p.heapAtStart ?? 0)} at start), RSS ${mb(p.rssBytes)}`);
    }
    progress(`  ${done} writes in ${secs.toFixed(1)} s (${Math.round(done / secs)}/s)`);
    if (!f.only.has(2)) return;

    const big = Math.ceil((f.regionMb * MiB - done * 116) / (f.bigValueBytes + 16));
    progress(`phase 2: ${big} more writes of ${f.bigValueBytes} B for a region of ${f.regionMb} MiB`);
    await write(cfg, f.writes, Math.max(0, big), f.bigValueBytes, 60 * 60_000, 32);
    const before = await statuses(cfg);
    const leader = [...before].find(([, s]) => s.role === 'leader')![0];
    const leaderPid = readPidFile(cfg, leader)!.pid;
    progress(`  leader is store ${leader}; restarting store 3`);
    const t2 = Date.now();
    await startStore(cfg, 3, { timeoutMs: 60_000 });
    const pid3 = readPidFile(cfg, 3)!.pid;
    let peakLeader = rssOf(leaderPid);
    let peak3 = rssOf(pid3);
    let caughtUp = 0;
    for (const until = Date.now() + 30 * 60_000; Date.now() < until;) {
      peakLeader = Math.max(peakLeader, rssOf(leaderPid));
      peak3 = Math.max(peak3, rssOf(pid3));
      const s = await statuses(cfg);
      const l = s.get(leader);
      const me = s.get(3);
      if (l && me && me.lastSnapshotInstalled > 0 && me.appliedIndex >= l.commitIndex) {
        caughtUp = Date.now() - t2;
        break;
      }
      await sleep(100);
    }
    const kvBytes = (await statuses(cfg)).get(3);
    out['catchUp'] = {
      regionMb: f.regionMb, generateMs: logMs(cfg, leader, 'snapshot generated'), sendMs: logMs(cfg, leader, 'snapshot sent'),
      installMs: logMs(cfg, 3, 'installed snapshot'), caughtUpMs: caughtUp, leaderPeakRssBytes: peakLeader, receiverPeakRssBytes: peak3,
      leaderRssBefore: before.get(leader)?.rssBytes, receiverHeapAfter: kvBytes?.heapUsedBytes,
    };
    progress(`  generation ${logMs(cfg, leader, 'snapshot generated')} ms, transfer ${logMs(cfg, leader, 'snapshot sent')} ms, ` +
      `install ${logMs(cfg, 3, 'installed snapshot')} ms; store 3 caught up ${caughtUp} ms after its restart`);
    progress(`  peak RSS: leader ${mb(peakLeader)} (before ${mb(before.get(leader)?.rssBytes ?? 0)}), receiver ${mb(peak3)}`);
  } finally {
    await clusterDown(cfg).catch(() => undefined);
    if (!f.keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function wipedStore(out: Record<string, unknown>): Promise<void> {
  progress('phase 3: a store restarted on an empty directory (in-process, no identity check)');
  const cluster = await Cluster.start({ stores: 3, seed: 1, tickMs: 100, electionTick: 10, heartbeatTick: 1, compactLogThreshold: 20 });
  try {
    await cluster.waitForLeader();
    const client = cluster.client();
    for (let i = 0; i < 100; i++) await client.put(Buffer.from(`k${i}`), Buffer.from(`v${i}`));
    const victim = cluster.ids.find((id) => id !== cluster.leaderId())! as StoreId;
    await cluster.stopStore(victim);
    rmSync(cluster.storeDir(victim), { recursive: true, force: true });
    await cluster.startStore(victim);
    for (let i = 100; i < 150; i++) await client.put(Buffer.from(`k${i}`), Buffer.from(`v${i}`));
    await sleep(1000);
    const sent0 = cluster.network.sent;
    await sleep(1000);
    const perSec = cluster.network.sent - sent0;
    const s = cluster.store(victim)!.status()[0]!;
    out['wipedStore'] = { messagesPerSecond: perSec, victimApplied: s.appliedIndex, leaderCommit: cluster.store(cluster.leaderId()!)!.status()[0]!.commitIndex };
    progress(`  ${perSec} raft messages in one idle second (3 stores, tick 100 ms); the wiped store is at ${s.appliedIndex}`);
  } finally {
    await cluster.close();
  }
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2));
  const out: Record<string, unknown> = {};
  if (f.only.has(1) || f.only.has(2)) await realProcesses(f, out);
  if (f.only.has(3)) await wipedStore(out);
  process.stdout.write(f.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
