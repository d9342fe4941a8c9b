// What a client sends with every request: the region and epoch it addresses, and for a
// write, its session (for exactly-once retries).

import type { RegionId } from './ids.js';
import type { RegionEpoch } from './meta.js';

/** Identifies a client's write for duplicate detection (Raft thesis §6.3); 0 = none. */
export interface ClientSession {
  readonly clientId: number;
  readonly sequence: number;
  /**
   * The client's wall clock (ms) when it first sent this sequence; retries keep it. Lets a
   * store refuse a late retry whose session it may have forgotten (session-table.ts).
   */
  readonly sentAtMs: number;
}

export interface RequestHeader {
  readonly regionId: RegionId;
  /** The epoch the client believes in; undefined skips the check. */
  readonly epoch?: RegionEpoch;
}
