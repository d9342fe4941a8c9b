// PeerStorage: bootstrap, persisting Readys (entries, hard state, conflicting tails),
// reloading after a restart, and refusing to start on corrupt or inconsistent state.
// Most cases run on the in-memory engine; one runs on RocksDB across close and reopen.

import { join } from 'node:path';
import t from 'tap';
import { keys } from '../engine/index.js';
import { WriteBatch } from '../engine/index.js';
import { openMemoryEngine } from '../engine/index.js';
import { openRocksEngine } from '../engine/index.js';
import { openSnapshotDir } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Entry, HardState, Logger, Ready } from '../raft/index.js';
import { silentLogger } from '../raft/index.js';
import { decodeEntry } from './codec.js';
import type { StoreId } from './ids.js';
import type { Engines } from './peer-storage.js';
import {
  bootstrapRegion, destroyRegion, encodeApplyState, PeerStorage, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM, readTombstone, writeUninitializedRegion,
} from './peer-storage.js';
import { initialRegion, regionToProto } from './region.js';
import { SnapshotManager } from './snapshot-manager.js';
import { tempDir } from '../../test/support/temp-dir.js';

const STORE = 1 as StoreId;
const REGION = initialRegion([1, 2, 3] as StoreId[]);

function ent(index: number, term: number, data = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: Buffer.from(data) };
}

function ready(o: { entries?: Entry[]; hardState?: HardState }): Ready {
  return {
    entries: o.entries ?? [],
    committedEntries: [],
    messages: [],
    readStates: [],
    ...(o.hardState ? { hardState: o.hardState } : {}),
  };
}

async function memoryEngines(): Promise<Engines> {
  return { raft: await openMemoryEngine(), kv: await openMemoryEngine() };
}

async function bootstrapped(): Promise<{ engines: Engines; ps: PeerStorage }> {
  const engines = await memoryEngines();
  await bootstrapRegion(engines, REGION);
  const ps = await PeerStorage.load(engines, STORE, REGION.id);
  if (!ps) throw new Error('bootstrapped region did not load');
  return { engines, ps };
}

async function mustLoad(engines: Engines): Promise<PeerStorage> {
  const ps = await PeerStorage.load(engines, STORE, REGION.id);
  if (!ps) throw new Error('region did not load');
  return ps;
}

/** Overwrites the stored RaftLocalState with exactly these fields. */
async function putRaftState(engines: Engines, hs: HardState, lastIndex: number, lastTerm: number): Promise<void> {
  const wb = new WriteBatch();
  wb.put(keys.raftStateKey(REGION.id), raft_serverpb.RaftLocalState.encode({
    hard_state: { term: hs.term, vote: hs.vote, commit: hs.commit }, last_index: lastIndex, last_term: lastTerm,
  }).finish());
  await engines.raft.write(wb, { sync: true });
}

async function write(engine: Engines['raft'], f: (wb: WriteBatch) => void): Promise<void> {
  const wb = new WriteBatch();
  f(wb);
  await engine.write(wb, { sync: true });
}

t.test('bootstrapRegion then load: the log starts after (5, 5)', async (t) => {
  const { ps } = await bootstrapped();
  t.equal(RAFT_INIT_LOG_INDEX, 5);
  t.equal(RAFT_INIT_LOG_TERM, 5);
  t.equal(ps.firstIndex(), 6, 'firstIndex');
  t.equal(ps.lastIndex(), 5, 'lastIndex');
  t.equal(ps.term(5), 5, 'term(5)');
  t.same(ps.initialState().hardState, { term: 5, vote: 0, commit: 5 }, 'hard state');
  t.same([...ps.initialState().confState.voters].sort(), [1, 2, 3], 'voters from the region');
  t.same(ps.applyState, { appliedIndex: 5, truncatedIndex: 5, truncatedTerm: 5 }, 'apply state');
  t.equal(ps.region.id, REGION.id);
  t.same(ps.entries(6, 6), [], 'no entries yet');
  t.throws(() => ps.term(4), { code: 'COMPACTED' }, 'term below the truncated index is compacted');
  t.throws(() => ps.term(6), { code: 'UNAVAILABLE' }, 'term beyond the last index is unavailable');
});

t.test('load on an empty engine pair returns undefined', async (t) => {
  const engines = await memoryEngines();
  t.equal(await PeerStorage.load(engines, STORE, REGION.id), undefined);
});

t.test('saveReady persists entries and hard state; a reload returns them', async (t) => {
  const { engines, ps } = await bootstrapped();
  const hs = { term: 6, vote: 2, commit: 7 };
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6)], hardState: hs }));
  t.equal(ps.lastIndex(), 8, 'in memory: last index');
  t.same(ps.entries(6, 9).map((e) => e.index), [6, 7, 8]);

  const again = await mustLoad(engines);
  t.equal(again.firstIndex(), 6);
  t.equal(again.lastIndex(), 8);
  t.same(again.initialState().hardState, hs, 'hard state reloaded');
  const got = again.entries(6, 9);
  t.same(got.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]),
    [[6, 6, 'e6t6'], [7, 6, 'e7t6'], [8, 6, 'e8t6']], 'entries reloaded byte for byte');
  t.equal(again.term(8), 6);

  // A Ready that only moves the commit moves it in memory and writes nothing: the commit
  // index is learned again from the leader after a restart.
  await ps.saveReady(ready({ hardState: { term: 6, vote: 2, commit: 8 } }));
  t.same(ps.initialState().hardState, { term: 6, vote: 2, commit: 8 }, 'in memory: the new commit');
  const third = await mustLoad(engines);
  t.same(third.initialState().hardState, { term: 6, vote: 2, commit: 7 }, 'on disk: the last one written');
  t.equal(third.lastIndex(), 8);

  // The next Ready that writes carries the commit along.
  await ps.saveReady(ready({ entries: [ent(9, 6)] }));
  const fourth = await mustLoad(engines);
  t.same(fourth.initialState().hardState, { term: 6, vote: 2, commit: 8 });
  t.equal(fourth.lastIndex(), 9);
});

