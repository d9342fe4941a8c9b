// StoreConnection: how the client reaches one store. Implemented over gRPC for real
// processes (src/node) and directly over Store objects by the in-process test harness.
// Methods reject with raftstore region errors (NotLeaderError, StaleCommandError, …) as
// the store reported them, with InvalidRequestError for bad input, or with any other
// error for a transport failure.

import type { RequestHeader, ClientSession } from '../api/request.js';

/**
 * One call's limits. `timeoutMs`: the caller gives up after this long; a connection that
 * can tells the store (gRPC's grpc-timeout) and cancels the call then, so nothing is left
 * open on a store that does not answer.
 */
export interface CallOptions {
  readonly timeoutMs?: number;
}

/**
 * One store's key-value API as KvClient uses it; region errors reject with src/api's error
 * classes.
 */
export interface StoreConnection {
  readonly storeId: number;
  get(h: RequestHeader, key: Uint8Array, o?: CallOptions): Promise<Uint8Array | undefined>;
  scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number, o?: CallOptions): Promise<ReadonlyArray<readonly [Uint8Array, Uint8Array]>>;
  put(h: RequestHeader, key: Uint8Array, value: Uint8Array, session: ClientSession, o?: CallOptions): Promise<void>;
  delete(h: RequestHeader, key: Uint8Array, session: ClientSession, o?: CallOptions): Promise<void>;
  /** Deletes [start, end); resolves with the count (undefined: a duplicate, count unknown). */
  deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, session: ClientSession, o?: CallOptions): Promise<number | undefined>;
}
