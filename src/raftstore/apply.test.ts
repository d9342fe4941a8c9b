// applyEntries: one kvdb batch per round holding the data changes, the client sessions
// and the new RaftApplyState; entries at or below the applied index are skipped (so a
// restart may hand them over again); a duplicate (client id, sequence) is acknowledged
// but not applied; a leader's no-op only moves the applied index; a wrong epoch is
// answered with EpochNotMatchError.

import t from 'tap';
import { keys } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import { openMemoryEngine } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Entry } from '../raft/index.js';
import { applyEntries, rangeKey, rangesToRead } from './apply.js';
import type { AppliedEntry, RangeReads } from './apply.js';
import type { ClientSession, WriteOp } from './command.js';
import { encodeChangePeerCommand, encodeCompactLogCommand, encodeExpireSessionsCommand, encodeWriteCommand } from './command.js';
import type { RegionEpoch } from './envelope.js';
import { ChangePeerRefusedError, EpochNotMatchError, SessionExpiredError } from './errors.js';
import type { StoreId } from './ids.js';
import type { ApplyState } from './peer-storage.js';
import { initialRegion, regionFromProto } from './region.js';
import { SessionTable } from './session-table.js';
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from './store.js';
import { prefixEnd } from '../api/key-range.js';
import { enc as b } from '../../test/support/bytes.js';

const REGION = initialRegion([1, 2, 3] as StoreId[]);
const INITIAL: ApplyState = { appliedIndex: 5, truncatedIndex: 5, truncatedTerm: 5 };

function put(key: string, value: string): WriteOp {
  return { kind: 'put', key: b(key), value: b(value) };
}
function del(key: string): WriteOp {
  return { kind: 'delete', key: b(key) };
}

function cmd(index: number, term: number, ops: WriteOp[], o: { session?: ClientSession; epoch?: RegionEpoch; at?: number } = {}): Entry {
  const data = encodeWriteCommand(
    { header: { regionId: REGION.id }, ops, ...(o.session ? { session: o.session } : {}) },
    o.epoch ?? REGION.epoch,
    o.at ?? 1000,
  );
  return { index, term, type: 'normal', data };
}

function noop(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) };
}

/** The durable state a restarted peer would load: apply state and client sessions. */
async function loadState(kv: KvEngine): Promise<{ applyState: ApplyState; sessions: SessionTable }> {
  const raw = await kv.get(keys.applyStateKey(REGION.id));
  const p = raw ? raft_serverpb.RaftApplyState.decode(raw) : undefined;
  const applyState = p
    ? { appliedIndex: Number(p.applied_index), truncatedIndex: Number(p.truncated_state?.index ?? 0), truncatedTerm: Number(p.truncated_state?.term ?? 0) }
    : INITIAL;
  return { applyState, sessions: await SessionTable.load(kv, REGION.id) };
}

/** What kvdb holds in each range the range deletes of `entries` cover, read first as the peer does. */
async function readRanges(kv: KvEngine, entries: readonly Entry[]): Promise<RangeReads | undefined> {
  const list = rangesToRead(entries);
  if (list.length === 0) return undefined;
  const out = new Map<string, Uint8Array[]>();
  for (const r of list) {
    const end = r.end.length === 0 ? keys.dataKeyEnd('default') : keys.dataKey('default', r.end);
    const pairs = await kv.scan({ start: keys.dataKey('default', r.start), end });
    out.set(rangeKey(r.start, r.end), pairs.map(([k]) => keys.decodeDataKey(k).key));
  }
  return out;
}

/** Applies entries as a restarted peer would: state loaded from the engine, one write. */
async function applyOnEngine(kv: KvEngine, entries: Entry[]) {
  const { applyState, sessions } = await loadState(kv);
  const out = applyEntries(entries, REGION, applyState, sessions, {}, await readRanges(kv, entries));
  await kv.write(out.batch, { sync: false });
  return out;
}

/**
 * A replica as a running peer drives apply: the ranges read first, one write per batch,
 * and the session changes folded into its in-memory table after the write (no reload).
 */
async function liveReplica() {
  const kv = await openMemoryEngine();
  const sessions = new SessionTable();
  let applyState = INITIAL;
  return {
    kv,
    sessions,
    async apply(entries: Entry[]) {
      const out = applyEntries(entries, REGION, applyState, sessions, {}, await readRanges(kv, entries));
      await kv.write(out.batch, { sync: false });
      applyState = out.applyState;
      out.sessions.commit();
      return out;
    },
  };
}

/** What a client is told for an entry: the error code or the write result. */
function answer(r: AppliedEntry): { index: number; code: string | undefined; result: unknown } {
  return { index: r.index, code: r.error?.code, result: r.result };
}

/**
 * Ways to cut `xs` into consecutive batches: one entry per batch, all in one, and each
 * single cut point on its own (so every boundary is tried both ways).
 */
function batchings<T>(xs: readonly T[]): T[][][] {
  const out: T[][][] = [xs.map((x) => [x]), [[...xs]]];
  for (let i = 1; i < xs.length; i++) out.push([xs.slice(0, i), xs.slice(i)]);
  return out;
}

async function contents(kv: KvEngine): Promise<Array<[string, string]>> {
  return (await kv.scan({ start: Buffer.alloc(0) })).map(([k, v]) => [k.toString('hex'), v.toString('hex')]);
}

async function userValue(kv: KvEngine, key: string): Promise<string | undefined> {
  const v = await kv.get(keys.dataKey('default', b(key)));
  return v?.toString('utf8');
}