t.test('a shorter conflicting replacement deletes the stale tail', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({
    entries: [ent(6, 6), ent(7, 6), ent(8, 6), ent(9, 6), ent(10, 6)], hardState: { term: 6, vote: 1, commit: 6 },
  }));
  // A new leader of term 7 overwrites from index 8 with a single entry.
  await ps.saveReady(ready({ entries: [ent(8, 7, 'new')], hardState: { term: 7, vote: 2, commit: 6 } }));
  t.equal(ps.lastIndex(), 8, 'in memory: the tail is gone');
  t.equal(ps.term(8), 7);
  t.throws(() => ps.term(9), { code: 'UNAVAILABLE' });

  const raw8 = await engines.raft.get(keys.raftLogKey(REGION.id, 8));
  t.ok(raw8, 'entry 8 is stored');
  t.same(decodeEntry(raw8!).term, 7, 'entry 8 is the replacement');
  t.equal(await engines.raft.get(keys.raftLogKey(REGION.id, 9)), undefined, 'entry 9 deleted from raftdb');
  t.equal(await engines.raft.get(keys.raftLogKey(REGION.id, 10)), undefined, 'entry 10 deleted from raftdb');
  const [start, end] = keys.raftLogRange(REGION.id);
  const stored = (await engines.raft.scan({ start, end })).map(([k]) => keys.decodeRaftLogKey(k).index);
  t.same(stored, [6, 7, 8], 'raftdb holds exactly entries 6..8');

  const again = await mustLoad(engines);
  t.equal(again.lastIndex(), 8);
  t.same(again.entries(6, 9).map((e) => [e.index, e.term]), [[6, 6], [7, 6], [8, 7]]);
});

t.test('rocksdb: saved entries, hard state and a replaced tail survive close and reopen', async (t) => {
  const dir = tempDir(t, 'tinykv-peer-storage-');
  const open = async (): Promise<Engines> => ({
    raft: await openRocksEngine(join(dir, 'raftdb')), kv: await openRocksEngine(join(dir, 'kvdb')),
  });
  const e1 = await open();
  await bootstrapRegion(e1, REGION);
  const ps = await mustLoad(e1);
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6), ent(9, 6)], hardState: { term: 6, vote: 3, commit: 6 } }));
  await ps.saveReady(ready({ entries: [ent(7, 8, 'seven')], hardState: { term: 8, vote: 1, commit: 6 } }));
  await Promise.all([e1.raft.close(), e1.kv.close()]);

  const e2 = await open();
  t.teardown(() => Promise.all([e2.raft.close(), e2.kv.close()]));
  const again = await mustLoad(e2);
  t.equal(again.firstIndex(), 6);
  t.equal(again.lastIndex(), 7);
  t.same(again.initialState().hardState, { term: 8, vote: 1, commit: 6 });
  t.same(again.entries(6, 8).map((e) => [e.index, e.term, Buffer.from(e.data).toString()]), [[6, 6, 'e6t6'], [7, 8, 'seven']]);
  t.equal(await e2.raft.get(keys.raftLogKey(REGION.id, 8)), undefined, 'entry 8 deleted on disk');
  t.equal(await e2.raft.get(keys.raftLogKey(REGION.id, 9)), undefined, 'entry 9 deleted on disk');
});

// ---- corrupt or inconsistent state: a startup error, never a silent reset --------------

/** Bootstraps, saves entries 6..8 (term 6, commit 7), then lets `corrupt` damage it. */
async function corrupted(corrupt: (e: Engines) => Promise<void>): Promise<Engines> {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6)], hardState: { term: 6, vote: 1, commit: 7 } }));
  await corrupt(engines);
  return engines;
}

