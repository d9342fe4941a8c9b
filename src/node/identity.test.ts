// The identity rule (identity.ts): when a store on an empty data directory may bootstrap,
// when it must refuse, and when a store with data is recognised as rolled back.

import t, { type Test } from 'tap';
import { keys } from '../engine/index.js';
import { WriteBatch } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import { openMemoryEngine } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import { silentLogger } from '../raft/index.js';
import type { LogFields, Logger } from '../raft/index.js';
import { highestPeerIdAt, newPeerId } from '../raftstore/index.js';
import type { StoreId } from '../api/ids.js';
import { checkOrWriteIdentity } from './identity.js';
import type { IdentityCheck, IdentityResult, PeerIdentity } from './identity.js';

const EMPTY: PeerIdentity = { ready: true, clusterId: '', heardTerm: 0, heardPeer: 0, confVer: 0 };
/** Another member's answer: it heard up to `heardTerm` from our peer `heardPeer` (store 1's bootstrap peer is 1). */
const MEMBER = (heardTerm: number, confVer = 1, heardPeer = heardTerm > 0 ? 1 : 0): PeerIdentity => ({ ready: true, clusterId: 'c1', heardTerm, heardPeer, confVer });

async function check(answers: Record<number, PeerIdentity | 'down'>, o: Partial<IdentityCheck> = {}): Promise<{ kv: KvEngine; raft: KvEngine; err?: Error; result?: IdentityResult }> {
  const kv = o.kv ?? await openMemoryEngine();
  const raft = o.raft ?? await openMemoryEngine();
  let result: IdentityResult | undefined;
  const err = await checkOrWriteIdentity({
    kv, raft, dir: '/data/store-1', clusterId: 'c1', storeId: 1, peers: [2, 3], waitMs: 300, logger: silentLogger,
    ask: async (p) => {
      const a = answers[p];
      if (!a || a === 'down') throw new Error('connection refused');
      return a;
    },
    ...o,
  }).then((r) => { result = r; return undefined; }, (e: Error) => e);
  return { kv, raft, ...(err ? { err } : {}), ...(result ? { result } : {}) };
}

const identOf = async (kv: KvEngine) => {
  const raw = await kv.get(keys.storeIdentKey());
  return raw && raft_serverpb.StoreIdent.decode(raw).cluster_id;
};
const minPeerIdOf = async (kv: KvEngine) => {
  const raw = await kv.get(keys.storeIdentKey());
  return raw && Number(raft_serverpb.StoreIdent.decode(raw).min_peer_id);
};

t.test('a new cluster: every other store answers and none has heard from us, so we bootstrap', async (t) => {
  const r = await check({ 2: EMPTY, 3: EMPTY });
  t.equal(r.err, undefined);
  t.equal(await identOf(r.kv), 'c1', 'the identity is written');
});

t.test('a store that joins late but never took part may still bootstrap', async (t) => {
  const r = await check({ 2: MEMBER(0), 3: MEMBER(0) });
  t.equal(r.err, undefined);
});

t.test('a store another store has heard from lost its state: refused', async (t) => {
  const r = await check({ 2: MEMBER(0), 3: MEMBER(12) });
  t.match(r.err, { code: 'LOST_STATE', message: /store 1: its data directory \/data\/store-1 is empty, but store 3 has heard from it \(up to raft term 12\)/ });
  t.equal(await identOf(r.kv), undefined, 'nothing written');
});

t.test('a store that cannot reach everyone cannot tell, and refuses after the wait', async (t) => {
  const r = await check({ 2: EMPTY, 3: 'down' });
  t.match(r.err, { code: 'LOST_STATE', message: /store 3 \(connection refused\) did not answer within 0 s, so it cannot tell a first start from a lost disk/ });
  const starting = await check({ 2: EMPTY, 3: { ready: false, clusterId: '', heardTerm: 0, heardPeer: 0, confVer: 0 } });
  t.match(starting.err, { message: /store 3 \(starting\)/ }, 'a store whose engines are not open yet counts as no answer');
});

