// Generating a snapshot from one store's engines and installing it on another's, and a
// crash at every point of the install: after a restart (PeerStorage.load on what the
// engines hold) the region is either entirely the old one or entirely the snapshot's —
// data, client sessions, apply state, raft state — never a mix. The deliberate bug
// installWithoutIntent (no Applying intent) is shown to leave a mix that the same check
// catches. Last, the hard state across an install: a vote is kept while the term is, and
// survives a restart even when no Ready after the install writes the hard state again.

import { join } from 'node:path';
import t from 'tap';
import { keys } from '../engine/index.js';
import { WriteBatch } from '../engine/index.js';
import { openMemoryEngine } from '../engine/index.js';
import { openSnapshotDir } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Entry, HardState, Ready, Snapshot } from '../raft/index.js';
import { silentLogger } from '../raft/index.js';
import type { StoreId } from './ids.js';
import type { Engines } from './peer-storage.js';
import { bootstrapRegion, encodeApplyState, PeerStorage } from './peer-storage.js';
import { SessionTable } from './session-table.js';
import { confStateOf, initialRegion } from './region.js';
import type { SnapshotDescriptor } from './snapshot-data.js';
import { encodeDescriptor } from './snapshot-data.js';
import { SnapshotEncoder } from './snapshot-format.js';
import { generateSnapshot } from './snapshot-generate.js';
import type { SnapshotFiles } from './snapshot-files.js';
import { generatedName, receivedName } from './snapshot-files.js';
import type { InstallHooks } from './snapshot-install.js';
import { SnapshotManager } from './snapshot-manager.js';
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from './store.js';
import { tempDir } from '../../test/support/temp-dir.js';

const REGION = initialRegion([1, 2, 3] as StoreId[]);
const SNAP_INDEX = 50;
const SNAP_TERM = 7;
const noTransport = { send: () => undefined, sendSnapshot: () => Promise.reject(new Error('no transport')) };

async function dirs(t: Tap): Promise<() => Promise<SnapshotFiles>> {
  const root = tempDir(t, 'tinykv-snap-');
  let n = 0;
  return () => openSnapshotDir(join(root, `d${n++}`));
}
type Tap = { teardown(f: () => unknown): void };

/** Engines of a bootstrapped region holding `data` (user key → value) and one client session, applied at `applied`. */
async function storeWith(data: Record<string, string>, session: [number, number], applied: number, term: number): Promise<Engines> {
  const engines = { raft: await openMemoryEngine(), kv: await openMemoryEngine() };
  await bootstrapRegion(engines, REGION);
  const wb = new WriteBatch();
  for (const [k, v] of Object.entries(data)) wb.put(keys.dataKey('default', Buffer.from(k)), Buffer.from(v));
  wb.put(keys.clientSessionKey(REGION.id, session[0]), keys.u64be(session[1]));
  wb.put(keys.applyStateKey(REGION.id), encodeApplyState({ appliedIndex: applied, truncatedIndex: applied, truncatedTerm: term }));
  await engines.kv.write(wb, { sync: true });
  const raftWb = new WriteBatch();
  raftWb.put(keys.raftStateKey(REGION.id), raft_serverpb.RaftLocalState.encode({
    hard_state: { term, vote: 0, commit: applied }, last_index: applied, last_term: term,
  }).finish());
  await engines.raft.write(raftWb, { sync: true });
  return engines;
}

const OLD = { a: 'old-a', b: 'old-b', stale: 'only-in-old' };
const NEW = { a: 'new-a', b: 'new-b', big: 'x'.repeat(5000), c: 'new-c' }; // in key order

async function dataOf(e: Engines): Promise<Record<string, string>> {
  const [start, end] = keys.dataRange('default', new Uint8Array(), new Uint8Array());
  const out: Record<string, string> = {};
  for (const [k, v] of await e.kv.scan({ start, end })) out[keys.decodeDataKey(k).key.toString()] = v.toString();
  return out;
}

