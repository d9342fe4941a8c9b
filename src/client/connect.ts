// Builds a KvClient that reaches the cluster described by a cluster file over gRPC.

import { randomInt } from 'node:crypto';
import { loadClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { GrpcStoreConnection } from './grpc-connection.js';
import { KvClient } from './kv-client.js';

/** Options of connectKvClient and connectKvClients. */
export interface ConnectOptions {
  readonly timeoutMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Defaults to a random id, so concurrent CLI processes never share a session. */
  readonly clientId?: number;
  /** See KvClientOptions.onAnswer. */
  readonly onAnswer?: (storeId: number) => void;
  /** See KvClientOptions.failFastWhenDown (the CLI turns it on). */
  readonly failFastWhenDown?: boolean;
  /** See KvClientOptions.firstStore. */
  readonly firstStore?: number;
  /**
   * Requests travel over one BatchCommands stream per store rather than a unary call each
   * (see src/client/grpc-batch.ts). Default: on for connectKvClients (many requests in
   * flight), off for connectKvClient (a CLI command sends one or two).
   */
  readonly batch?: boolean;
}

/** A KvClient over gRPC to the stores of `cfg`, with close() to end its connections. */
export function connectKvClient(cfg: ClusterConfig, o: ConnectOptions = {}): { client: KvClient; close(): void } {
  const { clients, close } = connectKvClients(cfg, 1, { batch: false, ...o });
  return { client: clients[0]!, close };
}

/**
 * `n` clients sharing one gRPC channel per store: each is its own session (its writes are
 * serialized, so n clients give n writes in flight). For load generators.
 */
export function connectKvClients(cfg: ClusterConfig, n: number, o: ConnectOptions = {}): { clients: KvClient[]; close(): void } {
  const conns = new Map<number, GrpcStoreConnection>();
  const addrs = new Map(cfg.stores.map((s) => [s.id, s.addr]));
  // A store added after the file was read (tinykv store add) is found by reading it again.
  const addrOf = (storeId: number): string | undefined => {
    if (!addrs.has(storeId) && cfg.file !== '') {
      try {
        for (const s of loadClusterConfig(cfg.file).stores) if (!addrs.has(s.id)) addrs.set(s.id, s.addr);
      } catch {
        // unreadable now: the stores known so far
      }
    }
    return addrs.get(storeId);
  };
  const connect = (storeId: number): GrpcStoreConnection => {
    let c = conns.get(storeId);
    if (!c) {
      const addr = addrOf(storeId);
      if (addr === undefined) throw new RangeError(`unknown store ${storeId}`);
      c = new GrpcStoreConnection(storeId, addr, { batch: o.batch ?? true });
      conns.set(storeId, c);
    }
    return c;
  };
  const clients = Array.from({ length: n }, (_, i) => new KvClient({
    storeIds: cfg.stores.map((s) => s.id),
    connect,
    clientId: o.clientId !== undefined ? o.clientId + i : randomInt(1, 2 ** 47),
    timeoutMs: o.timeoutMs ?? 10_000,
    attemptTimeoutMs: o.attemptTimeoutMs ?? 2_000,
    canReach: (storeId) => addrOf(storeId) !== undefined,
    ...(o.onAnswer ? { onAnswer: o.onAnswer } : {}),
    ...(o.failFastWhenDown ? { failFastWhenDown: true } : {}),
    ...(o.firstStore !== undefined ? { firstStore: o.firstStore } : {}),
  }));
  return { clients, close: () => { for (const c of conns.values()) c.close(); } };
}