t.test('one batch holds the data and the new apply state', async (t) => {
  const entries = [cmd(6, 6, [put('a', '1'), put('b', '2')]), cmd(7, 6, [del('a'), put('c', '3')])];
  const out = applyEntries(entries, REGION, INITIAL, new SessionTable());
  t.same(out.applyState, { appliedIndex: 7, truncatedIndex: 5, truncatedTerm: 5 });
  t.same(out.results, [{ index: 6, term: 6 }, { index: 7, term: 6 }], 'both entries succeeded');
  const ops = out.batch.ops.map((op) => `${op.type} ${op.type === 'deleteRange' ? '' : op.key.toString('hex')}`);
  t.same(ops, [
    `put ${keys.dataKey('default', b('a')).toString('hex')}`,
    `put ${keys.dataKey('default', b('b')).toString('hex')}`,
    `delete ${keys.dataKey('default', b('a')).toString('hex')}`,
    `put ${keys.dataKey('default', b('c')).toString('hex')}`,
    `put ${keys.applyStateKey(REGION.id).toString('hex')}`,
  ], 'data ops in log order, then the apply state, all in the one batch');

  const kv = await openMemoryEngine();
  await kv.write(out.batch, { sync: false });
  t.equal(await userValue(kv, 'a'), undefined);
  t.equal(await userValue(kv, 'b'), '2');
  t.equal(await userValue(kv, 'c'), '3');
  t.same((await loadState(kv)).applyState, out.applyState, 'the stored apply state is the returned one');
});

t.test('entries at or below the applied index are skipped', async (t) => {
  const kv = await openMemoryEngine();
  const log = [cmd(6, 6, [put('x', 'one')]), cmd(7, 6, [put('y', 'y')]), cmd(8, 6, [put('x', 'three')])];
  await applyOnEngine(kv, log);
  t.equal(await userValue(kv, 'x'), 'three');

  // A restart hands over entries 6 and 7 again: re-applying 6 would bring back x=one.
  const again = await applyOnEngine(kv, log.slice(0, 2));
  t.same(again.results, [], 'nothing applied again');
  t.equal(again.applyState.appliedIndex, 8, 'the applied index does not move backwards');
  t.equal(again.batch.count, 1, 'the batch carries only the apply state');
  t.equal(await userValue(kv, 'x'), 'three', 'x keeps the value of entry 8');
  t.equal((await loadState(kv)).applyState.appliedIndex, 8);
});

t.test('applying the same entries twice (as across a restart) leaves the same contents as once', async (t) => {
  const log: Entry[] = [
    cmd(6, 6, [put('k1', 'a')], { session: { clientId: 7, sequence: 1, sentAtMs: 0 } }),
    noop(7, 7),
    cmd(8, 7, [put('k2', 'b'), del('k1')], { session: { clientId: 7, sequence: 2, sentAtMs: 0 } }),
    cmd(9, 7, [put('k1', 'c')]),
    cmd(10, 7, [put('k3', 'd')], { session: { clientId: 9, sequence: 1, sentAtMs: 0 } }),
    cmd(11, 7, [del('k2')], { session: { clientId: 7, sequence: 3, sentAtMs: 0 } }),
  ];
  const once = await openMemoryEngine();
  await applyOnEngine(once, log);

  const twice = await openMemoryEngine();
  await applyOnEngine(twice, log);
  const second = await applyOnEngine(twice, log);
  t.same(second.results, [], 'the second pass applied nothing');
  t.same(await contents(twice), await contents(once), 'full pass twice = once');

  // A crash after entry 8: the restart is handed 6..11, overlapping what was applied.
  const crashed = await openMemoryEngine();
  await applyOnEngine(crashed, log.slice(0, 3));
  const resumed = await applyOnEngine(crashed, log);
  t.same(resumed.results.map((r) => r.index), [9, 10, 11], 'only entries after 8 applied');
  t.same(await contents(crashed), await contents(once), 'partial pass, then the whole log = once');
});

t.test('a duplicate (client id, sequence) is acknowledged but not applied again', async (t) => {
  const s1 = { clientId: 42, sequence: 1, sentAtMs: 0 };
  const s2 = { clientId: 42, sequence: 2, sentAtMs: 0 };
  const log = [
    cmd(6, 6, [put('k', 'v1')], { session: s1 }),
    cmd(7, 6, [put('k', 'v2')], { session: s2 }),
    cmd(8, 6, [put('k', 'v1')], { session: s1 }), // a retry of seq 1 that arrived late
  ];

  // In one round.
  const kv = await openMemoryEngine();
  const out = await applyOnEngine(kv, log);
  t.same(out.results, [{ index: 6, term: 6 }, { index: 7, term: 6 }, { index: 8, term: 6, result: { duplicate: true } }], 'all three acknowledged (the third as a duplicate)');
  t.equal(await userValue(kv, 'k'), 'v2', 'the retry did not overwrite v2');
  t.same([...(await loadState(kv)).sessions.rows], [[42, { sequence: 2, lastUsedMs: 1000 }]], 'the session records sequence 2');
  t.equal(out.applyState.appliedIndex, 8, 'the duplicate still advanced the applied index');

  // Across rounds, with the sessions handed over in memory (as the peer does).
  const sessions = new SessionTable();
  const first = applyEntries(log.slice(0, 2), REGION, INITIAL, sessions);
  t.equal(sessions.rows.size, 0, 'applyEntries does not modify the table it is given');
  first.sessions.commit();
  const retry = applyEntries(log.slice(2), REGION, first.applyState, sessions);
  t.same(retry.results, [{ index: 8, term: 6, result: { duplicate: true } }], 'the retry is acknowledged, as a duplicate');
  t.equal(retry.batch.count, 1, 'and writes nothing but the apply state');
  t.same([...sessions.rows], [[42, { sequence: 2, lastUsedMs: 1000 }]], 'the committed changes hold sequence 2');

  // Across a restart: sessions come back from kvdb.
  const kv2 = await openMemoryEngine();
  await applyOnEngine(kv2, log.slice(0, 2));
  const after = await applyOnEngine(kv2, [log[2]!, cmd(9, 6, [put('k', 'v3')], { session: { clientId: 42, sequence: 3, sentAtMs: 0 } })]);
  t.same(after.results.map((r) => r.index), [8, 9]);
  t.equal(await userValue(kv2, 'k'), 'v3', 'seq 1 skipped, seq 3 applied after the restart');

  // An immediate retry of the same sequence, after another client wrote the key.
  const kv3 = await openMemoryEngine();
  const race = await applyOnEngine(kv3, [
    cmd(6, 6, [put('r', 'mine')], { session: { clientId: 50, sequence: 1, sentAtMs: 0 } }),
    cmd(7, 6, [put('r', 'theirs')], { session: { clientId: 51, sequence: 1, sentAtMs: 0 } }),
    cmd(8, 6, [put('r', 'mine')], { session: { clientId: 50, sequence: 1, sentAtMs: 0 } }),
  ]);
  t.same(race.results.map((r) => r.error), [undefined, undefined, undefined], 'all acknowledged');
  t.equal(await userValue(kv3, 'r'), 'theirs', 'the retry of (50, 1) did not undo client 51\'s later write');

  // Another client's sequence 1 is not a duplicate of client 42's.
  const other = applyEntries([cmd(8, 6, [put('j', 'x')], { session: { clientId: 43, sequence: 1, sentAtMs: 0 } })], REGION, first.applyState, sessions);
  t.equal(other.batch.count, 3, 'data, session and apply state written for client 43');
});

