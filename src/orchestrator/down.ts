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
  if (!o.purge) return { stores, purged: false };
  const busy = stores.filter((s) => s.how === 'external');
  if (busy.length > 0) {
    const ids = busy.map((s) => `${s.storeId} (pid ${s.pid})`).join(', ');
    throw new StoreBusyError(`not purging: store ${ids} still runs, started outside cluster up; stop it first`);
  }
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
  const rec = proc.rec;
  if (!rec) {
    removePidFile(cfg, id);
    return (await externalStore(cfg, id)) ?? { storeId: id, how: 'not-running' };
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

/** A store answering on its port with no process of ours recorded. */
async function externalStore(cfg: ClusterConfig, id: number): Promise<StoreStop | undefined> {
  const store = cfg.stores.find((s) => s.id === id)!;
  if ((await checkPort(store.host, store.port)).free) return undefined;
  const p = await probeStore(store, 500);
  return p.ok ? { storeId: id, how: 'external', pid: p.status.pid } : undefined;
}