const corruptions: Array<{ name: string; corrupt: (e: Engines) => Promise<void>; message: RegExp }> = [
  {
    name: 'missing RaftApplyState',
    corrupt: (e) => write(e.kv, (wb) => wb.delete(keys.applyStateKey(REGION.id))),
    message: /RaftApplyState is missing/,
  },
  {
    name: 'missing RegionLocalState',
    corrupt: (e) => write(e.kv, (wb) => wb.delete(keys.regionStateKey(REGION.id))),
    message: /RegionLocalState is missing/,
  },
  {
    name: 'missing RaftLocalState while kvdb knows the region',
    corrupt: (e) => write(e.raft, (wb) => wb.delete(keys.raftStateKey(REGION.id))),
    message: /RaftLocalState is missing/,
  },
  {
    name: 'RegionLocalState names another region',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
      state: raft_serverpb.PeerState.Normal, region: regionToProto({ ...REGION, id: 9 }),
    }).finish())),
    message: /RegionLocalState names region 9/,
  },
  {
    name: 'undecodable RaftLocalState bytes',
    corrupt: (e) => write(e.raft, (wb) => wb.put(keys.raftStateKey(REGION.id), Buffer.of(0x0f, 0x01))),
    message: /RaftLocalState cannot be decoded/,
  },
  {
    name: 'undecodable RaftApplyState bytes',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), Buffer.of(0xff, 0xff, 0xff))),
    message: /RaftApplyState cannot be decoded/,
  },
  {
    name: 'undecodable log entry',
    corrupt: (e) => write(e.raft, (wb) => wb.put(keys.raftLogKey(REGION.id, 7), Buffer.of(0x08, 0xff))),
    message: /log entry cannot be decoded/,
  },
  {
    name: 'a gap in the log',
    corrupt: (e) => write(e.raft, (wb) => wb.delete(keys.raftLogKey(REGION.id, 7))),
    message: /gap.*expected entry 7, found 8/,
  },
  {
    name: 'the first entry after the truncated index is missing',
    corrupt: (e) => write(e.raft, (wb) => wb.delete(keys.raftLogKey(REGION.id, 6))),
    message: /gap.*expected entry 6, found 7/,
  },
  {
    name: 'last_index beyond the stored entries',
    corrupt: (e) => putRaftState(e, { term: 6, vote: 1, commit: 7 }, 10, 6),
    message: /entries up to 8.*says 10/,
  },
  {
    name: 'commit beyond the last index',
    corrupt: (e) => putRaftState(e, { term: 6, vote: 1, commit: 9 }, 8, 6),
    message: /commit index 9 is beyond the last index 8/,
  },
  {
    name: 'applied beyond the last index',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.applyStateKey(REGION.id),
      encodeApplyState({ appliedIndex: 9, truncatedIndex: 5, truncatedTerm: 5 }))),
    message: /applied index 9 is beyond the last index 8/,
  },
  {
    name: 'last_term disagrees with the log',
    corrupt: (e) => putRaftState(e, { term: 6, vote: 1, commit: 7 }, 8, 5),
    message: /last term 5/,
  },
  {
    name: 'hard state term below the last log term',
    corrupt: (e) => putRaftState(e, { term: 5, vote: 1, commit: 7 }, 8, 6),
    message: /hard state term 5 is below the last log term 6/,
  },
  {
    name: 'undecodable RegionLocalState bytes',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), Buffer.of(0xff, 0xff, 0xff))),
    message: /RegionLocalState cannot be decoded/,
  },
  {
    name: 'RegionLocalState without a region',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
      state: raft_serverpb.PeerState.Normal,
    }).finish())),
    message: /RegionLocalState has no region/,
  },
  {
    name: 'last_index below the truncated index',
    corrupt: (e) => putRaftState(e, { term: 6, vote: 1, commit: 4 }, 4, 5),
    message: /last index 4 is below the truncated index 5/,
  },
  {
    // Applied 6 < truncated 7 as well, but the commit is checked first and named.
    name: 'commit below the truncated index',
    corrupt: async (e) => {
      await putRaftState(e, { term: 6, vote: 1, commit: 6 }, 8, 6);
      await write(e.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState({ appliedIndex: 6, truncatedIndex: 7, truncatedTerm: 6 })));
    },
    message: /commit index 6 is below the truncated index 7/,
  },
  {
    name: 'applied below the truncated index',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.applyStateKey(REGION.id),
      encodeApplyState({ appliedIndex: 6, truncatedIndex: 7, truncatedTerm: 6 }))),
    message: /applied index 6 is below the truncated index/,
  },
  {
    name: 'a snapshot install that does not say which snapshot',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
      state: raft_serverpb.PeerState.Applying, region: regionToProto(REGION),
    }).finish())),
    message: /a snapshot is being applied but does not say which/,
  },
  {
    name: 'a snapshot install without the snapshot\'s descriptor',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
      state: raft_serverpb.PeerState.Applying, region: regionToProto(REGION), applying: { index: 50, term: 7, file_name: 'x.snap' },
    }).finish())),
    message: /a snapshot is being applied but does not say which/,
  },
  {
    // load() is given no SnapshotManager here, so the staged file cannot even be looked for.
    name: 'an interrupted snapshot install on a store with no snapshot directory',
    corrupt: (e) => write(e.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
      state: raft_serverpb.PeerState.Applying, region: regionToProto(REGION),
      applying: { index: 50, term: 7, file_name: 'x.snap', descriptor: { region: regionToProto(REGION), file_size: 0, checksum: 'a'.repeat(64), pair_count: 0 } },
    }).finish())),
    message: /interrupted, and this store has no snapshot directory/,
  },
];

for (const c of corruptions) {
  t.test(`corrupt state is a startup error: ${c.name}`, async (t) => {
    const engines = await corrupted(c.corrupt);
    const err: Error & { code?: string } = await PeerStorage.load(engines, STORE, REGION.id).then(
      (ps) => new Error(`load succeeded (last index ${ps?.lastIndex()}) instead of failing`),
      (e: unknown) => e as Error,
    );
    t.equal(err.code, 'CORRUPT_STATE', `code (${err.message})`);
    t.match(err.message, /store 1\b/, 'the message names the store');
    t.match(err.message, /region 1\b/, 'the message names the region');
    t.match(err.message, c.message, 'the message says what is wrong');
    // Nothing was reset: the region still fails to load the same way, it was not rebuilt.
    const second = await PeerStorage.load(engines, STORE, REGION.id).then(() => undefined, (e: Error) => e.message);
    t.equal(second, err.message, 'a second load fails the same way (no silent reset)');
  });
}

t.test('saveReady fsyncs entries and term/vote changes, not a commit index alone', async (t) => {
  const { engines, ps } = await bootstrapped();
  const syncs: boolean[] = [];
  const raft = engines.raft;
  const spy = Object.create(raft) as typeof raft;
  spy.write = (wb, opts) => { syncs.push(opts.sync); return raft.write(wb, opts); };
  const watched = await PeerStorage.load({ raft: spy, kv: engines.kv }, STORE, REGION.id);
  t.ok(watched && ps, 'loaded');
  await watched!.saveReady(ready({ hardState: { term: 6, vote: 0, commit: 5 } }));
  await watched!.saveReady(ready({ hardState: { term: 6, vote: 2, commit: 5 } }));
  await watched!.saveReady(ready({ entries: [ent(6, 6)], hardState: { term: 6, vote: 2, commit: 5 } }));
  await watched!.saveReady(ready({ hardState: { term: 6, vote: 2, commit: 6 } }));
  t.same(syncs, [true, true, true], 'new term, new vote, new entry synced; a commit alone not even written');
  const again = await mustLoad(engines);
  t.same(again.initialState().hardState, { term: 6, vote: 2, commit: 5 }, 'a restart learns the newer commit again');
});