t.test("the leader's empty no-op only advances the applied index", async (t) => {
  const out = applyEntries([noop(6, 7)], REGION, INITIAL, new SessionTable());
  t.same(out.results, [], 'no result for a no-op');
  t.equal(out.applyState.appliedIndex, 6);
  t.same(out.batch.ops.map((op) => op.type === 'put' && op.key.equals(keys.applyStateKey(REGION.id))), [true],
    'the batch holds only the apply state');
  t.equal(out.sessions.changed, false);
  const kv = await openMemoryEngine();
  await kv.write(out.batch, { sync: false });
  t.same((await kv.scan({ start: keys.dataKey('default', Buffer.alloc(0)), end: keys.dataKeyEnd('default') })), [], 'no data written');
});

t.test('a write stamped with another version yields EpochNotMatchError and changes no data; conf_ver does not matter', async (t) => {
  const stale = { confVer: REGION.epoch.confVer, version: REGION.epoch.version + 1 };
  const otherConf = { confVer: REGION.epoch.confVer + 1, version: REGION.epoch.version };
  const kv = await openMemoryEngine();
  const out = await applyOnEngine(kv, [
    cmd(6, 6, [put('a', 'bad')], { epoch: stale, session: { clientId: 5, sequence: 1, sentAtMs: 0 } }),
    cmd(7, 6, [put('b', 'fine')], { epoch: otherConf }),
    cmd(8, 6, [put('c', 'good')]),
  ]);
  t.equal(out.results.length, 3);
  const r = out.results[0]!;
  t.ok(r.error instanceof EpochNotMatchError, 'entry 6: EpochNotMatchError');
  t.equal(r.error?.code, 'EPOCH_NOT_MATCH');
  t.same((r.error as EpochNotMatchError).current, REGION.epoch, 'the error carries the current epoch');
  t.same((r.error as EpochNotMatchError).regions, [REGION], 'and the region as it is now, for the client\'s cache');
  t.equal(out.results[1]!.error, undefined, 'a membership change (conf_ver) does not make a write stale');
  t.equal(out.results[2]!.error, undefined, 'the matching entry succeeds');
  t.equal(await userValue(kv, 'a'), undefined, 'nothing written for the stale version');
  t.equal(await userValue(kv, 'b'), 'fine');
  t.equal(await userValue(kv, 'c'), 'good');
  t.equal(out.sessions.changed, false, 'a refused write does not record its session');
  t.equal(out.applyState.appliedIndex, 8, 'refused entries still count as applied');
});

t.test('entries that do not follow the applied index are a bug', async (t) => {
  t.throws(() => applyEntries([cmd(7, 6, [put('a', '1')])], REGION, INITIAL, new SessionTable()), /entry 7 does not follow applied index 5/);
});

function compact(index: number, term: number, upTo: number, upToTerm: number): Entry {
  return { index, term, type: 'normal', data: encodeCompactLogCommand({ regionId: REGION.id, index: upTo, term: upToTerm }, REGION.epoch) };
}

t.test('CompactLog moves the truncated state in the same batch; stale ones change nothing', async (t) => {
  const out = applyEntries([noop(6, 6), cmd(7, 6, [put('a', '1')]), compact(8, 6, 7, 6)], REGION, INITIAL, new SessionTable());
  t.same(out.applyState, { appliedIndex: 8, truncatedIndex: 7, truncatedTerm: 6 });
  t.equal(out.compacted, true, 'the peer must sync this batch and then drop entries <= 7');
  const kv = await openMemoryEngine();
  await kv.write(out.batch, { sync: true });
  t.same((await loadState(kv)).applyState, out.applyState, 'the truncated state is durable with the apply state');
  t.equal(Buffer.from((await kv.get(keys.dataKey('default', b('a'))))!).toString(), '1', 'the write before it applied too');

  const stale = applyEntries([compact(9, 6, 6, 6), compact(10, 6, 7, 6)], REGION, out.applyState, new SessionTable());
  t.same(stale.applyState, { appliedIndex: 10, truncatedIndex: 7, truncatedTerm: 6 }, 'an older or equal point is ignored');
  t.equal(stale.compacted, false);
  const plain = applyEntries([cmd(11, 6, [put('b', '2')])], REGION, stale.applyState, new SessionTable());
  t.equal(plain.compacted, false, 'ordinary writes do not compact');
});

t.test('a CompactLog beyond what is applied is ignored', async (t) => {
  const out = applyEntries([compact(6, 6, 9, 6)], REGION, INITIAL, new SessionTable());
  t.same(out.applyState, { appliedIndex: 6, truncatedIndex: 5, truncatedTerm: 5 });
  t.equal(out.compacted, false);
});

function expire(index: number, term: number, idleBeforeMs: number, rejectBeforeMs: number): Entry {
  return { index, term, type: 'normal', data: encodeExpireSessionsCommand(REGION.id, { idleBeforeMs, rejectBeforeMs }, REGION.epoch) };
}

