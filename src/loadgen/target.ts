// What a benchmark drives: a key-value store with put / get / delete / scan. One KvTarget
// per worker (a worker has one request in flight), so a store whose clients serialize their
// writes (a tinykv client session) still gets `concurrency` writes in flight. tinykv's
// implementation is here; etcd's is in src/bench/etcd-target.ts (a dev dependency).

import { connectKvClients } from '../client/index.js';
import type { ClusterConfig } from '../config/types.js';

export interface KvTarget {
  put(key: Buffer, value: Buffer): Promise<void>;
  /** The value, or undefined when there is none. */
  get(key: Buffer): Promise<Buffer | undefined>;
  delete(key: Buffer): Promise<void>;
  /** Pairs with start <= key < end, at most `limit`; resolves with how many came back. */
  scan(start: Buffer, end: Buffer, limit: number): Promise<number>;
}

export interface TargetPool {
  readonly name: string;
  /** One target per worker. */
  readonly targets: readonly KvTarget[];
  close(): Promise<void>;
}

/** `workers` tinykv client sessions sharing one gRPC channel per store. */
export function tinykvPool(cfg: ClusterConfig, workers: number, timeoutMs = 10_000): TargetPool {
  const { clients, close } = connectKvClients(cfg, workers, { timeoutMs, failFastWhenDown: true });
  return {
    name: 'tinykv',
    targets: clients.map((c): KvTarget => ({
      put: (k, v) => c.put(k, v),
      get: async (k) => {
        const v = await c.get(k);
        return v === undefined ? undefined : Buffer.from(v);
      },
      delete: (k) => c.delete(k),
      scan: async (s, e, limit) => (await c.scan(s, e, limit)).length,
    })),
    close: async () => close(),
  };
}
