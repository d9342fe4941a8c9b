// A region's records on this store outside its running life: the initial state written
// when a region is bootstrapped, the empty state of a peer created at a leader's request,
// the tombstone and deletions when a removed peer is destroyed, and reading a tombstone
// back. Each write is synced, in an order a crash between two writes cannot make unsafe.

import { WriteBatch } from '../engine/index.js';
import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { PeerMeta } from './envelope.js';
import type { RegionMeta } from './region.js';
import { regionFromProto, regionToProto } from './region.js';
import { regionStateRanges } from './snapshot-data.js';
import type { Engines } from './storage-state.js';
import { encodeApplyState, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from './storage-state.js';

/** Writes the initial states of a brand-new region (both engines, synced). */
export async function bootstrapRegion(engines: Engines, region: RegionMeta): Promise<void> {
  const raftWb = new WriteBatch();
  raftWb.put(keys.raftStateKey(region.id), raft_serverpb.RaftLocalState.encode({
    hard_state: { term: RAFT_INIT_LOG_TERM, vote: 0, commit: RAFT_INIT_LOG_INDEX },
    last_index: RAFT_INIT_LOG_INDEX,
    last_term: RAFT_INIT_LOG_TERM,
  }).finish());
  const kvWb = new WriteBatch();
  kvWb.put(keys.applyStateKey(region.id), encodeApplyState({
    appliedIndex: RAFT_INIT_LOG_INDEX, truncatedIndex: RAFT_INIT_LOG_INDEX, truncatedTerm: RAFT_INIT_LOG_TERM,
  }));
  kvWb.put(keys.regionStateKey(region.id), raft_serverpb.RegionLocalState.encode({
    state: raft_serverpb.PeerState.Normal, region: regionToProto(region),
  }).finish());
  // raftdb first: a crash in between leaves only the initial raft state, which load()
  // recognises as an unfinished bootstrap and lets the store redo, instead of a kvdb
  // region without raft state, which would refuse to start for ever.
  await engines.raft.write(raftWb, { sync: true });
  await engines.kv.write(kvWb, { sync: true });
}

/**
 * The state of a peer created on this store by a message from a region's leader (a store
 * being added): no log, applied 0, and a region that names only this peer (as a learner,
 * so it never campaigns) at epoch 0, so that any snapshot of the region is newer. Written
 * (synced) before the peer handles anything, so that the votes it may give are durable.
 */
export async function writeUninitializedRegion(engines: Engines, regionId: number, self: PeerMeta): Promise<void> {
  const region: RegionMeta = {
    // Stryker disable next-line ObjectLiteral: the region is only stored encoded, and an epoch of zeros (proto3's default) reads back the same as {}
    id: regionId, startKey: new Uint8Array(0), endKey: new Uint8Array(0), epoch: { confVer: 0, version: 0 },
    peers: [{ id: self.id, storeId: self.storeId, learner: true }],
  };
  const kvWb = new WriteBatch();
  // Stryker disable next-line ObjectLiteral: every field is 0, proto3's default: {} encodes to what load() reads back the same
  kvWb.put(keys.applyStateKey(regionId), encodeApplyState({ appliedIndex: 0, truncatedIndex: 0, truncatedTerm: 0 }));
  kvWb.put(keys.regionStateKey(regionId), raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Normal, region: regionToProto(region) }).finish());
  const raftWb = new WriteBatch();
  // Stryker disable next-line ObjectLiteral: every field is 0, proto3's default: {} encodes to what load() reads back the same
  raftWb.put(keys.raftStateKey(regionId), raft_serverpb.RaftLocalState.encode({ hard_state: { term: 0, vote: 0, commit: 0 }, last_index: 0, last_term: 0 }).finish());
  await engines.kv.write(kvWb, { sync: true });
  await engines.raft.write(raftWb, { sync: true });
}

/**
 * A removed peer's remains: RegionLocalState Tombstone (with the region it was removed
 * from, so messages of that epoch or older never recreate it) first, synced; then its
 * data, client sessions and apply state in kvdb, and its raft state and log in raftdb.
 */
export async function destroyRegion(engines: Engines, region: RegionMeta): Promise<void> {
  const tomb = new WriteBatch();
  tomb.put(keys.regionStateKey(region.id), raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Tombstone, region: regionToProto(region) }).finish());
  await engines.kv.write(tomb, { sync: true });
  const kv = new WriteBatch();
  for (const [start, end] of regionStateRanges(region)) kv.deleteRange(start, end);
  kv.delete(keys.applyStateKey(region.id));
  await engines.kv.write(kv, { sync: true });
  const raft = new WriteBatch();
  const [ls, le] = keys.raftLogRange(region.id);
  raft.deleteRange(ls, le);
  raft.delete(keys.raftStateKey(region.id));
  await engines.raft.write(raft, { sync: true });
}

/** The region a tombstone on this store records, if the region was removed from here. */
export async function readTombstone(engines: Engines, regionId: number): Promise<RegionMeta | undefined> {
  const raw = await engines.kv.get(keys.regionStateKey(regionId));
  if (!raw) return undefined;
  const st = raft_serverpb.RegionLocalState.decode(raw);
  return st.state === raft_serverpb.PeerState.Tombstone && st.region ? regionFromProto(st.region) : undefined;
}

/** Whether raftdb holds exactly what bootstrapRegion writes first, and nothing has happened since. */
export function isInitialRaftState(st: raft_serverpb.RaftLocalState): boolean {
  const hs = st.hard_state;
  return Number(st.last_index) === RAFT_INIT_LOG_INDEX && Number(st.last_term) === RAFT_INIT_LOG_TERM &&
    // Stryker disable next-line OptionalChaining: without a hard state the term test fails first, so hs?.vote and hs?.commit are only read with hs set (hs?.term's own mutant is killed)
    Number(hs?.term ?? 0) === RAFT_INIT_LOG_TERM && Number(hs?.vote ?? 0) === 0 && Number(hs?.commit ?? 0) === RAFT_INIT_LOG_INDEX;
}