t.test('ExpireSessions drops idle rows in the log; a late retry of a dropped session is refused, never applied twice', async (t) => {
  const kv = await openMemoryEngine();
  await applyOnEngine(kv, [
    cmd(6, 6, [put('a', 'old')], { session: { clientId: 1, sequence: 1, sentAtMs: 990 }, at: 1000 }),
    cmd(7, 6, [put('b', 'fresh')], { session: { clientId: 2, sequence: 1, sentAtMs: 4990 }, at: 5000 }),
  ]);
  const out = await applyOnEngine(kv, [expire(8, 6, 3000, 3500)]);
  t.equal(out.sessionsExpired, 1, 'one row was idle since before 3000');
  const table = (await loadState(kv)).sessions;
  t.same([...table.rows.keys()], [2], 'client 1 is gone, client 2 stays');
  t.equal(table.rejectBeforeMs, 3500, 'the refusal mark is durable with the table');

  const late = await applyOnEngine(kv, [
    // Client 1 retries its write (first sent at 990) after its row was dropped.
    cmd(9, 6, [put('a', 'old')], { session: { clientId: 1, sequence: 1, sentAtMs: 990 }, at: 9000 }),
    // Someone else wrote a meanwhile; the refused retry must not undo it.
    cmd(10, 6, [put('a', 'newer')], { session: { clientId: 3, sequence: 1, sentAtMs: 8990 }, at: 9000 }),
    // Client 2 keeps its row: its retry is a duplicate, acknowledged.
    cmd(11, 6, [put('b', 'fresh')], { session: { clientId: 2, sequence: 1, sentAtMs: 4990 }, at: 9000 }),
    // A client without a row whose write was sent after the mark is a new session.
    cmd(12, 6, [put('c', 'new')], { session: { clientId: 4, sequence: 5, sentAtMs: 3500 }, at: 9000 }),
  ]);
  t.ok(late.results[0]!.error instanceof SessionExpiredError, 'the late retry is refused with SessionExpired');
  t.equal(late.results[0]!.error?.code, 'SESSION_EXPIRED');
  t.same(late.results.slice(1).map((r) => r.error), [undefined, undefined, undefined], 'the others succeed');
  t.equal(await userValue(kv, 'a'), 'newer', 'the refused retry changed nothing');
  t.equal(await userValue(kv, 'c'), 'new');
  const after = (await loadState(kv)).sessions;
  t.same([...after.rows].sort((x, y) => x[0] - y[0]), [[2, { sequence: 1, lastUsedMs: 5000 }], [3, { sequence: 1, lastUsedMs: 9000 }], [4, { sequence: 5, lastUsedMs: 9000 }]]);

  // A lower mark never lowers it; an expiry with nothing idle still raises it.
  const again = await applyOnEngine(kv, [expire(13, 6, 1000, 1500), expire(14, 6, 4000, 4500)]);
  t.equal(again.sessionsExpired, 0);
  t.equal((await loadState(kv)).sessions.rejectBeforeMs, 4500);
});

t.test('expiry is decided by the log alone: replicas with the same log write the same batch', async (t) => {
  const log = Array.from({ length: 40 }, (_, i) => cmd(6 + i, 6, [put(`k${i}`, 'v')], { session: { clientId: 100 + (i % 13), sequence: 1 + Math.floor(i / 13), sentAtMs: i * 100 }, at: i * 100 + 5 }));
  const a = await openMemoryEngine();
  const b2 = await openMemoryEngine();
  // Replica a applies in one batch; replica b in small batches with a restart (reload) between each.
  await applyOnEngine(a, log);
  for (let i = 0; i < log.length; i += 7) await applyOnEngine(b2, log.slice(i, i + 7));
  const tail = [expire(46, 6, 3300, 3800), cmd(47, 6, [put('z', 'z')], { session: { clientId: 100, sequence: 1, sentAtMs: 0 }, at: 9000 })];
  const outA = await applyOnEngine(a, tail);
  const outB = await applyOnEngine(b2, tail);
  t.equal(outA.sessionsExpired, outB.sessionsExpired);
  t.ok(outA.sessionsExpired > 0, `${outA.sessionsExpired} rows expired`);
  t.same(outA.results.map((r) => r.error?.code), outB.results.map((r) => r.error?.code));
  t.same(await contents(a), await contents(b2), 'identical kvdb contents');
});

function changePeer(index: number, term: number, change: 'addVoter' | 'addLearner' | 'removeNode', peer: { id: number; storeId: number }, epoch = REGION.epoch): Entry {
  return {
    index, term, type: 'confChange',
    data: encodeChangePeerCommand({ regionId: REGION.id, change, peer: peer as never }, epoch),
  };
}

t.test('ChangePeer: the region (peers, conf_ver) changes in the same batch; stale or invalid changes are no-ops', async (t) => {
  const kv = await openMemoryEngine();
  const out = await applyOnEngine(kv, [
    changePeer(6, 6, 'addLearner', { id: 2004, storeId: 4 }),
    cmd(7, 6, [put('k', 'v')]),
    // Proposed under the old conf_ver (1), applied after the first change: stale.
    changePeer(8, 6, 'removeNode', { id: 2, storeId: 2 }),
    // A valid next change, stamped with conf_ver 2.
    changePeer(9, 6, 'addVoter', { id: 2004, storeId: 4 }, { confVer: 2, version: 1 }),
    // Not a member: refused.
    changePeer(10, 6, 'removeNode', { id: 77, storeId: 7 }, { confVer: 3, version: 1 }),
  ]);
  t.same(out.confChanges.map((c) => [c.index, c.change.type, c.change.nodeId, c.region.epoch.confVer]),
    [[6, 'addLearner', 2004, 2], [9, 'addVoter', 2004, 3]], 'two changes applied, in order');
  t.ok(out.results[2]!.error instanceof EpochNotMatchError, 'the stale one: EpochNotMatch');
  t.same((out.results[2]!.error as EpochNotMatchError).regions.map((r) => r.epoch.confVer), [2], 'with the region as it is at that entry');
  t.ok(out.results[4]!.error instanceof ChangePeerRefusedError, 'the invalid one: refused');
  t.same(out.region.peers.map((p) => [p.id, p.storeId, p.learner === true]), [[1, 1, false], [2, 2, false], [3, 3, false], [2004, 4, false]]);
  const raw = await kv.get(keys.regionStateKey(REGION.id));
  const stored = regionFromProto(raft_serverpb.RegionLocalState.decode(raw!).region!);
  t.same(stored, out.region, 'RegionLocalState is written with the batch');
  t.equal(await userValue(kv, 'k'), 'v', 'a write between the changes applies (conf_ver does not make it stale)');
});

