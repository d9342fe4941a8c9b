// The data directory's identity: the first start writes (cluster id, store id) into
// kvdb; every later start checks it, so a store never runs on another store's or
// another cluster's data.

import { raft_serverpb } from '../gen/proto.js';
import { WriteBatch } from '../engine/kv-engine.js';
import type { KvEngine } from '../engine/kv-engine.js';
import * as keys from '../engine/keys.js';


export class ForeignDataDirError extends Error {
  readonly code = 'FOREIGN_DATA_DIR';
}

export async function checkOrWriteIdentity(kv: KvEngine, dir: string, clusterId: string, storeId: number): Promise<void> {
  const raw = await kv.get(keys.storeIdentKey());
  if (raw === undefined) {
    const wb = new WriteBatch();
    wb.put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: clusterId, store_id: storeId }).finish());
    await kv.write(wb, { sync: true });
    return;
  }
  let ident: raft_serverpb.StoreIdent;
  try {
    ident = raft_serverpb.StoreIdent.decode(raw);
  } catch {
    throw new ForeignDataDirError(`${dir} has an unreadable store identity; refusing to start on it`);
  }
  if (Number(ident.store_id) !== storeId) {
    throw new ForeignDataDirError(`${dir} belongs to store ${Number(ident.store_id)}, not store ${storeId}; refusing to start`);
  }
  if (ident.cluster_id !== clusterId) {
    throw new ForeignDataDirError(`${dir} belongs to cluster "${ident.cluster_id}", not "${clusterId}"; refusing to start`);
  }
}