t.test('another cluster\'s store in our cluster file: refused as foreign', async (t) => {
  const r = await check({ 2: EMPTY, 3: { ready: true, clusterId: 'other', heardTerm: 0, heardPeer: 0, confVer: 0 } });
  t.match(r.err, { code: 'FOREIGN_DATA_DIR', message: /store 3 belongs to cluster "other"/ });
});

t.test('kvdb wiped but raftdb kept: refused', async (t) => {
  const raft = await openMemoryEngine();
  await raft.write(new WriteBatch().put(keys.raftStateKey(1), Buffer.from('x')), { sync: true });
  const r = await check({ 2: EMPTY, 3: EMPTY }, { raft });
  t.match(r.err, { code: 'LOST_STATE', message: /kvdb has no store identity but raftdb holds raft state/ });
});

const regionWith = (peerOfStore1: number, state = raft_serverpb.PeerState.Normal, confVer = 1) => raft_serverpb.RegionLocalState.encode({
  state,
  region: {
    id: 1, region_epoch: { conf_ver: confVer, version: 1 },
    peers: [...(peerOfStore1 > 0 ? [{ id: peerOfStore1, store_id: 1 }] : []), { id: 2, store_id: 2 }, { id: 3, store_id: 3 }],
  },
}).finish();

async function existing(term: number, peer = 1, minPeerId = 0): Promise<{ kv: KvEngine; raft: KvEngine }> {
  const kv = await openMemoryEngine();
  const raft = await openMemoryEngine();
  await kv.write(new WriteBatch().put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: 'c1', store_id: 1, min_peer_id: minPeerId }).finish())
    .put(keys.regionStateKey(1), regionWith(peer)), { sync: true });
  await raft.write(new WriteBatch().put(keys.raftStateKey(1), raft_serverpb.RaftLocalState.encode({
    hard_state: { term, vote: 2, commit: 10 }, last_index: 10, last_term: term,
  }).finish()), { sync: true });
  return { kv, raft };
}

t.test('a restart with data: fine when nobody heard a newer term from us, even with stores down', async (t) => {
  t.equal((await check({ 2: MEMBER(9), 3: 'down' }, await existing(9))).err, undefined);
});

t.test('a restart on an older copy (a backup): another store heard a newer term from us, so refused', async (t) => {
  const r = await check({ 2: MEMBER(14), 3: MEMBER(9) }, await existing(9));
  t.match(r.err, { code: 'LOST_STATE', message: /holds raft term 9, but store 2 has heard term 14 from it: the data is older than what this store has said/ });
});

t.test('a joining store on an empty directory: being heard of is fine, and every peer id that could have been its own is fenced off', async (t) => {
  const r = await check({ 2: MEMBER(12, 4), 3: MEMBER(12, 6) }, { join: true });
  t.equal(r.err, undefined, 'not refused although store 3 heard term 12 from it');
  t.equal(await minPeerIdOf(r.kv), highestPeerIdAt(6), 'min_peer_id from the newest conf_ver any store reports');
  t.ok(highestPeerIdAt(6) >= newPeerId(5, 1 as StoreId), 'covers the peer a change proposed at conf_ver 5 gave store 1');
  t.ok(newPeerId(6, 1 as StoreId) > highestPeerIdAt(6), 'and not the one the next change gives it');
  const again = await check({ 2: MEMBER(12, 4), 3: 'down' }, { join: true, kv: r.kv, raft: r.raft });
  t.equal(again.err, undefined, 'restarted before being added (no peer yet): no rollback check, stores may be down');
});

t.test('a joining store waits for every other store, since one that does not answer may know a newer conf_ver', async (t) => {
  const r = await check({ 2: MEMBER(0, 3), 3: 'down' }, { join: true });
  t.match(r.err, { code: 'LOST_STATE', message: /cannot tell which peers it may have had before; it joins only once every other store/ });
});