t.test('a range delete removes what kvdb held in the range and what earlier commands of the same batch wrote', async (t) => {
  const run = async (bugs: { rangeDeleteIgnoresBatch?: boolean }) => {
    const kv = await openMemoryEngine();
    const first = applyEntries([cmd(6, 5, [put('a', '1'), put('k1', '1'), put('k2', '2'), put('z', '9')])], REGION, INITIAL, new SessionTable());
    await kv.write(first.batch, { sync: true });
    // In one batch: a put inside the range, a delete of a key kvdb has, then the range delete,
    // then a put inside the range after it (which stays).
    const range = { kind: 'deleteRange' as const, start: b('k'), end: b('l') };
    const entries = [cmd(7, 5, [put('k3', '3'), del('k1')]), cmd(8, 5, [range]), cmd(9, 5, [put('k4', '4')])];
    const { applyState, sessions } = await loadState(kv);
    const read = (await kv.scan({ start: keys.dataKey('default', b('k')), end: keys.dataKey('default', b('l')) })).map(([k]) => keys.decodeDataKey(k).key);
    const out = applyEntries(entries, REGION, applyState, sessions, bugs, new Map([[rangeKey(b('k'), b('l')), read]]));
    await kv.write(out.batch, { sync: true });
    const left = (await kv.scan({ start: keys.dataKey('default', b('')), end: keys.dataKeyEnd('default') })).map(([k]) => keys.decodeDataKey(k).key.toString());
    return { deleted: out.results.find((r) => r.index === 8)?.result?.deleted, left };
  };
  const ok = await run({});
  t.equal(ok.deleted, 2, 'k2 (in kvdb) and k3 (written earlier in the batch); k1 was already deleted in the batch');
  t.same(ok.left, ['a', 'k4', 'z'], 'only the keys outside the range, and the one written after the delete, remain');
  const bug = await run({ rangeDeleteIgnoresBatch: true });
  t.same([bug.deleted, bug.left.includes('k3')], [1, true], 'planted bug rangeDeleteIgnoresBatch: k3 survives the range delete, caught');
  t.throws(() => applyEntries([cmd(6, 5, [{ kind: 'deleteRange', start: b('a'), end: b('b') }])], REGION, INITIAL, new SessionTable()),
    /a range delete whose range was not read first/, 'apply refuses a range it was not given the keys of');
});

t.test('the ExpireSessions that drops a client and its late retry, in one batch or in two: refused alike, nothing written', async (t) => {
  // Client 1 wrote a=c1 (first sent at 990), client 2 overwrote it later; then an expiry
  // drops client 1's idle row, and client 1's retry of that first write arrives.
  const setup = [
    cmd(6, 6, [put('a', 'c1')], { session: { clientId: 1, sequence: 1, sentAtMs: 990 }, at: 1000 }),
    cmd(7, 6, [put('a', 'd1')], { session: { clientId: 2, sequence: 1, sentAtMs: 4990 }, at: 5000 }),
  ];
  const expiry = expire(8, 6, 3000, 3500);
  const retry = cmd(9, 6, [put('a', 'c1')], { session: { clientId: 1, sequence: 1, sentAtMs: 990 }, at: 9000 });

  const finals: Array<Array<[string, string]>> = [];
  for (const batches of [[[expiry, retry]], [[expiry], [retry]]]) {
    const shape = batches.length === 1 ? 'one batch' : 'two batches';
    // A running peer (table handed over in memory) and a peer restarted before each batch.
    const live = await liveReplica();
    const restarted = await openMemoryEngine();
    await live.apply(setup);
    await applyOnEngine(restarted, setup);
    const liveAnswers: AppliedEntry[] = [];
    const restartedAnswers: AppliedEntry[] = [];
    for (const batch of batches) {
      liveAnswers.push(...(await live.apply(batch)).results);
      restartedAnswers.push(...(await applyOnEngine(restarted, batch)).results);
    }
    for (const [who, kv, results] of [['live', live.kv, liveAnswers], ['restarted', restarted, restartedAnswers]] as const) {
      const refused = results.find((r) => r.index === 9);
      t.ok(refused?.error instanceof SessionExpiredError, `${shape}, ${who}: the retry is refused with SessionExpired`);
      t.match(refused?.error?.message, /expired before write 1 arrived/, `${shape}, ${who}: the message says why`);
      t.equal(refused?.result, undefined, `${shape}, ${who}: not acknowledged as a duplicate`);
      t.equal(await userValue(kv, 'a'), 'd1', `${shape}, ${who}: the retry did not overwrite client 2's later write`);
      const table = (await loadState(kv)).sessions;
      t.same([...table.rows.keys()], [2], `${shape}, ${who}: no row for client 1 was written back`);
      t.equal(table.rejectBeforeMs, 3500, `${shape}, ${who}: the mark is durable`);
      finals.push(await contents(kv));
    }
    t.same([...live.sessions.rows.keys()], [2], `${shape}: the live table dropped client 1 too`);
    t.equal(live.sessions.rejectBeforeMs, 3500, `${shape}: and raised its mark`);
  }
  for (const f of finals.slice(1)) t.same(f, finals[0], 'every replica ends with the same kvdb contents');
});

