// The identity rule (identity.ts): when a store on an empty data directory may bootstrap,
// when it must refuse, and when a store with data is recognised as rolled back.

import t from 'tap';
import * as keys from '../engine/keys.js';
import { WriteBatch } from '../engine/kv-engine.js';
import type { KvEngine } from '../engine/kv-engine.js';
import { openMemoryEngine } from '../engine/memory-engine.js';
import { raft_serverpb } from '../gen/proto.js';
import { silentLogger } from '../raft/index.js';
import { highestPeerIdAt, newPeerId } from '../raftstore/ids.js';
import type { StoreId } from '../raftstore/ids.js';
import { checkOrWriteIdentity } from './identity.js';
import type { IdentityCheck, PeerIdentity } from './identity.js';

const EMPTY: PeerIdentity = { ready: true, clusterId: '', heardTerm: 0, heardPeer: 0, confVer: 0 };
/** Another member's answer: it heard up to `heardTerm` from our peer `heardPeer` (store 1's bootstrap peer is 1). */
const MEMBER = (heardTerm: number, confVer = 1, heardPeer = heardTerm > 0 ? 1 : 0): PeerIdentity => ({ ready: true, clusterId: 'c1', heardTerm, heardPeer, confVer });

async function check(answers: Record<number, PeerIdentity | 'down'>, o: Partial<IdentityCheck> = {}): Promise<{ kv: KvEngine; raft: KvEngine; err?: Error }> {
  const kv = o.kv ?? await openMemoryEngine();
  const raft = o.raft ?? await openMemoryEngine();
  const err = await checkOrWriteIdentity({
    kv, raft, dir: '/data/store-1', clusterId: 'c1', storeId: 1, peers: [2, 3], waitMs: 300, logger: silentLogger,
    ask: async (p) => {
      const a = answers[p];
      if (!a || a === 'down') throw new Error('connection refused');
      return a;
    },
    ...o,
  }).then(() => undefined, (e: Error) => e);
  return { kv, raft, ...(err ? { err } : {}) };
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
  let asked3 = 0;
  const r = await check({ 2: EMPTY }, {
    // Long enough that the one retry (after 250 ms) always comes before the deadline.
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