t.test('a store whose peer was removed (tombstone): what it said as that peer is fine, a newer peer is not', async (t) => {
  const tombstoned = async () => {
    const kv = await openMemoryEngine();
    await kv.write(new WriteBatch().put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: 'c1', store_id: 1 }).finish())
      .put(keys.regionStateKey(1), regionWith(0, raft_serverpb.PeerState.Tombstone, 2)), { sync: true });
    return { kv, raft: await openMemoryEngine() };
  };
  t.equal((await check({ 2: MEMBER(14), 3: MEMBER(9) }, await tombstoned())).err, undefined, 'heard from its removed peer 1');
  const later = newPeerId(3, 1 as StoreId);
  const r = await check({ 2: MEMBER(15, 4, later), 3: MEMBER(9) }, await tombstoned());
  t.match(r.err, { code: 'LOST_STATE', message: new RegExp(`store 2 has heard from peer ${later} of this store .* knows no such peer`) },
    'an older copy: the store was added back as a new peer after this copy was taken');
});

t.test('a joined store restarted before its peer exists: fine unless a newer peer of it has spoken (an older copy)', async (t) => {
  const fence = highestPeerIdAt(3);
  const joined = async () => {
    const kv = await openMemoryEngine();
    await kv.write(new WriteBatch().put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: 'c1', store_id: 1, min_peer_id: fence }).finish()), { sync: true });
    return { kv, raft: await openMemoryEngine() };
  };
  t.equal((await check({ 2: MEMBER(14, 3, 1), 3: 'down' }, await joined())).err, undefined, 'heard only from a peer it had before it joined');
  const added = newPeerId(3, 1 as StoreId);
  const r = await check({ 2: MEMBER(16, 4, added), 3: MEMBER(0, 4) }, await joined());
  t.match(r.err, { code: 'LOST_STATE', message: new RegExp(`heard from peer ${added} of this store`) },
    'a backup taken before peer was added, restored after it voted: refused, never recreated as that peer');
});

t.test('a replaced store with its new peer: what its old peer said at a higher term is no rollback', async (t) => {
  const mine = newPeerId(2, 1 as StoreId);
  t.equal((await check({ 2: MEMBER(20, 3, 1), 3: MEMBER(20, 3, 1) }, await existing(0, mine, highestPeerIdAt(2)))).err, undefined);
  const r = await check({ 2: MEMBER(20, 3, mine), 3: MEMBER(0, 3) }, await existing(7, mine, highestPeerIdAt(2)));
  t.match(r.err, { code: 'LOST_STATE', message: /holds raft term 7, but store 2 has heard term 20 from it/ }, 'but the new peer rolled back is');
});

t.test('a joining store fences off every peer of it anyone heard from, even if its conf_ver lags', async (t) => {
  const r = await check({ 2: MEMBER(12, 2, newPeerId(5, 1 as StoreId)), 3: MEMBER(0, 2) }, { join: true });
  t.equal(await minPeerIdOf(r.kv), newPeerId(5, 1 as StoreId));
});

t.test('a data directory that belongs to another store or another cluster, or whose identity is unreadable, is refused as foreign', async (t) => {
  const withIdent = async (value: Uint8Array) => {
    const kv = await openMemoryEngine();
    await kv.write(new WriteBatch().put(keys.storeIdentKey(), value), { sync: true });
    return { kv, raft: await openMemoryEngine() };
  };
  const ident = (cluster_id: string, store_id: number) => raft_serverpb.StoreIdent.encode({ cluster_id, store_id }).finish();
  const otherStore = await check({ 2: EMPTY, 3: EMPTY }, await withIdent(ident('c1', 2)));
  t.match(otherStore.err, { code: 'FOREIGN_DATA_DIR', message: /\/data\/store-1 belongs to store 2, not store 1; refusing to start/ });
  const otherCluster = await check({ 2: EMPTY, 3: EMPTY }, await withIdent(ident('c0', 1)));
  t.match(otherCluster.err, { code: 'FOREIGN_DATA_DIR', message: /belongs to cluster "c0", not "c1"; refusing to start/ });
  const garbage = await check({ 2: EMPTY, 3: EMPTY }, await withIdent(Buffer.from([0xff, 0xff, 0xff])));
  t.match(garbage.err, { code: 'FOREIGN_DATA_DIR', message: /has an unreadable store identity/ });
});