t.test('replicas that cut the same log into different batches end with the same kvdb and give the same answers', async (t) => {
  // Sessions, an expiry, a late retry, range deletes over keys written in the log (one
  // to the last key), a compaction and a membership change: each cut point between two
  // entries is a place where "earlier in this batch" and "already in kvdb" must agree.
  const range = (start: string, end: string): WriteOp => ({ kind: 'deleteRange', start: b(start), end: b(end) });
  const log: Entry[] = [
    cmd(6, 6, [put('a', 'c1'), put('k1', 'x')], { session: { clientId: 1, sequence: 1, sentAtMs: 990 }, at: 1000 }),
    cmd(7, 6, [put('a', 'd1'), put('k2', 'y'), put('z', 'z')], { session: { clientId: 2, sequence: 1, sentAtMs: 4990 }, at: 5000 }),
    expire(8, 6, 3000, 3500),
    cmd(9, 6, [put('a', 'c1')], { session: { clientId: 1, sequence: 1, sentAtMs: 990 }, at: 9000 }),
    cmd(10, 6, [put('k3', 'w'), del('k1'), range('k', 'l')], { session: { clientId: 1, sequence: 2, sentAtMs: 4000 }, at: 9000 }),
    cmd(11, 6, [put('k4', 'v')], { session: { clientId: 2, sequence: 1, sentAtMs: 4990 }, at: 9000 }),
    compact(12, 6, 10, 6),
    changePeer(13, 6, 'addLearner', { id: 2004, storeId: 4 }),
    cmd(14, 6, [put('y', 'y'), range('x', '')]),
  ];
  let reference: { contents: Array<[string, string]>; answers: unknown[] } | undefined;
  for (const batches of batchings(log)) {
    for (const mode of ['live', 'restarted'] as const) {
      const live = await liveReplica();
      const kv = mode === 'live' ? live.kv : await openMemoryEngine();
      const answers: unknown[] = [];
      for (const batch of batches) {
        const out = mode === 'live' ? await live.apply(batch) : await applyOnEngine(kv, batch);
        answers.push(...out.results.map(answer));
      }
      const got = { contents: await contents(kv), answers };
      if (!reference) {
        reference = got;
        continue;
      }
      const shape = `${mode}, batches of ${batches.map((x) => x.length).join('+')}`;
      if (!t.same(got, reference, shape)) break;
    }
  }
  // What the reference (one batch per entry) holds, so that "all equal" is not "all wrong".
  t.same(reference?.answers.filter((a) => (a as { code?: string }).code !== undefined), [{ index: 9, code: 'SESSION_EXPIRED', result: undefined }]);
  t.same(reference?.answers.find((a) => (a as { index: number }).index === 10), { index: 10, code: undefined, result: { deleted: 2 } },
    'k2 from kvdb and k3 from the same command (k1 was deleted by it)');
  t.same(reference?.answers.find((a) => (a as { index: number }).index === 11), { index: 11, code: undefined, result: { duplicate: true } });
  t.same(reference?.answers.find((a) => (a as { index: number }).index === 14), { index: 14, code: undefined, result: { deleted: 2 } },
    'y written just before and z from kvdb, to the last key');
  const kv = await openMemoryEngine();
  await applyOnEngine(kv, log);
  const left = (await kv.scan({ start: keys.dataKey('default', b('')), end: keys.dataKeyEnd('default') })).map(([k, v]) => `${keys.decodeDataKey(k).key.toString()}=${v.toString()}`);
  t.same(left, ['a=d1'], 'k4 was a duplicate, everything else range-deleted');
});

/** The user keys kvdb holds, as hex, in key order. */
async function userKeys(kv: KvEngine): Promise<string[]> {
  return (await kv.scan({ start: keys.dataKey('default', b('')), end: keys.dataKeyEnd('default') })).map(([k]) => keys.decodeDataKey(k).key.toString('hex'));
}

const hex = (s: string) => b(s).toString('hex');
const rangeOp = (start: Uint8Array, end: Uint8Array): WriteOp => ({ kind: 'deleteRange', start, end });

t.test('a range delete covers [start, end): the start key goes, the end key stays, in kvdb and in the batch alike', async (t) => {
  const around = [put('j', '-'), put('k', 's'), put('k\x00', 's'), put('kz', 'in'), put('l', 'e'), put('l\x00', '+')];
  // The keys in kvdb before the batch, and the same keys written earlier in the batch.
  const inKvdb = await openMemoryEngine();
  await applyOnEngine(inKvdb, [cmd(6, 6, around)]);
  const fromKvdb = await applyOnEngine(inKvdb, [cmd(7, 6, [rangeOp(b('k'), b('l'))])]);
  const inBatch = await openMemoryEngine();
  const fromBatch = await applyOnEngine(inBatch, [cmd(6, 6, around), cmd(7, 6, [rangeOp(b('k'), b('l'))])]);
  for (const [where, kv, out] of [['kvdb', inKvdb, fromKvdb], ['batch', inBatch, fromBatch]] as const) {
    t.same(await userKeys(kv), [hex('j'), hex('l'), hex('l\x00')], `${where}: k, k\\0 and kz deleted; j and the end key l stay`);
    t.same(out.results.find((r) => r.index === 7)?.result, { deleted: 3 }, `${where}: the count is of the keys in the range`);
  }
});

t.test('a range delete with an empty end runs to the last key, also a longest all-0xff key', async (t) => {
  // The last key there is: max_key_bytes of 0xff. No end key sorts after it, so only an
  // empty end (or a prefix with no end, prefixEnd of it) reaches it.
  const last = Buffer.alloc(DEFAULT_MAX_KEY_BYTES, 0xff);
  const belowLast = Buffer.from(last);
  belowLast[belowLast.length - 1] = 0xfe;
  const setup = cmd(6, 6, [put('m', '1'), { kind: 'put', key: belowLast, value: b('2') }, { kind: 'put', key: last, value: b('3') }]);
  t.same(prefixEnd(last), Buffer.alloc(0), 'an all-0xff prefix has no end: its range is the empty end');

  for (const inBatch of [false, true]) {
    const where = inBatch ? 'written earlier in the batch' : 'in kvdb';
    const kv = await openMemoryEngine();
    if (!inBatch) await applyOnEngine(kv, [setup]);
    const head = inBatch ? [setup] : [];
    const out = await applyOnEngine(kv, [...head, cmd(7, 6, [rangeOp(last, prefixEnd(last))])]);
    t.same(out.results.find((r) => r.index === 7)?.result, { deleted: 1 }, `${where}: [last, "") removes exactly the last key`);
    t.same(await userKeys(kv), [hex('m'), belowLast.toString('hex')], `${where}: the keys below it stay`);

    const kv2 = await openMemoryEngine();
    if (!inBatch) await applyOnEngine(kv2, [setup]);
    const all = await applyOnEngine(kv2, [...head, cmd(7, 6, [rangeOp(b('n'), b(''))])]);
    t.same(all.results.find((r) => r.index === 7)?.result, { deleted: 2 }, `${where}: [n, "") removes both 0xff keys`);
    t.same(await userKeys(kv2), [hex('m')], `${where}: the key below n stays`);
  }
});

