// Installing a received snapshot so that a crash at any point leaves either the old state
// or the new one, never a mix. The ordering, in terms of the two engines:
//
//   1. kvdb, synced: RegionLocalState {state: Applying, region: the snapshot's, applying:
//      (index, term, staged file)} and RaftApplyState {applied = truncated = (index, term)}.
//      This is the commit point. Before it, a restart finds the old state untouched (the
//      staged file is a leftover, removed at start). After it, the region's data in kvdb is
//      incomplete until step 4, and a restart finishes the install from the staged file
//      (finishInstall), which is kept until then.
//   2. kvdb, unsynced batches: delete the region's state-machine ranges (user data of every
//      column family, client sessions), then write the file's pairs. Idempotent: a restart
//      deletes and writes again.
//   3. raftdb, synced: delete the region's whole raft log and write RaftLocalState {last =
//      (index, term), commit >= index, term >= the snapshot's}. Until this, raftdb may still
//      describe the old log; load() does not look at it while the region is Applying.
//   4. kvdb, synced: RegionLocalState {state: Normal}. Syncing it also makes step 2 durable
//      (one write-ahead log, written in order).
//   5. The staged file is removed.
//
// A raftdb hard state only ever moves forward here (term never lower, vote kept when the
// term is unchanged, commit raised to the snapshot's index), so step 3 cannot undo a vote.

import { WriteBatch } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Index, Term } from '../raft/index.js';
import { hardStateFromProto, hardStateToProto } from './codec.js';
import type { Engines } from './peer-storage.js';
import { encodeApplyState } from './peer-storage.js';
import { regionToProto } from './region.js';
import { descriptorToProto, inRegionState, regionStateRanges } from './snapshot-data.js';
import type { SnapshotDescriptor } from './snapshot-data.js';
import type { SnapshotFiles } from './snapshot-files.js';
import { SnapshotDecoder, SnapshotFormatError } from './snapshot-format.js';

export interface InstallTarget {
  readonly index: Index;
  readonly term: Term;
  readonly fileName: string;
  readonly descriptor: SnapshotDescriptor;
}

/** Bytes of pairs per kvdb write batch while ingesting a snapshot file. */
// Stryker disable next-line ArithmeticOperator: batch size only: every ingest batch is unsynced and made durable by step 4's sync, so any size gives the same state (performance and memory only)
const INGEST_BATCH_BYTES = 4 * 1024 * 1024;
// Stryker disable next-line ArithmeticOperator: read size only: the decoder takes chunks of any size (performance only)
const READ_CHUNK = 1024 * 1024;

/** Test hooks of the install path. */
export interface InstallHooks {
  /** Called between the steps; a test throws from it to simulate a crash at that point. */
  readonly at?: (step: 'intent' | 'data' | 'raft' | 'normal') => void;
  /** Deliberate bug (DeliberateBugs.installWithoutIntent): no step 1; the apply state is written last. */
  readonly skipIntent?: boolean;
}

/** Step 1: the commit point (see above). */
export async function beginInstall(kv: KvEngine, regionId: number, t: InstallTarget): Promise<void> {
  const wb = new WriteBatch();
  wb.put(keys.regionStateKey(regionId), raft_serverpb.RegionLocalState.encode({
    state: raft_serverpb.PeerState.Applying,
    region: regionToProto(t.descriptor.region),
    applying: { index: t.index, term: t.term, file_name: t.fileName, descriptor: descriptorToProto(t.descriptor) },
  }).finish());
  wb.put(keys.applyStateKey(regionId), encodeApplyState({ appliedIndex: t.index, truncatedIndex: t.index, truncatedTerm: t.term }));
  await kv.write(wb, { sync: true });
}