t.test('an empty store asks again a store that was still starting, and bootstraps once it answers', async (t) => {
  quickRetries(t);
  let asked3 = 0;
  const r = await check({ 2: EMPTY }, {
    // Long enough that the one retry always comes before the deadline.
    waitMs: 60_000,
    ask: async (p) => {
      if (p === 2) return EMPTY;
      asked3++;
      return asked3 === 1 ? { ...EMPTY, ready: false } : EMPTY;
    },
  });
  t.equal(r.err, undefined);
  t.equal(asked3, 2);
  t.equal(await identOf(r.kv), 'c1');
});

t.test('a joining store in a cluster where no store has a region yet fences off no peer id', async (t) => {
  const r = await check({ 2: EMPTY, 3: EMPTY }, { join: true });
  t.equal(r.err, undefined);
  t.equal(await minPeerIdOf(r.kv), 0);
});

t.test('a store with data: an answer from a store still starting is no answer', async (t) => {
  const starting = { ...MEMBER(14), ready: false };
  t.equal((await check({ 2: starting, 3: starting }, await existing(9))).err, undefined);
});

t.test('a record from before peer ids were kept (peer 0) is compared by term', async (t) => {
  const r = await check({ 2: MEMBER(14, 1, 0), 3: MEMBER(9) }, await existing(9));
  t.match(r.err, { code: 'LOST_STATE', message: /holds raft term 9, but store 2 has heard term 14 from it/ });
});

/** A logger that keeps what it was told, in order, for the tests of what an operator reads in the log. */
function recordingLogger(): { logger: Logger; lines: { level: string; msg: string; fields?: LogFields }[] } {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => { lines.push({ level, msg, ...(fields ? { fields } : {}) }); };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Date.now frozen at `now`, so a test decides when the wait is over without waiting. */
function frozenClock(t: Test): { advance: (ms: number) => void } {
  const real = Date.now;
  let now = real();
  Date.now = () => now;
  t.teardown(() => { Date.now = real; });
  return { advance: (ms) => { now += ms; } };
}

/**
 * The empty store's retry pause (RETRY_MS, 250 ms in identity.ts) runs at once: the tests
 * that retry decide through their answers and the frozen clock, not by sitting through it.
 */
function quickRetries(t: Test): void {
  const real = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => real(fn, ms === 250 ? 0 : ms, ...rest)) as typeof setTimeout;
  t.teardown(() => { globalThis.setTimeout = real; });
}

t.test('every lost-state refusal tells the operator how to recover: restore the store\'s own data, or tinykv store replace', async (t) => {
  const advice = [/It cannot rejoin as the member it was/, /restore store 1's own latest data directory if you have it/,
    /otherwise run tinykv store replace --store 1, which removes its old peer while the other stores keep serving/,
    /adds it back empty to catch up from them\.$/];
  const raft = await openMemoryEngine();
  await raft.write(new WriteBatch().put(keys.raftStateKey(1), Buffer.from('x')), { sync: true });
  const refusals = {
    'kvdb wiped, raftdb kept': (await check({ 2: EMPTY, 3: EMPTY }, { raft })).err,
    'heard from on an empty directory': (await check({ 2: MEMBER(0), 3: MEMBER(12) })).err,
    'a newer peer of it spoke': (await check({ 2: MEMBER(15, 4, newPeerId(3, 1 as StoreId)), 3: MEMBER(9) }, await existing(9))).err,
    'an older term': (await check({ 2: MEMBER(14), 3: MEMBER(9) }, await existing(9))).err,
  };
  t.match(refusals['kvdb wiped, raftdb kept'], { message: /part of the data directory was lost\. It cannot rejoin/ });
  t.match(refusals['a newer peer of it spoke'], { message: /\(restored from a backup, or a disk that lost writes\)\. It cannot rejoin/ });
  t.match(refusals['an older term'], { message: /disk that lost writes\), and it could vote twice in one term\. It cannot rejoin/ });
  for (const [what, err] of Object.entries(refusals)) {
    for (const phrase of advice) t.match(err, { code: 'LOST_STATE', message: phrase }, what);
  }
});

