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

const EMPTY: PeerIdentity = { ready: true, clusterId: '', heardTerm: 0, confVer: 0 };
const MEMBER = (heardTerm: number, confVer = 1): PeerIdentity => ({ ready: true, clusterId: 'c1', heardTerm, confVer });

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
  const starting = await check({ 2: EMPTY, 3: { ready: false, clusterId: '', heardTerm: 0, confVer: 0 } });
  t.match(starting.err, { message: /store 3 \(starting\)/ }, 'a store whose engines are not open yet counts as no answer');
});

t.test('another cluster\'s store in our cluster file: refused as foreign', async (t) => {
  const r = await check({ 2: EMPTY, 3: { ready: true, clusterId: 'other', heardTerm: 0, confVer: 0 } });
  t.match(r.err, { code: 'FOREIGN_DATA_DIR', message: /store 3 belongs to cluster "other"/ });
});

t.test('kvdb wiped but raftdb kept: refused', async (t) => {
  const raft = await openMemoryEngine();
  await raft.write(new WriteBatch().put(keys.raftStateKey(1), Buffer.from('x')), { sync: true });
  const r = await check({ 2: EMPTY, 3: EMPTY }, { raft });
  t.match(r.err, { code: 'LOST_STATE', message: /kvdb has no store identity but raftdb holds raft state/ });
});

async function existing(term: number): Promise<{ kv: KvEngine; raft: KvEngine }> {
  const kv = await openMemoryEngine();
  const raft = await openMemoryEngine();
  await kv.write(new WriteBatch().put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: 'c1', store_id: 1 }).finish()), { sync: true });
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

t.test('a restart of a store whose peer was removed (tombstone): nothing to roll back', async (t) => {
  const kv = await openMemoryEngine();
  const raft = await openMemoryEngine();
  await kv.write(new WriteBatch().put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: 'c1', store_id: 1 }).finish())
    .put(keys.regionStateKey(1), raft_serverpb.RegionLocalState.encode({ state: raft_serverpb.PeerState.Tombstone, region: { id: 1 } }).finish()), { sync: true });
  t.equal((await check({ 2: MEMBER(14), 3: MEMBER(9) }, { kv, raft })).err, undefined);
});
