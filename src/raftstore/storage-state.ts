// The durable state of a peer as both engines hold it, in the shapes the raftstore's
// modules share: the apply state kvdb keeps with the data, the pair of engines, the
// starting point of a bootstrapped log, and the error a store refuses to start on.

import type { KvEngine } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Index, Term } from '../raft/index.js';
import type { StoreId } from './ids.js';

/** TinyKV's starting point: a bootstrapped region's log begins after (5, 5). */
export const RAFT_INIT_LOG_INDEX = 5;
export const RAFT_INIT_LOG_TERM = 5;

/** What kvdb records of a peer's apply progress (RaftApplyState): applied index and truncated log. */
export interface ApplyState {
  readonly appliedIndex: Index;
  readonly truncatedIndex: Index;
  readonly truncatedTerm: Term;
}

/**
 * A store's two engines: raftdb (raft logs and states) and kvdb (user data, apply states,
 * sessions).
 */
export interface Engines {
  readonly raft: KvEngine;
  readonly kv: KvEngine;
}

/** The stored state is inconsistent or unreadable; the store must not start on it. */
export class CorruptStateError extends Error {
  readonly code = 'CORRUPT_STATE';
  constructor(storeId: StoreId, regionId: number, what: string) {
    super(`store ${storeId}: region ${regionId}: ${what}`);
  }
}

export function encodeApplyState(s: ApplyState): Uint8Array {
  return raft_serverpb.RaftApplyState.encode({
    applied_index: s.appliedIndex,
    truncated_state: { index: s.truncatedIndex, term: s.truncatedTerm },
  }).finish();
}