t.test('a range from the empty key to the empty end deletes every key; the empty key is the first key', async (t) => {
  // The store refuses an empty key in a put, but apply gives it no special meaning: it is
  // the smallest key, and a range starting at it starts at the beginning.
  const setup = cmd(6, 6, [put('', 'empty'), put('\x00', 'zero'), put('a', 'a'), { kind: 'put', key: Buffer.of(0xff, 0xff), value: b('ff') }]);
  const kv = await openMemoryEngine();
  await applyOnEngine(kv, [setup]);
  t.same(await userKeys(kv), ['', '00', hex('a'), 'ffff'], 'the empty key is stored, first');
  const upToA = await applyOnEngine(kv, [cmd(7, 6, [rangeOp(b(''), b('a'))])]);
  t.same(upToA.results[0]?.result, { deleted: 2 }, '["", a) removes the empty key and 0x00');
  t.same(await userKeys(kv), [hex('a'), 'ffff']);
  const everything = await applyOnEngine(kv, [cmd(8, 6, [put('b', 'b')]), cmd(9, 6, [rangeOp(b(''), b(''))])]);
  t.same(everything.results[1]?.result, { deleted: 3 }, '["", "") removes a and 0xffff from kvdb and b from the batch');
  t.same(await userKeys(kv), []);
});

t.test('in one batch a range delete removes the keys put before it and none put after it, each counted once', async (t) => {
  const kv = await openMemoryEngine();
  await applyOnEngine(kv, [cmd(6, 6, [put('k1', 'old'), put('k2', 'old'), put('k5', 'old')])]);
  const out = await applyOnEngine(kv, [
    // k1 rewritten (in kvdb and in the batch: one key), k2 deleted first (not counted), k3 new.
    cmd(7, 6, [put('k1', 'new'), del('k2'), put('k3', 'new')]),
    // Two ranges in one command: the counts add up; then a put in the range after them stays.
    cmd(8, 6, [rangeOp(b('k1'), b('k3')), rangeOp(b('k3'), b('')), put('k4', 'after')]),
    // The same range again in the same batch: nothing left in it but k4, which is outside.
    cmd(9, 6, [rangeOp(b('k1'), b('k3'))]),
    // A put before a range delete in the same command is deleted by it.
    cmd(10, 6, [put('k2', 'again'), rangeOp(b('k2'), b('k3'))]),
  ]);
  t.same(out.results.map((r) => r.result), [undefined, { deleted: 3 }, { deleted: 0 }, { deleted: 1 }],
    'k1 (once) + k3 and k5; then none (still reported, as 0); then the k2 put just before');
  t.same(await userKeys(kv), [hex('k4')], 'only the put after the range deletes is left');
});

t.test('an empty batch changes nothing but still writes the apply state; a one-entry batch applies that entry', async (t) => {
  const region = REGION;
  const empty = applyEntries([], region, INITIAL, new SessionTable());
  t.same(empty.results, []);
  t.same(empty.applyState, INITIAL, 'the applied index does not move');
  t.equal(empty.compacted, false);
  t.equal(empty.sessions.changed, false);
  t.equal(empty.sessionsExpired, 0);
  t.same(empty.confChanges, []);
  t.equal(empty.region, region, 'the region is the one given');
  t.same(empty.batch.ops.map((op) => op.type === 'put' && op.key.equals(keys.applyStateKey(REGION.id))), [true], 'only the apply state');

  const one = applyEntries([cmd(6, 6, [put('a', '1')])], REGION, INITIAL, new SessionTable());
  t.same(one.results, [{ index: 6, term: 6 }]);
  t.same(one.applyState, { appliedIndex: 6, truncatedIndex: 5, truncatedTerm: 5 });
  t.equal(one.batch.count, 2, 'the put and the apply state');
});

t.test('the largest key and value allowed apply byte for byte, in a session, and a range delete counts the key', async (t) => {
  const key = Buffer.alloc(DEFAULT_MAX_KEY_BYTES, 0xab);
  // Every byte value, in an order that shows a shift or a truncation; filled natively:
  // a byte-by-byte loop over 1 MiB is slow, and every mutant reruns this file.
  const value = Buffer.alloc(DEFAULT_MAX_VALUE_BYTES, Uint8Array.from({ length: 256 }, (_, i) => (i * 31 + 7) & 0xff));
  const kv = await openMemoryEngine();
  const out = await applyOnEngine(kv, [cmd(6, 6, [{ kind: 'put', key, value }], { session: { clientId: 9, sequence: 1, sentAtMs: 0 } })]);
  t.same(out.results, [{ index: 6, term: 6 }]);
  t.ok((await kv.get(keys.dataKey('default', key)))?.equals(value), 'the value read back is the one written');
  const gone = await applyOnEngine(kv, [cmd(7, 6, [rangeOp(key.subarray(0, 1), b(''))])]);
  t.same(gone.results[0]?.result, { deleted: 1 });
  t.same(await userKeys(kv), []);
});

