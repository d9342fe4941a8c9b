// StoreConnection: how the client reaches one store. Implemented over gRPC for real
// processes (src/node) and directly over Store objects by the in-process test harness.
// Methods reject with raftstore region errors (NotLeaderError, StaleCommandError, …) as
// the store reported them, with InvalidRequestError for bad input, or with any other
// error for a transport failure.

import type { RequestHeader, ClientSession } from '../api/request.js';

export interface StoreConnection {
  readonly storeId: number;
  get(h: RequestHeader, key: Uint8Array): Promise<Uint8Array | undefined>;
  scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number): Promise<ReadonlyArray<readonly [Uint8Array, Uint8Array]>>;
  put(h: RequestHeader, key: Uint8Array, value: Uint8Array, session: ClientSession): Promise<void>;
  delete(h: RequestHeader, key: Uint8Array, session: ClientSession): Promise<void>;
  /** Deletes [start, end); resolves with the count (undefined: a duplicate, count unknown). */
  deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, session: ClientSession): Promise<number | undefined>;
}
