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
import { EpochNotMatchError, RegionError, SessionExpiredError } from './errors.js';
import type { ApplyState } from './peer-storage.js';
import { encodeApplyState } from './peer-storage.js';
import type { RegionMeta } from './region.js';
import { SessionChanges } from './session-table.js';
import type { SessionTable } from './session-table.js';

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
  /** Client session changes in this batch; the peer commits them to its table after the write. */
  readonly sessions: SessionChanges;
  /** Rows dropped by ExpireSessions commands in this batch. */
  readonly sessionsExpired: number;
  /**
   * Whether a CompactLog moved the truncated index. The batch must then be synced before
   * the raft log entries it drops are deleted from raftdb.
   */
  readonly compacted: boolean;
}

/**
 * Builds the write for `entries` (consecutive, starting right after the applied index).
 * `sessions` is the region's session table; it is not modified (see ApplyOutcome.sessions).
 */
export function applyEntries(
  entries: readonly Entry[], region: RegionMeta, applyState: ApplyState, sessions: SessionTable,
): ApplyOutcome {
  const batch = new WriteBatch();
  const results: AppliedEntry[] = [];
  const changed = new SessionChanges(sessions);
  let expired = 0;
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
    if (decoded.kind === 'expireSessions') {
      expired += changed.expire(decoded.idleBeforeMs, decoded.rejectBeforeMs).length;
      continue;
    }
    const cmd = decoded;
    if (cmd.epoch.version !== region.epoch.version || cmd.epoch.confVer !== region.epoch.confVer) {
      results.push({ index: e.index, term: e.term, error: new EpochNotMatchError(region.id, region.epoch) });
      continue;
    }
    if (cmd.session) {
      const { clientId, sequence, sentAtMs } = cmd.session;
      const row = changed.get(clientId);
      if (row && sequence <= row.sequence) {
        // A retry of a write that already took effect: answer success, change nothing.
        results.push({ index: e.index, term: e.term });
        continue;
      }
      if (!row && sentAtMs < changed.rejectBeforeMs) {
        // No row, and old enough to retry a write applied under a row since dropped.
        results.push({ index: e.index, term: e.term, error: new SessionExpiredError(clientId, sequence) });
        continue;
      }
      changed.put(clientId, { sequence, lastUsedMs: cmd.proposedAtMs });
    }
    for (const op of cmd.ops) {
      if (op.kind === 'put') batch.put(keys.dataKey('default', op.key), op.value);
      else batch.delete(keys.dataKey('default', op.key));
    }
    results.push({ index: e.index, term: e.term });
  }
  const next: ApplyState = { appliedIndex: applied, truncatedIndex: truncated.index, truncatedTerm: truncated.term };
  changed.writeTo(batch, region.id);
  batch.put(keys.applyStateKey(region.id), encodeApplyState(next));
  return {
    batch, applyState: next, results, sessions: changed, sessionsExpired: expired, compacted: truncated.index !== applyState.truncatedIndex,
  };
}