t.test('another cluster\'s store in the cluster file: the refusal says to check the cluster file', async (t) => {
  const r = await check({ 2: EMPTY, 3: { ...EMPTY, clusterId: 'other' } });
  t.match(r.err, { message: /store 1: store 3 belongs to cluster "other", not "c1"; check the cluster file/ });
});

t.test('the first start makes its identity durable (sync) before the store acts on it', async (t) => {
  const kv = await openMemoryEngine();
  const syncs: (boolean | undefined)[] = [];
  const write = kv.write.bind(kv);
  kv.write = (wb, opts) => { syncs.push(opts?.sync); return write(wb, opts); };
  t.equal((await check({ 2: EMPTY, 3: EMPTY }, { kv })).err, undefined);
  t.same(syncs, [true]);
});

t.test('the check hands the store the min_peer_id it recorded on a first start, and the one on record on a restart', async (t) => {
  const joined = await check({ 2: MEMBER(12, 4), 3: MEMBER(12, 6) }, { join: true });
  t.same(joined.result, { minPeerId: highestPeerIdAt(6) }, 'first start, joining');
  const restart = await check({ 2: MEMBER(9), 3: MEMBER(9) }, await existing(9, newPeerId(2, 1 as StoreId), highestPeerIdAt(2)));
  t.same(restart.result, { minPeerId: highestPeerIdAt(2) }, 'restart');
});

t.test('a bootstrapping store fences off no peer id, even when the other stores report regions (it never took part)', async (t) => {
  const r = await check({ 2: MEMBER(0, 5), 3: MEMBER(0, 7) });
  t.equal(r.err, undefined);
  t.equal(await minPeerIdOf(r.kv), 0);
  t.same(r.result, { minPeerId: 0 });
});

t.test('an empty store whose wait is over refuses, naming every store that did not answer and the wait in seconds', async (t) => {
  const clock = frozenClock(t);
  for (const join of [false, true]) {
    const r = await check({}, {
      join, waitMs: 30_000,
      // Nobody answers, and the 30 s are over once both were asked: one round, no retry.
      ask: async (p) => { clock.advance(15_000); throw new Error(`store ${p} refused`); },
    });
    t.match(r.err, { code: 'LOST_STATE', message: /^store 1: its data directory \/data\/store-1 is empty and store 2 \(store 2 refused\), store 3 \(store 3 refused\) did not answer within 30 s, so it cannot tell / }, `join: ${join}`);
    if (join) {
      t.match(r.err, { message: /it joins only once every other store in the cluster file answers \(start them, or mark a store that is gone for good with tinykv store remove\)\.$/ });
    } else {
      t.match(r.err, { message: /a first start from a lost disk\. Start every store of the cluster together \(tinykv cluster up\); if this store did lose its disk, see the recovery in the README\.$/ });
    }
  }
});