/** What a restarted store finds: 'old', 'new', or a description of the mix. */
async function classify(e: Engines, files: SnapshotFiles): Promise<string> {
  const mgr = new SnapshotManager(files, noTransport, silentLogger);
  const ps = await PeerStorage.load(e, 1 as StoreId, REGION.id, mgr);
  if (!ps) return 'not loaded';
  const data = JSON.stringify(await dataOf(e));
  const sessions = JSON.stringify([...(await SessionTable.load(e.kv, REGION.id)).rows].map(([id, r]) => [id, r.sequence]));
  const apply = ps.applyState.appliedIndex;
  const isOld = data === JSON.stringify(OLD) && sessions === JSON.stringify([[7, 3]]) && apply === 10 && ps.lastIndex() === 10;
  const isNew = data === JSON.stringify(NEW) && sessions === JSON.stringify([[9, 42]]) && apply === SNAP_INDEX &&
    ps.lastIndex() === SNAP_INDEX && ps.term(SNAP_INDEX) === SNAP_TERM && ps.initialState().hardState.commit >= SNAP_INDEX;
  if (isOld) return 'old';
  if (isNew) return 'new';
  return `mixed: applied ${apply}, last ${ps.lastIndex()}, keys ${Object.keys(JSON.parse(data) as object).join(',')}, sessions ${sessions}`;
}

async function setup(t: Tap): Promise<{ dst: Engines; dstFiles: SnapshotFiles; install: (hooks: InstallHooks) => Promise<PeerStorage> }> {
  const mk = await dirs(t);
  const srcFiles = await mk();
  const dstFiles = await mk();
  const src = await storeWith(NEW, [9, 42], SNAP_INDEX, SNAP_TERM);
  const g = await generateSnapshot({ kv: src.kv, files: srcFiles, regionId: REGION.id, termOf: () => undefined });
  t.teardown(() => undefined);
  // Stage it on the receiver, as the transport would.
  const reader = await srcFiles.open(g.fileName);
  const writer = await dstFiles.create(receivedName(REGION.id, SNAP_INDEX, SNAP_TERM));
  for (let c = await reader.read(1024); c; c = await reader.read(1024)) await writer.write(c);
  await writer.finish();
  await reader.close();
  const dst = await storeWith(OLD, [7, 3], 10, 3);
  const install = async (hooks: InstallHooks) => {
    const ps = (await PeerStorage.load(dst, 1 as StoreId, REGION.id, new SnapshotManager(dstFiles, noTransport, silentLogger)))!;
    await ps.installSnapshot(g.snapshot, hooks);
    return ps;
  };
  return { dst, dstFiles, install };
}

t.test('a generated snapshot carries the data, the sessions and the point it was taken at', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  t.equal(await classify(dst, dstFiles), 'old', 'before: the old region');
  await install({});
  t.equal(await classify(dst, dstFiles), 'new', 'after: exactly the snapshot\'s region');
  t.same(await dstFiles.list(), [], 'the staged file is removed');
});

for (const step of ['intent', 'data', 'raft', 'normal'] as const) {
  t.test(`a crash after the install step "${step}" leaves the old region or the new one, never a mix`, async (t) => {
    const { dst, dstFiles, install } = await setup(t);
    await t.rejects(install({ at: (s) => { if (s === step) throw new Error(`crash at ${s}`); } }), /crash/);
    t.equal(await classify(dst, dstFiles), 'new', 'the restart finishes the install from the staged file');
    // The store's start-up cleanup removes what is left (after "normal", the file itself).
    await new SnapshotManager(dstFiles, noTransport, silentLogger).cleanup(new Set());
    t.same(await dstFiles.list(), [], 'and no file is left');
  });
}

t.test('installWithoutIntent (a planted bug): a crash mid-install leaves a mix, and the check sees it', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  await t.rejects(install({ skipIntent: true, at: (s) => { if (s === 'data') throw new Error('crash'); } }), /crash/);
  t.match(await classify(dst, dstFiles), /^mixed: applied 10/, 'the old apply state over the new data');
});

t.test('a staged file that is damaged or missing stops the install loudly', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  const name = receivedName(REGION.id, SNAP_INDEX, SNAP_TERM);
  const reader = await dstFiles.open(name);
  const bytes = Buffer.from((await reader.read(1 << 20))!);
  await reader.close();
  bytes[bytes.length - 20] ^= 0xff; // inside the last pair, so the count still matches
  const w = await dstFiles.create(name);
  await w.write(bytes.subarray(0, bytes.length - 5)); // and truncated
  await w.finish();
  await t.rejects(install({}), /snapshot/, 'a damaged file is refused');
  await dstFiles.remove(name);
  await t.rejects(PeerStorage.load(dst, 1 as StoreId, REGION.id, new SnapshotManager(dstFiles, noTransport, silentLogger)),
    { code: 'CORRUPT_STATE', message: /staged file .* is gone/ }, 'an interrupted install whose file is gone refuses to start');
});