t.test('an applied index ahead of the stored commit (commit lost unsynced) raises the commit', async (t) => {
  const engines = await corrupted((e) => write(e.kv, (wb) => wb.put(keys.applyStateKey(REGION.id),
    encodeApplyState({ appliedIndex: 8, truncatedIndex: 5, truncatedTerm: 5 }))));
  const ps = await mustLoad(engines);
  t.equal(ps.initialState().hardState.commit, 8, 'commit = applied, since applied entries were committed');
  t.equal(ps.lastIndex(), 8);
});

t.test('a crash inside bootstrapRegion (raftdb written, kvdb not) is redone, not a startup error', async (t) => {
  const engines = await memoryEngines();
  const kv = engines.kv;
  const crashing = Object.create(kv) as typeof kv;
  crashing.write = () => Promise.reject(new Error('power cut'));
  await t.rejects(bootstrapRegion({ raft: engines.raft, kv: crashing }, REGION), /power cut/);
  t.ok(await engines.raft.get(keys.raftStateKey(REGION.id)), 'raftdb got its initial state first');
  t.equal(await PeerStorage.load(engines, STORE, REGION.id), undefined, 'load says: not bootstrapped yet');
  await bootstrapRegion(engines, REGION);
  const ps = await mustLoad(engines);
  t.same([ps.firstIndex(), ps.lastIndex(), ps.region.id], [RAFT_INIT_LOG_INDEX + 1, RAFT_INIT_LOG_INDEX, REGION.id]);
});

t.test('raftdb past its initial state with an empty kvdb is still a startup error', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6)], hardState: { term: 6, vote: 1, commit: 5 } }));
  await write(engines.kv, (wb) => { wb.delete(keys.applyStateKey(REGION.id)); wb.delete(keys.regionStateKey(REGION.id)); });
  await t.rejects(PeerStorage.load(engines, STORE, REGION.id), { code: 'CORRUPT_STATE', message: /RaftApplyState is missing/ });
});

t.test('a bootstrapped region missing one kvdb state is a startup error, not an unfinished bootstrap', async (t) => {
  // raftdb still holds exactly the initial state: only a kvdb with neither state is a crash
  // inside bootstrapRegion; with one of them there, something deleted the other.
  for (const [key, message] of [
    [keys.applyStateKey(REGION.id), /RaftApplyState is missing/],
    [keys.regionStateKey(REGION.id), /RegionLocalState is missing/],
  ] as const) {
    const { engines } = await bootstrapped();
    await write(engines.kv, (wb) => wb.delete(key));
    await t.rejects(PeerStorage.load(engines, STORE, REGION.id), { code: 'CORRUPT_STATE', message }, message.source);
  }
});

t.test('an undecodable raftdb state with an empty kvdb is a startup error, not an unfinished bootstrap', async (t) => {
  // Only bytes that decode to the initial state show a crash inside bootstrapRegion.
  const engines = await memoryEngines();
  await write(engines.raft, (wb) => wb.put(keys.raftStateKey(REGION.id), Buffer.of(0x0f, 0x01)));
  await t.rejects(PeerStorage.load(engines, STORE, REGION.id), { code: 'CORRUPT_STATE', message: /RaftApplyState is missing/ });
});

t.test('an apply state with no truncated state loads as truncated at index 0, term 0', async (t) => {
  const engines = await memoryEngines();
  await writeUninitializedRegion(engines, REGION.id, { id: 4, storeId: STORE });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), raft_serverpb.RaftApplyState.encode({ applied_index: 0 }).finish()));
  const ps = await mustLoad(engines);
  t.same([ps.firstIndex(), ps.lastIndex(), ps.term(0)], [1, 0, 0]);
  t.same(ps.applyState, { appliedIndex: 0, truncatedIndex: 0, truncatedTerm: 0 });
});

t.test('compaction: setApplyState drops cached entries, deleteCompactedEntries clears raftdb, reload starts after it', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6), ent(9, 7)], hardState: { term: 7, vote: 1, commit: 9 } }));
  ps.setApplyState({ appliedIndex: 9, truncatedIndex: 7, truncatedTerm: 6 });
  t.same([ps.firstIndex(), ps.lastIndex(), ps.cachedEntryCount], [8, 9, 2]);
  t.equal(ps.term(7), 6, 'the truncated entry\'s term is still known');
  t.throws(() => ps.term(6), { code: 'COMPACTED' });
  t.throws(() => ps.entries(7, 9), { code: 'COMPACTED' });
  t.same(ps.entries(8, 10).map((e) => [e.index, e.term]), [[8, 6], [9, 7]]);
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  await ps.deleteCompactedEntries();
  const left = await (([start, end]) => engines.raft.scan({ start, end }))(keys.raftLogRange(REGION.id));
  t.same(left.map(([, v]) => decodeEntry(v).index), [8, 9], 'raftdb holds only the entries after the truncated index');
  // Appending after compaction keeps the index arithmetic right.
  await ps.saveReady(ready({ entries: [ent(10, 7)] }));
  await ps.saveReady(ready({ entries: [ent(10, 8), ent(11, 8)], hardState: { term: 8, vote: 2, commit: 9 } }));
  t.same(ps.entries(8, 12).map((e) => [e.index, e.term]), [[8, 6], [9, 7], [10, 8], [11, 8]]);
  const again = await mustLoad(engines);
  t.same([again.firstIndex(), again.lastIndex(), again.term(7), again.term(11)], [8, 11, 6, 8], 'a reload agrees');
});