t.test('an empty store asks once more while time is left, and not once the wait is over (the deadline itself is over)', async (t) => {
  quickRetries(t);
  const clock = frozenClock(t);
  let asked3 = 0;
  const r = await check({ 2: EMPTY }, {
    waitMs: 1000,
    ask: async (p) => {
      if (p === 2) return EMPTY;
      asked3++;
      // The first answer comes with time left, the second exactly at the deadline.
      clock.advance(asked3 === 1 ? 999 : 1);
      throw new Error('connection refused');
    },
  });
  t.match(r.err, { code: 'LOST_STATE', message: /store 3 \(connection refused\) did not answer within 1 s/ });
  t.equal(asked3, 2, 'asked again after 999 ms, and refused on reaching the deadline without a third try');
});

t.test('an empty store logs once, before its first retry, whom it is waiting for and why', async (t) => {
  quickRetries(t);
  for (const join of [false, true]) {
    const { logger, lines } = recordingLogger();
    const events: string[] = [];
    let asked3 = 0;
    const r = await check({ 2: EMPTY }, {
      join, waitMs: 60_000,
      logger: { ...logger, info: (msg, fields) => { events.push('log'); logger.info(msg, fields); } },
      // Two rounds where store 3 is still starting, then it answers (two retries).
      ask: async (p) => {
        if (p === 2) return EMPTY;
        events.push('ask 3');
        return ++asked3 < 3 ? { ...EMPTY, ready: false } : EMPTY;
      },
    });
    t.equal(r.err, undefined);
    t.same(events, ['ask 3', 'log', 'ask 3', 'ask 3', 'log'], 'the waiting line once, after the first unanswered round');
    t.match(lines[0], {
      level: 'info', msg: `data directory is empty: waiting for every other store to answer before ${join ? 'joining' : 'bootstrapping'}`,
      fields: { waiting: [3], waitMs: 60_000 },
    });
  }
});

t.test('a store with data warns how many stores did not answer (down or still starting), and only then', async (t) => {
  const starting = { ...MEMBER(9), ready: false };
  const some = recordingLogger();
  t.equal((await check({ 2: MEMBER(9), 3: 'down', 4: starting, 5: starting }, { ...await existing(9), peers: [2, 3, 4, 5], logger: some.logger })).err, undefined);
  t.same(some.lines, [{ level: 'warn', msg: 'some stores did not answer the identity check', fields: { unanswered: 3, durableTerm: 9 } }]);
  const all = recordingLogger();
  t.equal((await check({ 2: MEMBER(9), 3: MEMBER(8) }, { ...await existing(9), logger: all.logger })).err, undefined);
  t.same(all.lines, [], 'every store answered: nothing to warn of');
});

/** A store with data whose raft state and region state are given as is (undefined: absent). */
async function withState(raftState: Uint8Array | undefined, regionState: Uint8Array | undefined, minPeerId = 0): Promise<{ kv: KvEngine; raft: KvEngine }> {
  const kv = await openMemoryEngine();
  const raft = await openMemoryEngine();
  const wb = new WriteBatch().put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: 'c1', store_id: 1, min_peer_id: minPeerId }).finish());
  await kv.write(regionState ? wb.put(keys.regionStateKey(1), regionState) : wb, { sync: true });
  if (raftState) await raft.write(new WriteBatch().put(keys.raftStateKey(1), raftState), { sync: true });
  return { kv, raft };
}
const raftStateAt = (term: number) => raft_serverpb.RaftLocalState.encode({ hard_state: { term, vote: 2, commit: 10 }, last_index: 10, last_term: term }).finish();

t.test('a store with neither raft state nor region state has no peer: a higher term heard from it is no rollback, even without a peer id', async (t) => {
  const r = await check({ 2: MEMBER(14, 3, 0), 3: MEMBER(14, 3, 0) }, await withState(undefined, undefined, highestPeerIdAt(3)));
  t.equal(r.err, undefined);
});

t.test('raft state without a region state is a live peer: its durable term is compared', async (t) => {
  const r = await check({ 2: MEMBER(14, 3, 0), 3: MEMBER(9) }, await withState(raftStateAt(9), undefined));
  t.match(r.err, { code: 'LOST_STATE', message: /holds raft term 9, but store 2 has heard term 14 from it/ });
});

