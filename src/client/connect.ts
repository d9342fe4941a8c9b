// Builds a KvClient that reaches the cluster described by a cluster file over gRPC.

import { randomInt } from 'node:crypto';
import type { ClusterConfig } from '../config/types.js';
import { GrpcStoreConnection } from './grpc-connection.js';
import { KvClient } from './kv-client.js';

export interface ConnectOptions {
  readonly timeoutMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Defaults to a random id, so concurrent CLI processes never share a session. */
  readonly clientId?: number;
}

export function connectKvClient(cfg: ClusterConfig, o: ConnectOptions = {}): { client: KvClient; close(): void } {
  const conns = new Map<number, GrpcStoreConnection>();
  const connect = (storeId: number): GrpcStoreConnection => {
    let c = conns.get(storeId);
    if (!c) {
      const s = cfg.stores.find((x) => x.id === storeId);
      if (!s) throw new RangeError(`unknown store ${storeId}`);
      c = new GrpcStoreConnection(storeId, s.addr);
      conns.set(storeId, c);
    }
    return c;
  };
  const client = new KvClient({
    storeIds: cfg.stores.map((s) => s.id),
    connect,
    clientId: o.clientId ?? randomInt(1, 2 ** 47),
    timeoutMs: o.timeoutMs ?? 10_000,
    attemptTimeoutMs: o.attemptTimeoutMs ?? 2_000,
  });
  return { client, close: () => { for (const c of conns.values()) c.close(); } };
}