t.test('entries left below the truncated index by a crash are ignored on load and deleted next time', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6)], hardState: { term: 6, vote: 1, commit: 8 } }));
  ps.setApplyState({ appliedIndex: 8, truncatedIndex: 7, truncatedTerm: 6 });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  // The crash: deleteCompactedEntries never ran.
  const reloaded = await mustLoad(engines);
  t.same([reloaded.firstIndex(), reloaded.lastIndex()], [8, 8]);
  await reloaded.deleteCompactedEntries();
  const left = await (([start, end]) => engines.raft.scan({ start, end }))(keys.raftLogRange(REGION.id));
  t.same(left.map(([, v]) => decodeEntry(v).index), [8]);
});

t.test('a Ready re-offering entries already compacted (a new leader\'s append raced a CompactLog) is saved correctly', async (t) => {
  // Follower: persists 6..10 (term 6) and applies a CompactLog up to 7; before advance, a
  // term-7 leader's append replaces 9.. so the raft core offers 6..9' again.
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6), ent(9, 6), ent(10, 6)], hardState: { term: 6, vote: 1, commit: 8 } }));
  ps.setApplyState({ appliedIndex: 8, truncatedIndex: 7, truncatedTerm: 6 });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6), ent(8, 6), ent(9, 7)], hardState: { term: 7, vote: 0, commit: 8 } }));
  t.same([ps.firstIndex(), ps.lastIndex(), ps.term(7), ps.term(8), ps.term(9)], [8, 9, 6, 6, 7]);
  t.same(ps.entries(8, 10).map((e) => [e.index, e.term]), [[8, 6], [9, 7]]);
  const again = await mustLoad(engines);
  t.same([again.firstIndex(), again.lastIndex(), again.term(9)], [8, 9, 7], 'a reload agrees; entry 10 of the old term is gone');
});

t.test('deleteCompactedEntries deletes only what earlier calls left', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [6, 7, 8, 9, 10].map((i) => ent(i, 6)), hardState: { term: 6, vote: 1, commit: 10 } }));
  const indexes = async () => (await (([start, end]) => engines.raft.scan({ start, end }))(keys.raftLogRange(REGION.id))).map(([, v]) => decodeEntry(v).index);
  ps.setApplyState({ appliedIndex: 10, truncatedIndex: 7, truncatedTerm: 6 });
  await ps.deleteCompactedEntries();
  t.same(await indexes(), [8, 9, 10]);
  ps.setApplyState({ appliedIndex: 10, truncatedIndex: 9, truncatedTerm: 6 });
  await ps.deleteCompactedEntries();
  t.same(await indexes(), [10]);
});

t.test('setApplyState: compacting to exactly the last index empties the cache; beyond it is refused and changes nothing', async (t) => {
  const { ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6, 'aa'), ent(7, 6, 'bbb'), ent(8, 6, 'c')], hardState: { term: 6, vote: 1, commit: 8 } }));
  t.throws(() => ps.setApplyState({ appliedIndex: 8, truncatedIndex: 9, truncatedTerm: 6 }), /compaction to 9 is beyond the last index 8/);
  t.same([ps.applyState.truncatedIndex, ps.firstIndex(), ps.lastIndex(), ps.cachedEntryCount, ps.logBytes], [5, 6, 8, 3, 6], 'nothing moved');
  ps.setApplyState({ appliedIndex: 8, truncatedIndex: 8, truncatedTerm: 6 });
  t.same([ps.firstIndex(), ps.lastIndex(), ps.term(8), ps.cachedEntryCount, ps.logBytes], [9, 8, 6, 0, 0]);
});

t.test('logBytes counts the payload of the cached entries through appends, a replaced tail and compaction', async (t) => {
  const { ps } = await bootstrapped();
  t.equal(ps.logBytes, 0);
  await ps.saveReady(ready({ entries: [ent(6, 6, 'a'), ent(7, 6, 'bb'), ent(8, 6, 'cccc')], hardState: { term: 6, vote: 1, commit: 6 } }));
  t.equal(ps.logBytes, 7, 'appended: 1 + 2 + 4');
  await ps.saveReady(ready({ entries: [ent(7, 7, 'dddddddd')], hardState: { term: 7, vote: 2, commit: 6 } }));
  t.equal(ps.logBytes, 9, 'entries 7 and 8 replaced by one of 8 bytes');
  ps.setApplyState({ appliedIndex: 6, truncatedIndex: 6, truncatedTerm: 6 });
  t.equal(ps.logBytes, 8, 'entry 6 compacted away');
  const again = await mustLoad((await bootstrapped()).engines);
  t.equal(again.logBytes, 0, 'a load of an empty log counts nothing');
});

t.test('a reload counts the bytes of the entries it loads', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6, 'abc'), ent(7, 6, 'de')], hardState: { term: 6, vote: 1, commit: 6 } }));
  t.equal((await mustLoad(engines)).logBytes, 5);
});

t.test('a Ready with neither entries nor a hard state writes nothing', async (t) => {
  const { engines } = await bootstrapped();
  let writes = 0;
  const raft = engines.raft;
  const spy = Object.create(raft) as typeof raft;
  spy.write = (wb, opts) => { writes++; return raft.write(wb, opts); };
  const ps = await mustLoad({ raft: spy, kv: engines.kv });
  await ps.saveReady(ready({}));
  t.equal(writes, 0);
  t.same([ps.lastIndex(), ps.initialState().hardState], [5, { term: 5, vote: 0, commit: 5 }]);
});

