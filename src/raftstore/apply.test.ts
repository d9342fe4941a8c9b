// applyEntries: one kvdb batch per round holding the data changes, the client sessions
// and the new RaftApplyState; entries at or below the applied index are skipped (so a
// restart may hand them over again); a duplicate (client id, sequence) is acknowledged
// but not applied; a leader's no-op only moves the applied index; a wrong epoch is
// answered with EpochNotMatchError.

import t from 'tap';
import * as keys from '../engine/keys.js';
import type { KvEngine } from '../engine/kv-engine.js';
import { openMemoryEngine } from '../engine/memory-engine.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Entry } from '../raft/index.js';
import { applyEntries, rangeKey } from './apply.js';
import type { ClientSession, WriteOp } from './command.js';
import { encodeChangePeerCommand, encodeCompactLogCommand, encodeExpireSessionsCommand, encodeWriteCommand } from './command.js';
import type { RegionEpoch } from './envelope.js';
import { ChangePeerRefusedError, EpochNotMatchError, SessionExpiredError } from './errors.js';
import type { StoreId } from './ids.js';
import type { ApplyState } from './peer-storage.js';
import { initialRegion, regionFromProto } from './region.js';
import { SessionTable } from './session-table.js';

const REGION = initialRegion([1, 2, 3] as StoreId[]);
const INITIAL: ApplyState = { appliedIndex: 5, truncatedIndex: 5, truncatedTerm: 5 };
const b = (s: string) => Buffer.from(s, 'utf8');

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

/** Applies entries as a restarted peer would: state loaded from the engine, one write. */
async function applyOnEngine(kv: KvEngine, entries: Entry[]) {
  const { applyState, sessions } = await loadState(kv);
  const out = applyEntries(entries, REGION, applyState, sessions);
  await kv.write(out.batch, { sync: false });
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
