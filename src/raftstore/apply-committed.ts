// The apply step of the Ready loop: a Ready's committed entries become one kvdb batch
// (apply.ts builds it; this module reads what it needs first, writes it, and moves the
// peer's apply state), then what they did is handed to apply-results.ts. A CompactLog's
// batch is synced before the raft log entries it drops are deleted, so raftdb never loses
// entries kvdb still needs.

import { WriteBatch } from '../engine/index.js';
import { keys } from '../engine/index.js';
import type { Entry } from '../raft/index.js';
import { applyEntries, rangeKey, rangesToRead } from './apply.js';
import type { ApplyOutcome, RangeReads } from './apply.js';
import type { PeerCore } from './peer-core.js';
import { encodeApplyState } from './peer-storage.js';

/** Where the apply step is (the Ready loop's phase, for stuck-cluster reports). */
export type ApplyPhase = 'applying' | 'deleting compacted entries';

/**
 * Applies `entries` to kvdb and the peer's apply state. Undefined if the peer stopped (or
 * a crash point killed the store) part-way: then nothing after that point happened.
 */
export async function applyCommitted(peer: PeerCore, entries: readonly Entry[], phase: (p: ApplyPhase) => void): Promise<ApplyOutcome | undefined> {
  const { o } = peer;
  const storage = o.storage;
  // A range delete needs the keys kvdb holds in its range (apply itself reads nothing).
  const ranges = await readRanges(peer, rangesToRead(entries));
  if (peer.stopped) return undefined;
  const out = applyEntries(entries, peer.region, storage.applyState, o.sessions, o.bugs, ranges);
  if (o.bugs.applyStateInSeparateBatch) {
    const ahead = new WriteBatch();
    ahead.put(keys.applyStateKey(peer.region.id), encodeApplyState(out.applyState));
    await o.kv.write(ahead, { sync: false });
    if (peer.stopped) return undefined;
  }
  // Synced when it truncates the log: raftdb must not lose entries kvdb still needs.
  phase('applying');
  await o.kv.write(out.batch, { sync: out.compacted });
  if (peer.stopped || peer.crashed('applied')) return undefined;
  storage.setApplyState(out.applyState);
  if (out.compacted) {
    if (peer.crashed('compacting')) return undefined;
    phase('deleting compacted entries');
    await storage.deleteCompactedEntries();
    if (peer.stopped) return undefined;
  }
  out.sessions.commit();
  return out;
}

/** For each range, the user keys kvdb holds in it now (undefined when there is none). */
async function readRanges(peer: PeerCore, list: { start: Uint8Array; end: Uint8Array }[]): Promise<RangeReads | undefined> {
  if (list.length === 0) return undefined;
  const out = new Map<string, Uint8Array[]>();
  for (const r of list) {
    const k = rangeKey(r.start, r.end);
    if (out.has(k)) continue;
    const end = r.end.length === 0 ? keys.dataKeyEnd('default') : keys.dataKey('default', r.end);
    const pairs = await peer.o.kv.scan({ start: keys.dataKey('default', r.start), end });
    out.set(k, pairs.map(([key]) => keys.decodeDataKey(key).key));
  }
  return out;
}