t.test('a Ready re-offering entries from exactly the truncated index saves only those after it', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [6, 7, 8, 9, 10].map((i) => ent(i, 6)), hardState: { term: 6, vote: 1, commit: 8 } }));
  ps.setApplyState({ appliedIndex: 8, truncatedIndex: 7, truncatedTerm: 6 });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  await ps.saveReady(ready({ entries: [ent(7, 6), ent(8, 6), ent(9, 7)], hardState: { term: 7, vote: 0, commit: 8 } }));
  t.same([ps.firstIndex(), ps.lastIndex(), ps.term(7), ps.term(9)], [8, 9, 6, 7]);
  t.same(ps.entries(8, 10).map((e) => [e.index, e.term]), [[8, 6], [9, 7]]);
  const again = await mustLoad(engines);
  t.same([again.firstIndex(), again.lastIndex(), again.term(9)], [8, 9, 7], 'a reload agrees');
});

t.test('a hard-state-only Ready after entries of a new term writes the log\'s last term, so a reload passes its check', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6)], hardState: { term: 6, vote: 1, commit: 5 } }));
  await ps.saveReady(ready({ hardState: { term: 7, vote: 2, commit: 5 } }));
  const again = await mustLoad(engines);
  t.same([again.lastIndex(), again.term(7), again.initialState().hardState], [7, 6, { term: 7, vote: 2, commit: 5 }]);
});

t.test('deleteCompactedEntries: not synced; each delete starts where the last ended, the first one at index 0', async (t) => {
  const { engines, ps: first } = await bootstrapped();
  await first.saveReady(ready({ entries: [6, 7, 8, 9, 10].map((i) => ent(i, 6)), hardState: { term: 6, vote: 1, commit: 10 } }));
  const deletes: Array<[number, number, boolean]> = [];
  const raft = engines.raft;
  const spy = Object.create(raft) as typeof raft;
  spy.write = (wb, opts) => {
    for (const op of wb.ops) {
      if (op.type === 'deleteRange') deletes.push([keys.decodeRaftLogKey(op.start).index, keys.decodeRaftLogKey(op.end).index, opts.sync]);
    }
    return raft.write(wb, opts);
  };
  const ps = await mustLoad({ raft: spy, kv: engines.kv });
  ps.setApplyState({ appliedIndex: 10, truncatedIndex: 7, truncatedTerm: 6 });
  await ps.deleteCompactedEntries();
  ps.setApplyState({ appliedIndex: 10, truncatedIndex: 9, truncatedTerm: 6 });
  await ps.deleteCompactedEntries();
  // From 0 after a load, for a crash's leftovers; then from 8, not over 0..7 again.
  t.same(deletes, [[0, 8, false], [8, 10, false]]);
});

// ---- writing and removing a region's states ---------------------------------------

/** Engines whose writes are recorded as [engine, sync, what the batch does] before they happen. */
function recording(engines: Engines): { engines: Engines; log: Array<[string, boolean, string]> } {
  const log: Array<[string, boolean, string]> = [];
  const wrap = (name: 'raft' | 'kv') => {
    const e = engines[name];
    const spy = Object.create(e) as typeof e;
    spy.write = (wb, opts) => {
      log.push([name, opts.sync, wb.ops.map((op) => op.type).join(',')]);
      return e.write(wb, opts);
    };
    return spy;
  };
  return { engines: { raft: wrap('raft'), kv: wrap('kv') }, log };
}

t.test('bootstrapRegion writes raftdb first, then kvdb, both synced', async (t) => {
  const { engines, log } = recording(await memoryEngines());
  await bootstrapRegion(engines, REGION);
  t.same(log, [['raft', true, 'put'], ['kv', true, 'put,put']]);
});

t.test('writeUninitializedRegion: no log, applied 0, a region naming only this peer as a learner at epoch 0; synced', async (t) => {
  const { engines, log } = recording(await memoryEngines());
  await writeUninitializedRegion(engines, 7, { id: 40, storeId: 4 as StoreId });
  t.same(log, [['kv', true, 'put,put'], ['raft', true, 'put']]);
  const ps = await PeerStorage.load(engines, 4 as StoreId, 7);
  if (!ps) throw new Error('not loaded');
  t.same(ps.initialState().hardState, { term: 0, vote: 0, commit: 0 });
  t.same([ps.firstIndex(), ps.lastIndex(), ps.term(0)], [1, 0, 0]);
  t.same(ps.applyState, { appliedIndex: 0, truncatedIndex: 0, truncatedTerm: 0 });
  t.equal(ps.region.id, 7);
  t.same(ps.region.epoch, { confVer: 0, version: 0 }, 'epoch 0: any snapshot of the region is newer');
  t.same(ps.region.peers, [{ id: 40, storeId: 4, learner: true }], 'only itself, as a learner: it never campaigns');
  t.same([ps.region.startKey.length, ps.region.endKey.length], [0, 0]);
  t.same(ps.initialState().confState.voters, [], 'no voters');
});

t.test('destroyRegion: the tombstone first, synced; then the data, sessions, apply state, raft state and log', async (t) => {
  const { engines, ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6)], hardState: { term: 6, vote: 1, commit: 7 } }));
  await write(engines.kv, (wb) => {
    wb.put(keys.dataKey('default', Buffer.from('k')), Buffer.from('v'));
    wb.put(keys.clientSessionKey(REGION.id, 9), keys.u64be(3));
  });
  const rec = recording(engines);
  await destroyRegion(rec.engines, REGION);
  t.same(rec.log.map(([e, sync]) => [e, sync]), [['kv', true], ['kv', true], ['raft', true]]);
  t.equal(rec.log[0]![2], 'put', 'the first write is the tombstone alone');
  const tomb = await readTombstone(engines, REGION.id);
  t.same(tomb && [tomb.id, tomb.peers.map((p) => p.storeId)], [REGION.id, [1, 2, 3]], 'the tombstone keeps the region it was removed from');
  t.equal(await engines.kv.get(keys.dataKey('default', Buffer.from('k'))), undefined, 'data deleted');
  t.equal(await engines.kv.get(keys.clientSessionKey(REGION.id, 9)), undefined, 'session deleted');
  t.equal(await engines.kv.get(keys.applyStateKey(REGION.id)), undefined, 'apply state deleted');
  t.equal(await engines.raft.get(keys.raftStateKey(REGION.id)), undefined, 'raft state deleted');
  const [start, end] = keys.raftLogRange(REGION.id);
  t.same(await engines.raft.scan({ start, end }), [], 'log deleted');
});