t.test('one batch mixing every command kind gives the same answers and contents as one entry at a time', async (t) => {
  const stale = { confVer: REGION.epoch.confVer, version: REGION.epoch.version + 1 };
  const log: Entry[] = [
    cmd(6, 6, [put('a', '1'), put('b', '2'), put('c', '3')], { session: { clientId: 1, sequence: 1, sentAtMs: 100 }, at: 100 }),
    noop(7, 7),
    cmd(8, 7, [del('a'), rangeOp(b('b'), b('c'))], { session: { clientId: 2, sequence: 1, sentAtMs: 5000 }, at: 5000 }),
    cmd(9, 7, [put('a', 'again')], { session: { clientId: 1, sequence: 1, sentAtMs: 100 }, at: 5000 }),
    changePeer(10, 7, 'addLearner', { id: 2004, storeId: 4 }),
    expire(11, 7, 1000, 1500),
    cmd(12, 7, [put('d', '4')], { session: { clientId: 1, sequence: 1, sentAtMs: 100 }, at: 6000 }),
    cmd(13, 7, [put('e', '5')], { epoch: stale }),
    compact(14, 7, 12, 7),
    cmd(15, 7, [rangeOp(b('c'), b(''))]),
  ];
  t.same(rangesToRead(log).map((r) => [r.start.toString(), r.end.toString()]), [['b', 'c'], ['c', '']],
    'the ranges to read are those of the range deletes alone, in log order');
  const whole = await liveReplica();
  const out = await whole.apply(log);
  t.same(out.results.map(answer), [
    { index: 6, code: undefined, result: undefined },
    { index: 8, code: undefined, result: { deleted: 1 } },
    { index: 9, code: undefined, result: { duplicate: true } },
    { index: 10, code: undefined, result: undefined },
    { index: 12, code: 'SESSION_EXPIRED', result: undefined },
    { index: 13, code: 'EPOCH_NOT_MATCH', result: undefined },
    { index: 15, code: undefined, result: { deleted: 1 } },
  ], 'the no-op, the expiry and the compaction have no answer');
  t.same(out.applyState, { appliedIndex: 15, truncatedIndex: 12, truncatedTerm: 7 });
  t.equal(out.sessionsExpired, 1, 'client 1 idle since 100');
  t.same(out.confChanges.map((c) => c.index), [10]);
  t.same(await userKeys(whole.kv), [], 'a deleted, b and c range-deleted; the refused writes wrote nothing');

  const single = await liveReplica();
  const answers: unknown[] = [];
  for (const e of log) answers.push(...(await single.apply([e])).results.map(answer));
  t.same(answers, out.results.map(answer), 'the same answers entry by entry');
  t.same(await contents(single.kv), await contents(whole.kv), 'and the same kvdb');
});

t.test('two range deletes in one batch each remove the keys kvdb held in their own range', async (t) => {
  // The reads are keyed by range: a mix-up would hand one range the other's keys.
  const kv = await openMemoryEngine();
  await applyOnEngine(kv, [cmd(6, 6, [put('a1', '1'), put('a2', '2'), put('m1', '3'), put('z', '4')])]);
  const out = await applyOnEngine(kv, [cmd(7, 6, [rangeOp(b('a'), b('b'))]), cmd(8, 6, [rangeOp(b('m'), b('n'))])]);
  t.same(out.results.map((r) => r.result), [{ deleted: 2 }, { deleted: 1 }]);
  t.same(await userKeys(kv), [hex('z')]);
  t.equal(rangeKey(b('a'), b('bc')) === rangeKey(b('ab'), b('c')), false, 'where start ends and end begins is part of the range key');
});

t.test('a CompactLog may cover every applied entry, up to its own index', async (t) => {
  // Taken in the batch that writes the apply state at that index, so nothing it drops is still needed.
  const out = applyEntries([cmd(6, 6, [put('a', '1')]), compact(7, 6, 7, 6)], REGION, INITIAL, new SessionTable());
  t.same(out.applyState, { appliedIndex: 7, truncatedIndex: 7, truncatedTerm: 6 });
  t.equal(out.compacted, true);
});

t.test('a ChangePeer outside a conf change entry, or a conf change entry without one, is a bug', async (t) => {
  const asNormal = { ...changePeer(6, 6, 'addLearner', { id: 2004, storeId: 4 }), type: 'normal' as const };
  t.throws(() => applyEntries([asNormal], REGION, INITIAL, new SessionTable()), /a ChangePeer command in a normal entry at 6/);
  const writeAsConf = { ...cmd(6, 6, [put('a', '1')]), type: 'confChange' as const };
  t.throws(() => applyEntries([writeAsConf], REGION, INITIAL, new SessionTable()), /conf change entry 6 does not hold a ChangePeer command/);
});

t.test('ChangePeer: a removal drops the peer, peers stay sorted by id, a learner is marked, another region is refused', async (t) => {
  const out = applyEntries([
    changePeer(6, 6, 'removeNode', { id: 2, storeId: 2 }),
    // Back as a learner: it sorts between 1 and 3, not at the end.
    changePeer(7, 6, 'addLearner', { id: 2, storeId: 5 }, { confVer: 2, version: 1 }),
    { index: 8, term: 6, type: 'confChange', data: encodeChangePeerCommand({ regionId: REGION.id + 1, change: 'removeNode', peer: { id: 3, storeId: 3 } as never }, { confVer: 3, version: 1 }) },
  ], REGION, INITIAL, new SessionTable());
  t.same(out.confChanges[0]?.region.peers.map((p) => p.id), [1, 3], 'peer 2 removed');
  t.same(out.region.peers.map((p) => [p.id, p.storeId, p.learner === true]), [[1, 1, false], [2, 5, true], [3, 3, false]]);
  t.same(out.region.epoch, { confVer: 3, version: 1 }, 'conf_ver up once per change; the version unchanged');
  t.ok(out.results[2]?.error instanceof EpochNotMatchError, 'a change for another region: EpochNotMatch');
  t.same((out.results[2]?.error as EpochNotMatchError).regions.map((r) => [r.id, r.epoch.confVer]), [[REGION.id, 3]], 'naming the region this peer has');
});

t.test('a range delete whose own range was not read is refused, also when other ranges of the batch were', async (t) => {
  // The reads are keyed by range: a missing one is the caller's bug, not an empty range
  // (which would delete nothing and report 0 on this replica alone).
  const others: RangeReads = new Map([[rangeKey(b('x'), b('y')), [b('x1')]]]);
  t.throws(() => applyEntries([cmd(6, 6, [rangeOp(b('a'), b('b'))])], REGION, INITIAL, new SessionTable(), {}, others),
    /a range delete whose range was not read first/);
});

t.test('a CompactLog at the truncated index changes nothing, whatever term it names', async (t) => {
  // A repeated compaction: the stored truncated state, its term included, stays as it is.
  const out = applyEntries([compact(6, 6, 5, 9)], REGION, INITIAL, new SessionTable());
  t.same(out.applyState, { appliedIndex: 6, truncatedIndex: 5, truncatedTerm: 5 });
  t.equal(out.compacted, false);
});
