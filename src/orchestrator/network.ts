// Network faults for `tinykv chaos`, set through each store's Admin service (the filters
// sit in the store's raft transport, on both its sends and its receives):
// - partition a|b: sent to every store, so each drops traffic across the cut;
// - isolate id: sent to that one store, which then drops everything to and from the others;
// - drop p, heal: sent to every store.
// A store that does not answer (down, paused) is reported and skipped; one that is down
// comes back with no filters. Only client-to-store traffic is never filtered.

import { AdminClient, adminFailureReason, type FaultSpec } from '../client/index.js';
import type { ClusterConfig } from '../config/types.js';
import { FaultNotAppliedError } from './errors.js';
import { storeConfig } from './stores.js';

const FAULT_TIMEOUT_MS = 1000;

export interface FaultResult {
  /** Stores that took the fault. */
  readonly applied: readonly number[];
  /** Stores that did not answer, with why. */
  readonly skipped: ReadonlyArray<{ readonly storeId: number; readonly error: string }>;
}

export function partition(cfg: ClusterConfig, a: readonly number[], b: readonly number[]): Promise<FaultResult> {
  for (const id of [...a, ...b]) storeConfig(cfg, id);
  return faultStores(cfg, cfg.stores.map((s) => s.id), { partition: [a, b] });
}

export async function isolate(cfg: ClusterConfig, id: number): Promise<FaultResult> {
  storeConfig(cfg, id);
  return faultStores(cfg, [id], { isolate: true });
}

export function dropMessages(cfg: ClusterConfig, rate: number): Promise<FaultResult> {
  return faultStores(cfg, cfg.stores.map((s) => s.id), { dropRate: rate });
}

export function heal(cfg: ClusterConfig): Promise<FaultResult> {
  return faultStores(cfg, cfg.stores.map((s) => s.id), { heal: true });
}

/** Sends `spec` to each store in `ids`; fails only if none of them took it. */
async function faultStores(cfg: ClusterConfig, ids: readonly number[], spec: FaultSpec): Promise<FaultResult> {
  const outcomes = await Promise.all(
    ids.map(async (id) => {
      const admin = new AdminClient(storeConfig(cfg, id).addr);
      try {
        await admin.fault(spec, { timeoutMs: FAULT_TIMEOUT_MS });
        return { storeId: id };
      } catch (e) {
        return { storeId: id, error: adminFailureReason(e) };
      } finally {
        admin.close();
      }
    }),
  );
  const applied = outcomes.filter((o) => o.error === undefined).map((o) => o.storeId);
  const skipped = outcomes.flatMap((o) => (o.error === undefined ? [] : [{ storeId: o.storeId, error: o.error }]));
  if (applied.length === 0) {
    const why = skipped.map((s) => `store ${s.storeId}: ${s.error}`).join('; ');
    throw new FaultNotAppliedError(`no store took the fault (${why})`);
  }
  return { applied, skipped };
}