t.test('readTombstone: only a Tombstone state with its region is a tombstone', async (t) => {
  const { engines } = await bootstrapped();
  t.equal(await readTombstone(engines, 99), undefined, 'no state at all');
  t.equal(await readTombstone(engines, REGION.id), undefined, 'a Normal region');
  await write(engines.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
    state: raft_serverpb.PeerState.Tombstone,
  }).finish()));
  t.equal(await readTombstone(engines, REGION.id), undefined, 'a Tombstone without its region');
});

t.test('raftdb a field away from the initial state, with an empty kvdb, is a startup error, not an unfinished bootstrap', async (t) => {
  const initial = { hard_state: { term: 5, vote: 0, commit: 5 }, last_index: 5, last_term: 5 };
  const cases: Array<[string, raft_serverpb.IRaftLocalState]> = [
    ['last_index', { ...initial, last_index: 6 }],
    ['last_term', { ...initial, last_term: 6 }],
    ['term', { ...initial, hard_state: { term: 6, vote: 0, commit: 5 } }],
    ['vote', { ...initial, hard_state: { term: 5, vote: 1, commit: 5 } }],
    ['commit', { ...initial, hard_state: { term: 5, vote: 0, commit: 4 } }],
    ['no hard state', { last_index: 5, last_term: 5 }],
  ];
  for (const [name, st] of cases) {
    const engines = await memoryEngines();
    await write(engines.raft, (wb) => wb.put(keys.raftStateKey(REGION.id), raft_serverpb.RaftLocalState.encode(st).finish()));
    await t.rejects(PeerStorage.load(engines, STORE, REGION.id), { code: 'CORRUPT_STATE', message: /RaftApplyState is missing/ }, name);
  }
});

// ---- the raft Storage reads ---------------------------------------------------------

t.test('entries(): a range past the last index is unavailable; maxSize cuts the answer', async (t) => {
  const { ps } = await bootstrapped();
  await ps.saveReady(ready({ entries: [ent(6, 6, 'aaaa'), ent(7, 6, 'bbbb'), ent(8, 6, 'cccc')], hardState: { term: 6, vote: 1, commit: 6 } }));
  t.throws(() => ps.entries(6, 10), { code: 'UNAVAILABLE', message: /log index 9 is unavailable/ });
  t.same(ps.entries(6, 9, 8).map((e) => e.index), [6, 7], 'two entries fit in 8 bytes');
  t.same(ps.entries(7, 9).map((e) => e.index), [7, 8]);
  t.same(ps.entries(6, 8).map((e) => e.index), [6, 7], 'a range that ends inside the log stops at its end');
  t.same(ps.entries(7, 8).map((e) => e.index), [7]);
});

// ---- snapshots generated here ---------------------------------------------------------

const noTransport = { send: () => undefined, sendSnapshot: () => Promise.reject(new Error('no transport')) };

/**
 * A bootstrapped region with snapshot files. Each generation, once it has read the data,
 * waits until release() (so a test sees it running); offered() resolves when the next
 * generated snapshot has been taken by the storage and its background task has ended.
 */
async function snapshotting(t: { teardown(f: () => unknown): void }, logger: Logger = silentLogger, gated = true) {
  const root = tempDir(t, 'tinykv-ps-snap-');
  const files = await openSnapshotDir(root);
  let release!: () => void;
  let gate = new Promise<void>((r) => { release = r; });
  let waits = 0;
  const hook = () => { waits++; return gate; };
  const mgr = new SnapshotManager(files, noTransport, silentLogger, undefined, gated ? hook : undefined);
  let offer: (() => void) | undefined;
  const inner = mgr.onGenerated.bind(mgr);
  mgr.onGenerated = async (regionId, fileName) => { await inner(regionId, fileName); offer?.(); };
  const engines = await memoryEngines();
  await bootstrapRegion(engines, REGION);
  const ps = await PeerStorage.load(engines, STORE, REGION.id, mgr, logger);
  if (!ps) throw new Error('not loaded');
  return {
    engines, ps, files,
    release: () => { release(); },
    /** How many generations have waited on the gate (the whileGenerating hook). */
    waits: () => waits,
    /** Closes the gate again for the next generation. */
    regate: () => { gate = new Promise<void>((r) => { release = r; }); },
    offered: async () => {
      await new Promise<void>((r) => { offer = r; });
      // The storage's finally (generating = false) runs in the next microtasks.
      await new Promise((r) => setImmediate(r));
    },
  };
}

t.test('snapshot(): none yet is temporarily unavailable and starts one; once generated it is served, and generatedFile names its file', async (t) => {
  const { ps, release, offered, waits } = await snapshotting(t);
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  const done = offered();
  release();
  await done;
  t.equal(waits(), 1, 'the generation waited on the whileGenerating hook (the tests\' delay) before it was offered');
  const snap = ps.snapshot();
  t.same([snap.metadata.index, snap.metadata.term], [5, 5], 'at the applied index, with its term');
  const file = ps.generatedFile(5, 5);
  t.ok(file, 'the file of that snapshot');
  t.equal(ps.generatedFile(5, 4), undefined, 'not for another term');
  t.equal(ps.generatedFile(6, 5), undefined, 'not for another index');
});