t.test('a raft state without a hard state holds term 0', async (t) => {
  const noHardState = raft_serverpb.RaftLocalState.encode({ last_index: 0 }).finish();
  t.equal((await check({ 2: MEMBER(0), 3: MEMBER(0) }, await withState(noHardState, regionWith(1)))).err, undefined, 'nobody heard a term from it');
  const r = await check({ 2: MEMBER(3), 3: MEMBER(0) }, await withState(noHardState, regionWith(1)));
  t.match(r.err, { code: 'LOST_STATE', message: /holds raft term 0, but store 2 has heard term 3 from it/ });
});

t.test('the durable term is the highest across the store\'s regions', async (t) => {
  const s = await withState(raftStateAt(9), regionWith(1));
  await s.raft.write(new WriteBatch().put(keys.raftStateKey(2), raftStateAt(14)), { sync: true });
  t.equal((await check({ 2: MEMBER(14), 3: MEMBER(9) }, { ...s, regionIds: [2, 1] })).err, undefined);
  t.match((await check({ 2: MEMBER(15), 3: MEMBER(9) }, { ...s, regionIds: [2, 1] })).err, { message: /holds raft term 14, but store 2 has heard term 15/ });
});

t.test('a tombstone fences every peer id given out up to its conf_ver: a peer of this store added before the removal is no rollback', async (t) => {
  const before = newPeerId(1, 1 as StoreId);
  const r = await check({ 2: MEMBER(14, 2, before), 3: MEMBER(9) }, await withState(undefined, regionWith(0, raft_serverpb.PeerState.Tombstone, 2)));
  t.equal(r.err, undefined);
});

t.test('a tombstone without its region (or its epoch) fences only the bootstrap peer ids', async (t) => {
  const tombstones = {
    'no region': raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Tombstone }).finish(),
    'no epoch': raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Tombstone, region: { id: 1 } }).finish(),
  };
  for (const [what, state] of Object.entries(tombstones)) {
    t.equal((await check({ 2: MEMBER(14), 3: MEMBER(9) }, await withState(undefined, state))).err, undefined, `${what}: heard from bootstrap peer 1`);
    const added = newPeerId(0, 1 as StoreId);
    t.match((await check({ 2: MEMBER(14, 1, added), 3: MEMBER(9) }, await withState(undefined, state))).err,
      { message: new RegExp(`heard from peer ${added} of this store`) }, `${what}: a peer added later`);
  }
});

t.test('a live region state that does not list this store (or has no region) means no peer of it yet', async (t) => {
  const noRegion = raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Normal }).finish();
  for (const [what, state] of Object.entries({ 'not listed': regionWith(0), 'no region': noRegion })) {
    t.equal((await check({ 2: MEMBER(0), 3: MEMBER(0) }, await withState(raftStateAt(5), state))).err, undefined, what);
  }
});

t.test('this store\'s own peer is found wherever the region lists it, not taken from another store', async (t) => {
  const mine = newPeerId(2, 1 as StoreId);
  const listedLast = raft_serverpb.RegionLocalState.encode({
    state: raft_serverpb.PeerState.Normal,
    region: { id: 1, region_epoch: { conf_ver: 3, version: 1 }, peers: [{ id: 2, store_id: 2 }, { id: 3, store_id: 3 }, { id: mine, store_id: 1 }] },
  }).finish();
  t.equal((await check({ 2: MEMBER(9, 3, mine), 3: MEMBER(9, 3, mine) }, await withState(raftStateAt(9), listedLast, highestPeerIdAt(2)))).err, undefined,
    'heard from its own peer at its durable term');
  t.match((await check({ 2: MEMBER(12, 3, mine), 3: MEMBER(9, 3, mine) }, await withState(raftStateAt(9), listedLast, highestPeerIdAt(2)))).err,
    { message: /holds raft term 9, but store 2 has heard term 12 from it/ }, 'and compared by term as that peer');
});
