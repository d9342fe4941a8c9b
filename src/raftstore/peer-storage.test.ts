// PeerStorage: bootstrap, persisting Readys (entries, hard state, conflicting tails),
// reloading after a restart, and refusing to start on corrupt or inconsistent state.
// Most cases run on the in-memory engine; one runs on RocksDB across close and reopen.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import * as keys from '../engine/keys.js';
import { WriteBatch } from '../engine/kv-engine.js';
import { openMemoryEngine } from '../engine/memory-engine.js';
import { openRocksEngine } from '../engine/rocksdb-engine.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Entry, HardState, Ready } from '../raft/index.js';
import { decodeEntry } from './codec.js';
import type { StoreId } from './ids.js';
import type { Engines } from './peer-storage.js';
import { bootstrapRegion, encodeApplyState, PeerStorage, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from './peer-storage.js';
import { initialRegion, regionToProto } from './region.js';

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
  const dir = await mkdtemp(join(tmpdir(), 'tinykv-peer-storage-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
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