t.test('without a whileGenerating hook (as in production) a generation runs straight through', async (t) => {
  let failed!: (msg: string) => void;
  const failure = new Promise<string>((r) => { failed = r; });
  const logger: Logger = { ...silentLogger, warn: (msg) => failed(msg) };
  const { ps, offered } = await snapshotting(t, logger, false);
  const done = offered().then(() => 'offered');
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  t.equal(await Promise.race([done, failure]), 'offered', 'generated, not failed');
  t.same([ps.snapshot().metadata.index, ps.snapshot().metadata.term], [5, 5]);
});

t.test('a snapshot generated above the truncated index takes the term of the applied entry from the log', async (t) => {
  const { engines, ps, release, offered } = await snapshotting(t);
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 7)], hardState: { term: 7, vote: 1, commit: 7 } }));
  ps.setApplyState({ appliedIndex: 7, truncatedIndex: 5, truncatedTerm: 5 });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  const done = offered();
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  release();
  await done;
  t.same([ps.snapshot().metadata.index, ps.snapshot().metadata.term], [7, 7]);
});

t.test('while a generation runs, snapshot() starts no second one, and snapshotHold is the applied index it started from', async (t) => {
  const { engines, ps, release, offered } = await snapshotting(t);
  t.equal(ps.snapshotHold(60_000), undefined, 'nothing generated or generating: no hold');
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  t.equal(ps.snapshotHold(60_000), 5);
  // Applying goes on meanwhile; a second request must not restart from the new point.
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6)], hardState: { term: 6, vote: 1, commit: 7 } }));
  ps.setApplyState({ appliedIndex: 7, truncatedIndex: 5, truncatedTerm: 5 });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  t.equal(ps.snapshotHold(60_000), 5, 'still the first generation\'s point');
  const done = offered();
  release();
  await done;
  t.equal(ps.snapshot().metadata.index, 5, 'the one generation started at 5');
});

t.test('snapshotHold: a generated snapshot holds the log at its index for freshMs after it was made, then not', async (t) => {
  const { ps, release, offered } = await snapshotting(t);
  const realNow = Date.now;
  t.teardown(() => { Date.now = realNow; });
  Date.now = () => 1_000_000;
  const done = offered();
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  release();
  await done;
  Date.now = () => 1_000_000 + 499;
  t.equal(ps.snapshotHold(500), 5, 'made 499 ms ago, fresh for 500');
  Date.now = () => 1_000_000 + 500;
  t.equal(ps.snapshotHold(500), undefined, 'made 500 ms ago: no longer held');
});

t.test('a generated snapshot is served until compaction passes it or the membership changes; peer order does not matter', async (t) => {
  const { engines, ps, release, regate, offered } = await snapshotting(t);
  // The snapshot takes its membership from kvdb's region: list its peers in another order there.
  const [p1, p2, p3] = REGION.peers;
  await write(engines.kv, (wb) => wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({
    state: raft_serverpb.PeerState.Normal, region: regionToProto({ ...REGION, peers: [p3!, p2!, p1!] }),
  }).finish()));
  let done = offered();
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  release();
  await done;
  t.same(ps.snapshot().metadata.confState.voters, [3, 2, 1], 'the snapshot lists the voters as kvdb does');
  t.equal(ps.snapshot().metadata.index, 5, 'at the truncated index, the same peers in another order: served');
  ps.region = { ...REGION, peers: [p2!, p3!, p1!] };
  t.equal(ps.snapshot().metadata.index, 5, 'and in a third order: served');
  regate();
  ps.region = { ...REGION, peers: [...REGION.peers, { id: 4, storeId: 4 as StoreId, learner: true }] };
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' }, 'a learner added: not served');
  ps.region = { ...REGION, peers: REGION.peers.map((p) => (p.id === 3 ? { ...p, learner: true } : p)) };
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' }, 'a voter demoted: not served');
  ps.region = { ...REGION, peers: REGION.peers.map((p) => (p.id === 3 ? { id: 4, storeId: 4 as StoreId, learner: false } : p)) };
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' }, 'a voter replaced by another, as many voters: not served');
  ps.region = REGION;
  // Let the generation those calls started finish before compacting.
  done = offered();
  release();
  await done;
  await ps.saveReady(ready({ entries: [ent(6, 6), ent(7, 6)], hardState: { term: 6, vote: 1, commit: 7 } }));
  ps.setApplyState({ appliedIndex: 7, truncatedIndex: 6, truncatedTerm: 6 });
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), encodeApplyState(ps.applyState)));
  regate();
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' }, 'compacted past it: not served');
  done = offered();
  release();
  await done;
  t.equal(ps.snapshot().metadata.index, 7, 'the new one, from the new applied index');
});

t.test('a failed generation is logged, and the next snapshot() starts another', async (t) => {
  const warned: string[] = [];
  let failed: (() => void) | undefined;
  const logger: Logger = { ...silentLogger, warn: (msg) => { warned.push(msg); failed?.(); } };
  const { engines, ps, release, offered } = await snapshotting(t, logger);
  const apply = await engines.kv.get(keys.applyStateKey(REGION.id));
  // Without an apply state in kvdb there is no point to take the snapshot at.
  await write(engines.kv, (wb) => wb.delete(keys.applyStateKey(REGION.id)));
  const failure = new Promise<void>((r) => { failed = r; });
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' });
  await failure;
  await new Promise((r) => setImmediate(r));
  t.same(warned, ['snapshot generation failed; will retry']);
  t.equal(ps.snapshotHold(60_000), undefined, 'no longer generating');
  await write(engines.kv, (wb) => wb.put(keys.applyStateKey(REGION.id), apply!));
  const done = offered();
  t.throws(() => ps.snapshot(), { code: 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' }, 'starts again');
  release();
  await done;
  t.equal(ps.snapshot().metadata.index, 5);
});