// ---- the hard state across an install: a vote once given is never forgotten ------------

/** Overwrites the receiver's hard state (its log still ends at (10, 3)), as if it had voted since. */
async function putHardState(e: Engines, hs: HardState): Promise<void> {
  const wb = new WriteBatch();
  wb.put(keys.raftStateKey(REGION.id), raft_serverpb.RaftLocalState.encode({ hard_state: hs, last_index: 10, last_term: 3 }).finish());
  await e.raft.write(wb, { sync: true });
}

function ready(o: { entries?: Entry[]; hardState?: HardState }): Ready {
  return { entries: o.entries ?? [], committedEntries: [], messages: [], readStates: [], ...(o.hardState ? { hardState: o.hardState } : {}) };
}

async function hardStateAfterRestart(e: Engines, files: SnapshotFiles): Promise<HardState> {
  const ps = await PeerStorage.load(e, 1 as StoreId, REGION.id, new SnapshotManager(files, noTransport, silentLogger));
  return ps!.initialState().hardState;
}

// The Ready that carries a snapshot moves only the commit index when the snapshot's term is not
// above the voter's, and saveReady writes nothing for such a Ready: the vote on disk is then the
// one the install itself wrote. Were it lost, a restarted store could vote again in the same
// term, for another candidate, and elect a second leader.
for (const votedTerm of [SNAP_TERM, SNAP_TERM + 1]) {
  t.test(`a vote given in term ${votedTerm} survives installing a snapshot of term ${SNAP_TERM} and a restart`, async (t) => {
    const { dst, dstFiles, install } = await setup(t);
    await putHardState(dst, { term: votedTerm, vote: 2, commit: 10 });
    const ps = await install({});
    t.same(ps.initialState().hardState, { term: votedTerm, vote: 2, commit: SNAP_INDEX }, 'in memory');
    await ps.saveReady(ready({ hardState: { term: votedTerm, vote: 2, commit: SNAP_INDEX } }));
    t.same(await hardStateAfterRestart(dst, dstFiles), { term: votedTerm, vote: 2, commit: SNAP_INDEX }, 'term and vote kept, commit at the snapshot');
  });
}

t.test('after an install the hard state in memory is the one on disk, so a later write keeps the vote', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  await putHardState(dst, { term: SNAP_TERM, vote: 2, commit: 10 });
  const ps = await install({});
  t.same(ps.initialState().hardState, { term: SNAP_TERM, vote: 2, commit: SNAP_INDEX }, 'in memory');
  // A Ready with entries and no hard state writes the in-memory one along with them.
  await ps.saveReady(ready({ entries: [{ index: SNAP_INDEX + 1, term: SNAP_TERM, type: 'normal', data: Buffer.from('e') }] }));
  t.same(await hardStateAfterRestart(dst, dstFiles), { term: SNAP_TERM, vote: 2, commit: SNAP_INDEX }, 'on disk after the next write');
});

t.test('a crash before the raft state is reset still keeps the vote: the restart finishes the install', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  await putHardState(dst, { term: SNAP_TERM + 1, vote: 2, commit: 10 });
  await t.rejects(install({ at: (s) => { if (s === 'data') throw new Error('crash'); } }), /crash/);
  t.same(await hardStateAfterRestart(dst, dstFiles), { term: SNAP_TERM + 1, vote: 2, commit: SNAP_INDEX });
});

