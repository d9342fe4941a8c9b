// What the two side-by-side benchmarks with etcd share (`npm run bench:etcd`, Node clients;
// `npm run bench:etcd-go`, Go clients): a fresh 3-store tinykv cluster and a fresh 3-member
// etcd cluster on loopback with the same timing (heartbeat 100 ms, election timeout 1 s,
// fsync on for both), their server processes and leaders, and stopping both by PID.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { clusterDown } from '../orchestrator/down.js';
import { leaderOf, probeAll } from '../orchestrator/probe.js';
import { storeProcess } from '../orchestrator/stores.js';
import { clusterUp } from '../orchestrator/up.js';
import { startEtcdCluster, type EtcdCluster } from './etcd-cluster.js';
import { etcdLeader } from './etcd-target.js';
import { freePorts } from './real-cluster.js';

export type ReadMode = 'read_index' | 'lease';

/** A server process of either system. */
export interface ServerProc {
  readonly pid: number;
  readonly label: string;
}

export interface Clusters {
  readonly tinykv: ClusterConfig;
  readonly etcd: EtcdCluster;
  /** Stops both clusters (tinykv's stores and etcd's members by PID) and purges tinykv's data; never throws. */
  stop(): Promise<void>;
}

export const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Polls `f` every 100 ms until it gives a value; throws after `ms`. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(100);
  }
}

/** Both clusters under `dir`, each with a leader elected. */
export async function startClusters(dir: string, readMode: ReadMode = 'read_index'): Promise<Clusters> {
  const cfg = await writeTinykvConfig(dir, readMode);
  let etcd: EtcdCluster | undefined;
  const stop = async (): Promise<void> => {
    if (etcd) await etcd.stop();
    await clusterDown(cfg, { purge: true }).then(() => undefined, (err: Error) => say(`tinykv cluster down: ${err.message}`));
  };
  try {
    await clusterUp(cfg);
    etcd = await startEtcdCluster(join(dir, 'etcd'), { heartbeatMs: 100, electionMs: 1000 });
    const e = etcd;
    await waitFor('etcd leader', () => etcdLeader(e.members.map((m) => m.endpoint)), 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { tinykv: cfg, etcd, stop };
}

async function writeTinykvConfig(dir: string, readMode: ReadMode): Promise<ClusterConfig> {
  const ports = await freePorts(3);
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, [
    'data_dir: ./tinykv', 'cluster_id: bench-vs-etcd', 'stores:',
    ...ports.map((p, i) => `  - {id: ${i + 1}, addr: "127.0.0.1:${p}"}`),
    // etcd's heartbeat 100 ms and election timeout 1 s, in ticks of 100 ms.
    'raft:', '  tick_ms: 100', '  heartbeat_ticks: 1', '  election_ticks: 10', `  read_mode: ${readMode}`, '',
  ].join('\n'));
  return loadClusterConfig(file);
}

/** The running store processes of a tinykv cluster. */
export function tinykvProcs(cfg: ClusterConfig): ServerProc[] {
  return cfg.stores.flatMap((s) => {
    const p = storeProcess(cfg, s.id);
    return p.rec ? [{ pid: p.rec.pid, label: `store ${s.id}` }] : [];
  });
}

/** The running member processes of an etcd cluster. */
export function etcdProcs(etcd: EtcdCluster): ServerProc[] {
  return etcd.members.flatMap((m) => (m.proc?.pid ? [{ pid: m.proc.pid, label: m.name }] : []));
}

/** The process of tinykv's leader now (waiting up to 30 s for one). */
export async function tinykvLeaderProc(cfg: ClusterConfig): Promise<ServerProc> {
  const id = await waitFor('tinykv leader', async () => leaderOf(await probeAll(cfg, 500))?.storeId, 30_000);
  const p = tinykvProcs(cfg).find((x) => x.label === `store ${id}`);
  if (!p) throw new Error(`tinykv: store ${id} leads but has no running process`);
  return p;
}

/** The process of etcd's leader now (waiting up to 30 s for one). */
export async function etcdLeaderProc(etcd: EtcdCluster): Promise<ServerProc> {
  const endpoint = await waitFor('etcd leader', () => etcdLeader(etcd.members.map((m) => m.endpoint)), 30_000);
  const m = etcd.members.find((x) => x.endpoint === endpoint);
  if (!m?.proc?.pid) throw new Error(`etcd: ${endpoint} leads but has no running process`);
  return { pid: m.proc.pid, label: m.name };
}
