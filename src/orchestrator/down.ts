// `cluster down [--purge]`: stop every store process this orchestrator recorded. Each gets
// SIGTERM (and SIGCONT if it was paused, so it can act on it), a grace period to finish
// in-flight work and close RocksDB, then SIGKILL. `--purge` then deletes every store's
// data directory, and data_dir itself if that leaves it empty.

import { rmdirSync, rmSync } from 'node:fs';
import { resetMembershipMarks } from '../config/edit.js';
import { storeDir, type ClusterConfig } from '../config/types.js';
import { StoreBusyError } from './errors.js';
import { removePidFile } from './pid-file.js';
import { checkPort } from './port.js';
import { probeStore } from './probe.js';
import { signalStore, waitGone } from './signals.js';
import { storeProcess } from './stores.js';
import { isStoreCommandLine, readProc } from './liveness.js';
import type { PidRecord } from './pid-file.js';

export const DEFAULT_GRACE_MS = 10_000;
const KILL_WAIT_MS = 5_000;

export interface DownOptions {
  readonly purge?: boolean;
  /** Time between SIGTERM and SIGKILL. */
  readonly graceMs?: number;
  /** Told when a store has to be escalated to SIGKILL. */
  readonly onProgress?: (line: string) => void;
}

export type StoreStop =
  | { readonly storeId: number; readonly how: 'stopped' | 'killed'; readonly pid: number }
  | { readonly storeId: number; readonly how: 'not-running' }
  /** A store with this id answers on its address but was not started by the orchestrator. */
  | { readonly storeId: number; readonly how: 'external'; readonly pid: number };

export interface DownResult {
  readonly stores: readonly StoreStop[];
  readonly purged: boolean;
  /**
   * With purge: stores whose membership marks the cluster file lost (removed entries
   * dropped, `join` cleared), since the next `cluster up` bootstraps a new cluster.
   */
  readonly unmarked?: readonly number[];
}

export async function clusterDown(cfg: ClusterConfig, o: DownOptions = {}): Promise<DownResult> {
  const say = o.onProgress ?? (() => {});
  const stores = await Promise.all(cfg.stores.map((s) => stopStore(cfg, s.id, o.graceMs ?? DEFAULT_GRACE_MS, say)));
  const busy = stores.filter((s) => s.how === 'external');
  if (busy.length > 0) {
    // Say what was done before failing: the others are stopped.
    for (const s of stores) if (s.how === 'stopped' || s.how === 'killed') say(`store ${s.storeId}: ${s.how} (pid ${s.pid})`);
    const ids = busy.map((s) => `${s.storeId} (pid ${s.pid})`).join(', ');
    throw new StoreBusyError(`store ${ids} still runs: it was not started by cluster up (store start --foreground, or another ` +
      `cluster file), so it was left alone; stop it there${o.purge ? ', then purge again' : ''}`);
  }
  if (!o.purge) return { stores, purged: false };
  for (const s of [...cfg.stores, ...cfg.removedStores]) rmSync(storeDir(cfg, s.id), { recursive: true, force: true });
  try {
    rmdirSync(cfg.dataDir);
  } catch {
    // Not empty (something else lives there) or already gone: leave it.
  }
  // Every store's raft state is gone: the next start bootstraps from the stores listed.
  const unmarked = resetMembershipMarks(cfg.file);
  if (unmarked.length > 0) say(`${cfg.file}: membership marks reset for store ${unmarked.join(', ')} (a new cluster starts from the stores listed)`);
  return { stores, purged: true, unmarked };
}

export async function stopStore(cfg: ClusterConfig, id: number, graceMs: number, say: (l: string) => void): Promise<StoreStop> {
  const proc = storeProcess(cfg, id);
  let rec = proc.rec;
  if (!rec) {
    removePidFile(cfg, id);
    const ext = await externalStore(cfg, id);
    if (!ext) return { storeId: id, how: 'not-running' };
    // No record (its data directory was deleted under it, or a pid file lost a race), but
    // /proc shows the very store process this orchestrator starts: stop it by that PID.
    rec = recordFromProc(cfg, id, ext.pid);
    if (!rec) return ext;
    say(`store ${id}: no pid file, but pid ${ext.pid} is this cluster's store ${id}; stopping it`);
  }
  signalStore(rec, 'SIGTERM');
  if (proc.state === 'paused') signalStore(rec, 'SIGCONT');
  let how: 'stopped' | 'killed' = 'stopped';
  if (!(await waitGone(rec, graceMs))) {
    say(`store ${id}: still running ${graceMs} ms after SIGTERM; sending SIGKILL`);
    signalStore(rec, 'SIGKILL');
    how = 'killed';
    if (!(await waitGone(rec, KILL_WAIT_MS))) throw new StoreBusyError(`store ${id} (pid ${rec.pid}) survived SIGKILL`);
  }
  removePidFile(cfg, id);
  return { storeId: id, how, pid: rec.pid };
}

/** A PidRecord for `pid` if /proc shows it is `node …/node/main.js --config <this file> --store <id>`. */
function recordFromProc(cfg: ClusterConfig, id: number, pid: number): PidRecord | undefined {
  const info = readProc(pid);
  if (!info || !isStoreCommandLine(info.argv, cfg.file, id)) return undefined;
  return { pid, storeId: id, config: cfg.file, startTicks: info.startTicks, startedAt: '' };
}

/** A store answering on its port with no process of ours recorded. */
async function externalStore(cfg: ClusterConfig, id: number): Promise<{ storeId: number; how: 'external'; pid: number } | undefined> {
  const store = cfg.stores.find((s) => s.id === id)!;
  if ((await checkPort(store.host, store.port)).free) return undefined;
  const p = await probeStore(store, 500);
  return p.ok ? { storeId: id, how: 'external' as const, pid: p.status.pid } : undefined;
}