t.test('a restart that finishes an interrupted install warns, naming the region, the index and the staged file', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  await t.rejects(install({ at: (s) => { if (s === 'data') throw new Error('crash'); } }), /crash/);
  // An operator reading the log after a crash must see that the restart did more than load.
  const warned: Array<[string, unknown]> = [];
  const logger = { ...silentLogger, warn: (msg: string, fields?: unknown) => { warned.push([msg, fields]); } };
  const mgr = new SnapshotManager(dstFiles, noTransport, silentLogger);
  const ps = await PeerStorage.load(dst, 1 as StoreId, REGION.id, mgr, logger);
  t.equal(ps?.applyState.appliedIndex, SNAP_INDEX, 'the install was finished');
  t.same(warned, [['finishing a snapshot install a restart interrupted',
    { regionId: REGION.id, index: SNAP_INDEX, file: receivedName(REGION.id, SNAP_INDEX, SNAP_TERM) }]]);
  t.same([mgr.snapshotStats().installed, mgr.snapshotStats().lastInstalledIndex], [1, SNAP_INDEX], 'counted as an install');
});

// A vote belongs to its term: in the snapshot's later term this store has voted for nobody.
t.test('a snapshot of a term above the hard state\'s takes that term with no vote, durably', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  await putHardState(dst, { term: SNAP_TERM - 1, vote: 2, commit: 10 });
  const ps = await install({});
  t.same(ps.initialState().hardState, { term: SNAP_TERM, vote: 0, commit: SNAP_INDEX }, 'in memory');
  await ps.saveReady(ready({ hardState: { term: SNAP_TERM, vote: 0, commit: SNAP_INDEX } }));
  t.same(await hardStateAfterRestart(dst, dstFiles), { term: SNAP_TERM, vote: 0, commit: SNAP_INDEX }, 'after a restart');
});

// ---- what the install refuses, and what it syncs -----------------------------------------

/**
 * Stages, under the name the transport would use, a file of exactly these kvdb pairs, and
 * returns the raft Snapshot that describes it; `lie` overrides fields of its descriptor.
 */
async function stageCrafted(files: SnapshotFiles, pairs: Array<[Buffer, Buffer]>, lie: Partial<SnapshotDescriptor> = {}): Promise<Snapshot> {
  const enc = new SnapshotEncoder();
  const w = await files.create(receivedName(REGION.id, SNAP_INDEX, SNAP_TERM));
  for (const [k, v] of pairs) {
    const chunk = enc.add(k, v);
    if (chunk) await w.write(chunk);
  }
  await w.write(enc.finish());
  const { size, checksum } = await w.finish();
  const d: SnapshotDescriptor = { region: REGION, fileSize: size, checksum, pairCount: enc.count, ...lie };
  return { metadata: { index: SNAP_INDEX, term: SNAP_TERM, confState: confStateOf(REGION) }, data: encodeDescriptor(d) };
}

async function installOn(e: Engines, files: SnapshotFiles, snap: Snapshot): Promise<void> {
  const ps = await PeerStorage.load(e, 1 as StoreId, REGION.id, new SnapshotManager(files, noTransport, silentLogger));
  await ps!.installSnapshot(snap);
}

const userPair = (k: string, v: string): [Buffer, Buffer] => [keys.dataKey('default', Buffer.from(k)), Buffer.from(v)];

t.test('a staged file whose size is not the descriptor\'s is refused before anything is ingested', async (t) => {
  const { dst, dstFiles } = await setup(t);
  const snap = await stageCrafted(dstFiles, [userPair('a', 'new-a')], { fileSize: 1 });
  await t.rejects(installOn(dst, dstFiles, snap), { code: 'SNAPSHOT_FORMAT', message: /bytes, expected 1\b/ });
});

t.test('a staged file holding a pair count other than the descriptor\'s is refused', async (t) => {
  const { dst, dstFiles } = await setup(t);
  const snap = await stageCrafted(dstFiles, [userPair('a', 'new-a'), userPair('b', 'new-b')], { pairCount: 3 });
  await t.rejects(installOn(dst, dstFiles, snap), { code: 'SNAPSHOT_FORMAT', message: /holds 2 pairs, its descriptor says 3/ });
});