/** Steps 2 to 5; run right after beginInstall, or at restart for a region left Applying. */
export async function finishInstall(engines: Engines, files: SnapshotFiles, regionId: number, t: InstallTarget, hooks: InstallHooks = {}): Promise<void> {
  hooks.at?.('intent');
  await ingest(engines.kv, files, t);
  hooks.at?.('data');
  await resetRaftLog(engines.raft, regionId, t);
  hooks.at?.('raft');
  const wb = new WriteBatch();
  wb.put(keys.regionStateKey(regionId), raft_serverpb.RegionLocalState.encode({
    state: raft_serverpb.PeerState.Normal, region: regionToProto(t.descriptor.region),
  }).finish());
  await engines.kv.write(wb, { sync: true });
  hooks.at?.('normal');
  await files.remove(t.fileName);
}

async function ingest(kv: KvEngine, files: SnapshotFiles, t: InstallTarget): Promise<void> {
  const ranges = regionStateRanges(t.descriptor.region);
  const clear = new WriteBatch();
  for (const [start, end] of ranges) clear.deleteRange(start, end);
  // Stryker disable next-line BooleanLiteral: syncing more is only slower; step 4's sync makes this durable anyway
  await kv.write(clear, { sync: false });
  const reader = await files.open(t.fileName);
  try {
    if (reader.size !== t.descriptor.fileSize) {
      throw new SnapshotFormatError(`staged snapshot ${t.fileName} is ${reader.size} bytes, expected ${t.descriptor.fileSize}`);
    }
    const dec = new SnapshotDecoder();
    let wb = new WriteBatch();
    let bytes = 0;
    for (let chunk = await reader.read(READ_CHUNK); chunk; chunk = await reader.read(READ_CHUNK)) {
      for (const [k, v] of dec.push(chunk)) {
        if (!inRegionState(ranges, k)) throw new SnapshotFormatError(`snapshot ${t.fileName} holds a key outside region ${t.descriptor.region.id}: ${k.toString('hex')}`);
        wb.put(k, v);
        // Stryker disable next-line AssignmentOperator,ArithmeticOperator: batch sizing only (see INGEST_BATCH_BYTES): performance and memory, not the state written
        bytes += k.length + v.length;
        // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: when to flush a batch only (see INGEST_BATCH_BYTES): the same pairs reach kvdb in the same order
        if (bytes >= INGEST_BATCH_BYTES) {
          // Stryker disable next-line BooleanLiteral: syncing more is only slower; step 4's sync makes this durable anyway
          await kv.write(wb, { sync: false });
          wb = new WriteBatch();
          bytes = 0;
        }
      }
    }
    dec.end();
    if (dec.count !== t.descriptor.pairCount) {
      throw new SnapshotFormatError(`snapshot ${t.fileName} holds ${dec.count} pairs, its descriptor says ${t.descriptor.pairCount}`);
    }
    // Stryker disable next-line BooleanLiteral: syncing more is only slower; step 4's sync makes this durable anyway
    await kv.write(wb, { sync: false });
  } finally {
    await reader.close();
  }
}

async function resetRaftLog(raft: KvEngine, regionId: number, t: InstallTarget): Promise<void> {
  const raw = await raft.get(keys.raftStateKey(regionId));
  const old = raw ? hardStateFromProto(raft_serverpb.RaftLocalState.decode(raw).hard_state) : { term: 0, vote: 0, commit: 0 };
  // Raft restores only a snapshot beyond its commit index, so the old commit is below it.
  if (old.commit > t.index) throw new Error(`region ${regionId}: snapshot at ${t.index} is below the commit index ${old.commit}`);
  const term = Math.max(old.term, t.term);
  const hardState = { term, vote: term === old.term ? old.vote : 0, commit: t.index };
  const wb = new WriteBatch();
  const [start, end] = keys.raftLogRange(regionId);
  wb.deleteRange(start, end);
  wb.put(keys.raftStateKey(regionId), raft_serverpb.RaftLocalState.encode({
    hard_state: hardStateToProto(hardState), last_index: t.index, last_term: t.term,
  }).finish());
  await raft.write(wb, { sync: true });
}
