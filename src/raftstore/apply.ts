// Apply: turns committed log entries into one kvdb write batch — the data changes, the
// client sessions for duplicate detection and the new RaftApplyState together — so
// applying is atomic and idempotent across restarts (entries at or below the stored
// applied index are never applied twice). A CompactLog entry moves the truncated state
// inside RaftApplyState; the peer then drops the log entries it covers. Apply returns results; the peer decides what
// to answer.

import { WriteBatch } from '../engine/kv-engine.js';
import * as keys from '../engine/keys.js';
import type { Entry, Index, Term } from '../raft/index.js';
import { decodeCommand } from './command.js';
import { EpochNotMatchError, RegionError } from './errors.js';
import type { ApplyState } from './peer-storage.js';
import { encodeApplyState } from './peer-storage.js';
import type { RegionMeta } from './region.js';

export interface AppliedEntry {
  readonly index: Index;
  readonly term: Term;
  /** Undefined on success (including a dropped duplicate), or why it was not applied. */
  readonly error?: RegionError;
}

export interface ApplyOutcome {
  readonly batch: WriteBatch;
  readonly applyState: ApplyState;
  readonly results: AppliedEntry[];
  /** Client sessions changed by this batch; folded into the peer's cache after the write. */
  readonly sessions: Map<number, number>;
  /**
   * Whether a CompactLog moved the truncated index. The batch must then be synced before
   * the raft log entries it drops are deleted from raftdb.
   */
  readonly compacted: boolean;
}

/**
 * Builds the write for `entries` (consecutive, starting right after the applied index).
 * `sessions` maps client id → highest applied sequence and is not modified.
 */
export function applyEntries(
  entries: readonly Entry[], region: RegionMeta, applyState: ApplyState, sessions: ReadonlyMap<number, number>,
): ApplyOutcome {
  const batch = new WriteBatch();
  const results: AppliedEntry[] = [];
  const changed = new Map<number, number>();
  let applied = applyState.appliedIndex;
  let truncated = { index: applyState.truncatedIndex, term: applyState.truncatedTerm };
  for (const e of entries) {
    if (e.index <= applied) continue; // already applied before a restart
    if (e.index !== applied + 1) throw new Error(`apply: entry ${e.index} does not follow applied index ${applied}`);
    applied = e.index;
    if (e.data.length === 0) continue; // a leader's no-op
    const decoded = decodeCommand(e.data);
    if (decoded.kind === 'compactLog') {
      // Stale or repeated compactions (a new leader may propose an older point) change nothing.
      if (decoded.index > truncated.index && decoded.index <= applied) truncated = { index: decoded.index, term: decoded.term };
      continue;
    }
    const cmd = decoded;
    if (cmd.epoch.version !== region.epoch.version || cmd.epoch.confVer !== region.epoch.confVer) {
      results.push({ index: e.index, term: e.term, error: new EpochNotMatchError(region.id, region.epoch) });
      continue;
    }
    if (cmd.session) {
      const last = changed.get(cmd.session.clientId) ?? sessions.get(cmd.session.clientId) ?? 0;
      if (cmd.session.sequence <= last) {
        // A retry of a write that already took effect: answer success, change nothing.
        results.push({ index: e.index, term: e.term });
        continue;
      }
      changed.set(cmd.session.clientId, cmd.session.sequence);
      batch.put(keys.clientSessionKey(region.id, cmd.session.clientId), keys.u64be(cmd.session.sequence));
    }
    for (const op of cmd.ops) {
      if (op.kind === 'put') batch.put(keys.dataKey('default', op.key), op.value);
      else batch.delete(keys.dataKey('default', op.key));
    }
    results.push({ index: e.index, term: e.term });
  }
  const next: ApplyState = { appliedIndex: applied, truncatedIndex: truncated.index, truncatedTerm: truncated.term };
  batch.put(keys.applyStateKey(region.id), encodeApplyState(next));
  return { batch, applyState: next, results, sessions: changed, compacted: truncated.index !== applyState.truncatedIndex };
}