// Ingest writes a big file in several kvdb batches; the pairs of every batch must land.
t.test('a snapshot bigger than one ingest batch installs every pair', async (t) => {
  const { dst, dstFiles } = await setup(t);
  const big = (i: number) => String(i).repeat(1024 * 1024); // 6 MiB in all, over the 4 MiB batch
  const snap = await stageCrafted(dstFiles, [1, 2, 3, 4, 5, 6].map((i) => userPair(`k${i}`, big(i))));
  await installOn(dst, dstFiles, snap);
  const data = await dataOf(dst);
  t.same(Object.keys(data), ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
  t.ok([1, 2, 3, 4, 5, 6].every((i) => data[`k${i}`] === big(i)), 'every value whole');
});

// A snapshot may replace only the region's state machine: a pair outside it (here the
// region's apply state, which says how far the log is applied) would corrupt the store.
t.test('a staged file holding a key outside the region\'s state machine is refused, naming the key', async (t) => {
  const { dst, dstFiles } = await setup(t);
  const outside = Buffer.from(keys.applyStateKey(REGION.id));
  const snap = await stageCrafted(dstFiles, [[outside, Buffer.from(encodeApplyState({ appliedIndex: 99, truncatedIndex: 99, truncatedTerm: 9 }))]]);
  await t.rejects(installOn(dst, dstFiles, snap), {
    code: 'SNAPSHOT_FORMAT', message: new RegExp(`key outside region ${REGION.id}: ${outside.toString('hex')}$`),
  });
});

/** The files, with a count of the readers opened and not yet closed. */
function countingOpen(files: SnapshotFiles): { files: SnapshotFiles; open: () => number } {
  let open = 0;
  const counting = Object.create(files) as SnapshotFiles;
  counting.open = async (name) => {
    const r = await files.open(name);
    open++;
    return { size: r.size, read: (n) => r.read(n), close: () => { open--; return r.close(); } };
  };
  return { files: counting, open: () => open };
}

t.test('the staged file is closed after an install, and after a refused one', async (t) => {
  for (const pairCount of [1, 2]) {
    const { dst, dstFiles } = await setup(t);
    const c = countingOpen(dstFiles);
    const snap = await stageCrafted(dstFiles, [userPair('a', 'new-a')], { pairCount });
    const outcome = await installOn(dst, c.files, snap).then(() => 'installed', () => 'refused');
    t.equal(outcome, pairCount === 1 ? 'installed' : 'refused');
    t.equal(c.open(), 0, `closed once ${outcome}`);
  }
});

// Raft restores only a snapshot beyond its commit index; a raft state that says otherwise
// must stop the install rather than move the commit index back.
t.test('an install below the stored commit index is refused', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  const ps = (await PeerStorage.load(dst, 1 as StoreId, REGION.id))!;
  const entries = Array.from({ length: 60 - 10 }, (_, i): Entry => ({ index: 11 + i, term: 3, type: 'normal', data: Buffer.from('e') }));
  await ps.saveReady(ready({ entries, hardState: { term: 3, vote: 0, commit: 60 } }));
  await t.rejects(install({}), /snapshot at 50 is below the commit index 60/);
  t.ok(await dstFiles.exists(receivedName(REGION.id, SNAP_INDEX, SNAP_TERM)), 'the staged file is kept');
});

t.test('a restart that finishes an install rebuilds a raft state raftdb does not have: the snapshot\'s term, no vote', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  await t.rejects(install({ at: (s) => { if (s === 'intent') throw new Error('crash'); } }), /crash/);
  const wb = new WriteBatch();
  wb.delete(keys.raftStateKey(REGION.id));
  await dst.raft.write(wb, { sync: true });
  t.same(await hardStateAfterRestart(dst, dstFiles), { term: SNAP_TERM, vote: 0, commit: SNAP_INDEX });
});

// What a restart reads to decide old or new (region state, apply state, raft state) must be on
// disk before the next step; the data batches in between are made durable by the last sync.
t.test('every write of the region, apply or raft state during an install is synced', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  const stateKeys = [keys.regionStateKey(REGION.id), keys.applyStateKey(REGION.id), keys.raftStateKey(REGION.id)].map((k) => Buffer.from(k).toString('hex'));
  const writes: Array<{ sync: boolean; state: boolean }> = [];
  for (const engine of [dst.kv, dst.raft]) {
    const write = engine.write.bind(engine);
    engine.write = (wb, opts) => {
      writes.push({ sync: opts.sync, state: wb.ops.some((op) => 'key' in op && stateKeys.includes(Buffer.from(op.key).toString('hex'))) });
      return write(wb, opts);
    };
  }
  await install({});
  t.equal(await classify(dst, dstFiles), 'new');
  const stateWrites = writes.filter((w) => w.state);
  t.equal(stateWrites.length, 3, 'the intent, the raft state, the Normal state');
  t.ok(stateWrites.every((w) => w.sync), 'all synced');
});

