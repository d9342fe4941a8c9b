// Asks stores about themselves over their Admin service: one status call per store, each
// with its own short deadline, and the leader as the stores report it. Used for
// readiness (cluster up), cluster status and `--store leader`.

import { AdminClient, type StoreStatusInfo } from '../client/index.js';
import type { ClusterConfig, StoreConfig } from '../config/types.js';

export type Probe =
  | { readonly ok: true; readonly storeId: number; readonly status: StoreStatusInfo }
  | { readonly ok: false; readonly storeId: number; readonly error: string };

/** Status of one store, never throwing: a store that does not answer in time is `ok: false`. */
export async function probeStore(store: StoreConfig, timeoutMs: number): Promise<Probe> {
  const admin = new AdminClient(store.addr);
  try {
    const status = await admin.status({ timeoutMs });
    if (status.storeId !== store.id) {
      return { ok: false, storeId: store.id, error: `${store.addr} answers as store ${status.storeId}` };
    }
    return { ok: true, storeId: store.id, status };
  } catch (e) {
    return { ok: false, storeId: store.id, error: (e as Error).message };
  } finally {
    admin.close();
  }
}

export function probeAll(cfg: ClusterConfig, timeoutMs: number, ids?: readonly number[]): Promise<Probe[]> {
  const stores = ids ? cfg.stores.filter((s) => ids.includes(s.id)) : cfg.stores;
  return Promise.all(stores.map((s) => probeStore(s, timeoutMs)));
}

/** A store that has opened its engines and runs raft (not still starting up). */
export function isServing(p: Probe): boolean {
  return p.ok && p.status.role !== 'starting' && p.status.role !== '';
}

/** The leader of the highest term among the answers, if any store reports itself leader. */
export function leaderOf(probes: readonly Probe[]): { storeId: number; term: number } | undefined {
  let best: { storeId: number; term: number } | undefined;
  for (const p of probes) {
    if (p.ok && p.status.role === 'leader' && (!best || p.status.term > best.term)) {
      best = { storeId: p.storeId, term: p.status.term };
    }
  }
  return best;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