// ---- generation: the point a snapshot is taken at, and what a failure leaves ---------------

/** Counts the engine snapshots (point-in-time views) taken of `kv` and not yet released. */
function countingViews(kv: Engines['kv']): { kv: Engines['kv']; held: () => number } {
  let held = 0;
  const counting = Object.create(kv) as Engines['kv'];
  counting.snapshot = async () => {
    const view = await kv.snapshot();
    held++;
    return { get: (k) => view.get(k), scan: (o) => view.scan(o), release: () => { held--; return view.release(); } };
  };
  return { kv: counting, held: () => held };
}

// Above the truncated index the applied entry is still in the log, and its term comes from there.
t.test('a snapshot taken above the truncated index has the term of the applied entry in the log', async (t) => {
  const files = await (await dirs(t))();
  const src = await storeWith(NEW, [9, 42], SNAP_INDEX, SNAP_TERM);
  const wb = new WriteBatch();
  wb.put(keys.applyStateKey(REGION.id), encodeApplyState({ appliedIndex: SNAP_INDEX, truncatedIndex: 40, truncatedTerm: 6 }));
  await src.kv.write(wb, { sync: true });
  const asked: number[] = [];
  const g = await generateSnapshot({ kv: src.kv, files, regionId: REGION.id, termOf: (i) => { asked.push(i); return i === SNAP_INDEX ? 8 : undefined; } });
  t.same(asked, [SNAP_INDEX], 'the log is asked for the applied index');
  t.same([g.snapshot.metadata.index, g.snapshot.metadata.term], [SNAP_INDEX, 8]);
  t.same([...g.snapshot.metadata.confState.voters].sort(), [1, 2, 3], 'the voters of the region');
  t.equal(g.fileName, generatedName(REGION.id, SNAP_INDEX, 8));
  t.same(await files.list(), [g.fileName]);
});

t.test('a generation whose applied entry has left the log fails, and leaves no file', async (t) => {
  const files = await (await dirs(t))();
  const src = await storeWith(NEW, [9, 42], SNAP_INDEX, SNAP_TERM);
  const wb = new WriteBatch();
  wb.put(keys.applyStateKey(REGION.id), encodeApplyState({ appliedIndex: SNAP_INDEX, truncatedIndex: 40, truncatedTerm: 6 }));
  await src.kv.write(wb, { sync: true });
  const v = countingViews(src.kv);
  await t.rejects(generateSnapshot({ kv: v.kv, files, regionId: REGION.id, termOf: () => undefined }), /term of applied index 50 is no longer in the log/);
  t.same(await files.list(), []);
  t.equal(v.held(), 0, 'the engine snapshot is released');
});

t.test('a generation of a region this store does not hold fails', async (t) => {
  const files = await (await dirs(t))();
  const empty = await openMemoryEngine();
  await t.rejects(generateSnapshot({ kv: empty, files, regionId: REGION.id, termOf: () => undefined }), /region 1: no apply or region state/);
  const src = await storeWith(NEW, [9, 42], SNAP_INDEX, SNAP_TERM);
  for (const gone of [keys.applyStateKey(REGION.id), keys.regionStateKey(REGION.id)]) {
    const kv = Object.create(src.kv) as Engines['kv'];
    kv.snapshot = async () => {
      const view = await src.kv.snapshot();
      return { get: async (k) => (Buffer.from(k).equals(Buffer.from(gone)) ? undefined : view.get(k)), scan: (o) => view.scan(o), release: () => view.release() };
    };
    await t.rejects(generateSnapshot({ kv, files, regionId: REGION.id, termOf: () => undefined }), /no apply or region state/);
  }
  const wb = new WriteBatch();
  wb.put(keys.regionStateKey(REGION.id), raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Normal }).finish());
  await src.kv.write(wb, { sync: true });
  await t.rejects(generateSnapshot({ kv: src.kv, files, regionId: REGION.id, termOf: () => undefined }), /region 1: region state without a region/);
  t.same(await files.list(), [], 'no file');
});

t.test('a generation that fails while reading leaves no file, partial or complete, and releases its view', async (t) => {
  const files = await (await dirs(t))();
  const src = await storeWith(NEW, [9, 42], SNAP_INDEX, SNAP_TERM);
  const v = countingViews(src.kv);
  const failing = Object.create(v.kv) as Engines['kv'];
  failing.snapshot = async () => {
    const view = await v.kv.snapshot();
    return { ...view, get: (k) => view.get(k), scan: () => Promise.reject(new Error('disk read error')), release: () => view.release() };
  };
  await t.rejects(generateSnapshot({ kv: failing, files, regionId: REGION.id, termOf: () => undefined }), /disk read error/);
  t.same(await files.list(), []);
  t.equal(v.held(), 0, 'released');
  await generateSnapshot({ kv: v.kv, files, regionId: REGION.id, termOf: () => undefined });
  t.equal(v.held(), 0, 'released after a success too');
});

// The encoder hands out a chunk per MiB or so; each must reach the file.
t.test('a generated snapshot of several MiB carries every pair to the receiver', async (t) => {
  const mk = await dirs(t);
  const srcFiles = await mk();
  const dstFiles = await mk();
  const data: Record<string, string> = {};
  for (let i = 1; i <= 3; i++) data[`k${i}`] = String(i).repeat(1024 * 1024);
  const src = await storeWith(data, [9, 42], SNAP_INDEX, SNAP_TERM);
  const dst = await storeWith(OLD, [7, 3], 10, 3);
  await installOn(dst, dstFiles, await generateAndStage(src, srcFiles, dstFiles));
  t.same(await dataOf(dst), data);
});

/** Generates a snapshot of `src` and stages its file on the receiver, as the transport would. */
async function generateAndStage(src: Engines, srcFiles: SnapshotFiles, dstFiles: SnapshotFiles): Promise<Snapshot> {
  const g = await generateSnapshot({ kv: src.kv, files: srcFiles, regionId: REGION.id, termOf: () => undefined });
  const reader = await srcFiles.open(g.fileName);
  const writer = await dstFiles.create(receivedName(REGION.id, SNAP_INDEX, SNAP_TERM));
  for (let c = await reader.read(1 << 20); c; c = await reader.read(1 << 20)) await writer.write(c);
  await writer.finish();
  await reader.close();
  return g.snapshot;
}

t.test('edge keys and values cross a snapshot byte for byte: one-byte keys 0x00 and 0xff, all-0xff keys (their prefix has no end), the largest key and value', async (t) => {
  const mk = await dirs(t);
  const srcFiles = await mk();
  const dstFiles = await mk();
  // Every byte value in the largest value, in an order that shows a shift or a truncation.
  const largest = Buffer.alloc(DEFAULT_MAX_VALUE_BYTES, Uint8Array.from({ length: 256 }, (_, i) => (i * 31 + 7) & 0xff));
  const pairs: Array<[Buffer, Buffer]> = [
    [Buffer.of(0x00), Buffer.from('zero')],
    [Buffer.alloc(DEFAULT_MAX_KEY_BYTES, 0x00), Buffer.from('longest zeros')],
    [Buffer.of(0xff), Buffer.from('one ff')],
    [Buffer.of(0xff, 0xff), Buffer.from('two ff')],
    [Buffer.alloc(DEFAULT_MAX_KEY_BYTES, 0xff), largest],
  ];
  const src = await storeWith({}, [9, 42], SNAP_INDEX, SNAP_TERM);
  const wb = new WriteBatch();
  for (const [k, v] of pairs) wb.put(keys.dataKey('default', k), v);
  await src.kv.write(wb, { sync: true });
  const dst = await storeWith(OLD, [7, 3], 10, 3);
  await installOn(dst, dstFiles, await generateAndStage(src, srcFiles, dstFiles));
  const [start, end] = keys.dataRange('default', new Uint8Array(), new Uint8Array());
  const got = (await dst.kv.scan({ start, end })).map(([k, v]) => [Buffer.from(keys.decodeDataKey(k).key), Buffer.from(v)]);
  t.equal(got.length, pairs.length, 'every pair, and none of the old region\'s');
  pairs.forEach(([k, v], i) => {
    t.ok(got[i]?.[0]?.equals(k), `key ${i} (${k.length} bytes of ${k[0]!.toString(16)}) in key order`);
    t.ok(got[i]?.[1]?.equals(v), `its value (${v.length} bytes)`);
  });
});

// ---- PeerStorage.installSnapshot: what it refuses, and the view it leaves -----------------

t.test('installSnapshot refuses a snapshot it cannot or must not install, before touching the engines', async (t) => {
  const { dst, dstFiles } = await setup(t);
  const good = await stageCrafted(dstFiles, [userPair('a', 'new-a')]);
  const mgr = new SnapshotManager(dstFiles, noTransport, silentLogger);
  const load = async (m?: SnapshotManager) => (await PeerStorage.load(dst, 1 as StoreId, REGION.id, m))!;
  await t.rejects((await load()).installSnapshot(good), /no snapshot files/, 'a storage without a snapshot directory');
  const other = await stageCrafted(dstFiles, [userPair('a', 'new-a')], { region: { ...REGION, id: 9 } });
  await t.rejects((await load(mgr)).installSnapshot(other), /snapshot of region 9 offered to region 1/);
  const at = (index: number): Snapshot => ({ ...good, metadata: { ...good.metadata, index } });
  await t.rejects((await load(mgr)).installSnapshot(at(10)), /snapshot at 10 is not beyond the applied index 10/, 'at the applied index');
  await t.rejects((await load(mgr)).installSnapshot(at(51)), /snapshot 51\/t7 accepted by raft, but its staged file recv-r1-i51-t7.snap is missing/);
  t.equal(await classify(dst, dstFiles), 'old', 'nothing changed');
});

t.test('after installSnapshot the storage reads as the snapshot: empty log at its point, its region, no cached bytes', async (t) => {
  const { dst, dstFiles } = await setup(t);
  const mgr = new SnapshotManager(dstFiles, noTransport, silentLogger);
  const ps = (await PeerStorage.load(dst, 1 as StoreId, REGION.id, mgr))!;
  await ps.saveReady(ready({ entries: [{ index: 11, term: 3, type: 'normal', data: Buffer.from('cached') }] }));
  // An older staged file of the region, left by an earlier transfer, goes with the install.
  const older = await dstFiles.create(receivedName(REGION.id, 20, 4));
  await older.write(Buffer.from('old'));
  await older.finish();
  const region = { ...REGION, epoch: { confVer: 3, version: 4 } };
  await ps.installSnapshot(await stageCrafted(dstFiles, [userPair('a', 'new-a')], { region }));
  t.same([ps.firstIndex(), ps.lastIndex(), ps.term(SNAP_INDEX), ps.cachedEntryCount, ps.logBytes], [SNAP_INDEX + 1, SNAP_INDEX, SNAP_TERM, 0, 0]);
  t.same(ps.applyState, { appliedIndex: SNAP_INDEX, truncatedIndex: SNAP_INDEX, truncatedTerm: SNAP_TERM });
  t.same(ps.region.epoch, { confVer: 3, version: 4 }, 'the snapshot\'s region');
  t.same([mgr.snapshotStats().installed, mgr.snapshotStats().lastInstalledIndex], [1, SNAP_INDEX]);
  t.same(await dstFiles.list(), [], 'the older staged file is removed');
  // A hard state written with no entries records the snapshot's point as the log's end.
  await ps.saveReady(ready({ hardState: { term: SNAP_TERM + 1, vote: 0, commit: SNAP_INDEX } }));
  t.same(await hardStateAfterRestart(dst, dstFiles), { term: SNAP_TERM + 1, vote: 0, commit: SNAP_INDEX }, 'and a restart loads it');
});

t.test('installWithoutIntent (a planted bug) still installs when nothing crashes, its apply state synced last', async (t) => {
  const { dst, dstFiles, install } = await setup(t);
  const syncs: boolean[] = [];
  const write = dst.kv.write.bind(dst.kv);
  dst.kv.write = (wb, opts) => { syncs.push(opts.sync); return write(wb, opts); };
  await install({ skipIntent: true });
  t.equal(await classify(dst, dstFiles), 'new');
  t.equal(syncs.at(-1), true, 'the apply state, written last, is synced');
});
