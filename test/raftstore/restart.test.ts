// Restarts on an in-process 3-store cluster: acknowledged writes survive stopping and
// restarting every store; a minority store stopped while writes continue catches up
// after it restarts; stop() settles every proposal and read in flight (pendingCount()
// is 0 afterwards); stopping a store twice is harmless; and a store whose log was
// damaged while it was down refuses to start instead of resetting.

import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { KvClient } from '../../src/client/index.js';
import { keys } from '../../src/engine/index.js';
import { WriteBatch } from '../../src/engine/index.js';
import { openRocksEngine } from '../../src/engine/index.js';
import { StoreStoppedError } from '../../src/raftstore/errors.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { enc, dec } from '../support/bytes.js';
import { eventually } from '../support/wait.js';

const key = (i: number) => `key-${String(i).padStart(4, '0')}`;
const value = (i: number, round: number) => `value-${i}-r${round}`;

async function startCluster(t: Test): Promise<Cluster> {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 10, electionTick: 20, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  await cluster.waitForLeader();
  return cluster;
}

/** Waits until store `id` has applied exactly `want` for every key. */
async function storeHas(cluster: Cluster, id: StoreId, want: ReadonlyMap<string, string>): Promise<void> {
  await eventually(`store ${id} applies all ${want.size} acknowledged writes`, async () => {
    const s = cluster.store(id);
    if (!s) return false;
    for (const [k, v] of want) if (dec(await s.localGet(enc(k))) !== v) return false;
    return true;
  });
}

t.test('acknowledged writes survive stopping and restarting every store', async (t) => {
  const cluster = await startCluster(t);
  const client = cluster.client({ timeoutMs: 15_000 });
  const acked = new Map<string, string>();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 25; i++) {
      await client.put(enc(key(i)), enc(value(i, round)));
      acked.set(key(i), value(i, round));
    }
    await client.delete(enc(key(round)));
    acked.delete(key(round));
    await cluster.restartAll();
    t.comment(`round ${round}: restarted all stores`);
    await cluster.waitForLeader();
    const reader = cluster.client({ timeoutMs: 15_000 });
    const all = await reader.scan(Buffer.alloc(0), Buffer.alloc(0), 1000);
    t.same(all.map(([k, v]) => [dec(k), dec(v)]), [...acked].sort(([a], [b]) => (a < b ? -1 : 1)),
      `round ${round}: after restartAll, a scan returns exactly the acknowledged writes`);
    for (const id of cluster.ids) await storeHas(cluster, id, acked);
    t.pass(`round ${round}: every store holds every acknowledged write`);
  }
  // The old client keeps working after the restart (its session is remembered, not reset).
  await client.put(enc('after'), enc('restart'));
  t.equal(dec(await client.get(enc('after'))), 'restart');
});

/** Writes key after key until told to stop; records only acknowledged writes. */
function writer(client: KvClient, acked: Map<string, string>, prefix: string) {
  let stop = false;
  let n = 0;
  const done = (async () => {
    while (!stop) {
      const k = `${prefix}-${String(n).padStart(5, '0')}`;
      await client.put(enc(k), enc(`v${n}`));
      acked.set(k, `v${n}`);
      n++;
    }
  })();
  return { count: () => n, stop: async () => { stop = true; await done; } };
}

t.test('a minority store stopped while writes continue catches up after restart', async (t) => {
  const cluster = await startCluster(t);
  const leader = await cluster.waitForLeader();
  const follower = cluster.ids.find((id) => id !== leader)!;
  const acked = new Map<string, string>();
  const w = writer(cluster.client({ timeoutMs: 15_000 }), acked, 'w');

  await eventually('some writes before the stop', () => w.count() >= 10);
  await cluster.stopStore(follower);
  t.comment(`stopped follower ${follower} after ${w.count()} writes (leader ${leader})`);
  const atStop = w.count();
  await eventually('writes continue with one store down', () => w.count() >= atStop + 30);
  const beforeRestart = w.count();
  await cluster.startStore(follower);
  await eventually('writes continue while the store restarts', () => w.count() >= beforeRestart + 10);
  await w.stop();
  t.ok(acked.size >= 50, `${acked.size} writes acknowledged in all`);

  await storeHas(cluster, follower, acked);
  t.pass(`store ${follower} caught up with all ${acked.size} acknowledged writes`);
  const lead = cluster.leaderId()!;
  await eventually('the restarted store applies up to the leader\'s commit index', () =>
    cluster.store(follower)!.status()[0]!.appliedIndex >= cluster.store(lead)!.status()[0]!.commitIndex);
  for (const id of cluster.ids) await storeHas(cluster, id, acked);
  t.pass('every store holds every acknowledged write');
});

t.test('the stopped minority store may be the leader: the rest carry on and it catches up', async (t) => {
  const cluster = await startCluster(t);
  const leader = await cluster.waitForLeader();
  const acked = new Map<string, string>();
  const w = writer(cluster.client({ timeoutMs: 15_000 }), acked, 'l');
  await eventually('some writes before the stop', () => w.count() >= 10);
  await cluster.stopStore(leader);
  t.comment(`stopped leader ${leader} after ${w.count()} writes`);
  const atStop = w.count();
  await eventually('writes continue under a new leader', () => w.count() >= atStop + 20);
  await cluster.startStore(leader);
  await w.stop();
  for (const id of cluster.ids) await storeHas(cluster, id, acked);
  t.pass(`every store, including the old leader ${leader}, holds all ${acked.size} acknowledged writes`);
});

t.test('stop() settles proposals and reads in flight: pendingCount() is 0 afterwards', async (t) => {
  const cluster = await startCluster(t);
  const leader = await cluster.waitForLeader();
  const client = cluster.client();
  await client.put(enc('k'), enc('before'));
  await eventually('the leader has applied the first write', async () => dec(await cluster.store(leader)!.localGet(enc('k'))) === 'before');

  // Cut the leader off: what it proposes now can never commit.
  cluster.network.isolate(leader);
  const store = cluster.store(leader)!;
  const settle = (p: Promise<unknown>) => p.then(() => ({ ok: true as const }), (e: unknown) => ({ ok: false as const, error: e as Error }));
  const puts = [1, 2, 3].map((i) => settle(store.put({ regionId: 1 }, enc(`lost-${i}`), enc('x'), { clientId: 4242, sequence: i, sentAtMs: Date.now() })));
  const read = settle(store.get({ regionId: 1 }, enc('k')));
  t.equal(store.pendingCount(), 4, 'three proposals and one read are pending on the isolated leader');

  await cluster.stopStore(leader);
  t.equal(store.pendingCount(), 0, 'nothing pending after stop()');
  for (const [i, r] of (await Promise.all(puts)).entries()) {
    t.notOk(r.ok, `put ${i + 1} rejected`);
    if (!r.ok) {
      t.ok(r.error instanceof StoreStoppedError, `put ${i + 1}: StoreStoppedError (got ${r.error.constructor.name}: ${r.error.message})`);
      t.equal((r.error as StoreStoppedError).code, 'STORE_STOPPED');
    }
  }
  const rr = await read;
  t.notOk(rr.ok, 'the read was rejected');
  if (!rr.ok) t.ok(rr.error instanceof StoreStoppedError, `read: StoreStoppedError (got ${rr.error.message})`);

  // New requests to the stopped store are refused at once, not queued.
  const late = await settle(store.put({ regionId: 1 }, enc('late'), enc('x'), { clientId: 4242, sequence: 9, sentAtMs: Date.now() }));
  t.ok(!late.ok && late.error instanceof StoreStoppedError, 'a put after stop() is refused with StoreStoppedError');
  t.equal(store.pendingCount(), 0);

  // The rest of the cluster carries on and the restarted store rejoins.
  cluster.network.heal();
  await client.put(enc('k'), enc('after'));
  await cluster.startStore(leader);
  await eventually('the restarted store catches up', async () => dec(await cluster.store(leader)!.localGet(enc('k'))) === 'after');
  t.pass('the old leader caught up after restart');
});

t.test('stopping a store twice is harmless', async (t) => {
  const cluster = await startCluster(t);
  const client = cluster.client();
  await client.put(enc('a'), enc('1'));
  const id = cluster.ids[2]!;

  // Through the harness, one after the other.
  await cluster.stopStore(id);
  await cluster.stopStore(id);
  t.equal(cluster.store(id), undefined, 'the store is gone from the harness');
  await client.put(enc('b'), enc('2'));
  await cluster.startStore(id);
  await storeHas(cluster, id, new Map([['a', '1'], ['b', '2']]));
  t.pass('restarted after a double stop and caught up');

  // On the Store itself, one after the other: the second resolves and changes nothing.
  const s = cluster.store(id)!;
  await s.stop();
  await t.resolves(s.stop(), 'a second stop() resolves');
  t.equal(s.pendingCount(), 0);
  await cluster.stopStore(id); // the harness's own stop of the already stopped store
  await cluster.startStore(id);
  await client.put(enc('c'), enc('3'));
  await storeHas(cluster, id, new Map([['a', '1'], ['b', '2'], ['c', '3']]));
  t.pass('restarted again and caught up');
});

t.test('a second stop() while the first is running resolves only when the store is fully stopped', async (t) => {
  const cluster = await startCluster(t);
  await cluster.client().put(enc('a'), enc('1'));
  const id = cluster.ids[0]!;
  const s = cluster.store(id)!;
  let firstDone = false;
  const first = s.stop().then(() => { firstDone = true; });
  await s.stop();
  // stop() "awaits everything it started"; a caller of the second stop() (e.g. a fatal
  // error racing a shutdown) must be able to reopen the engines once it resolves.
  t.ok(firstDone, 'the second stop() resolved after the first finished (engines closed)');
  await first;
  const raft = await openRocksEngine(join(cluster.storeDir(id), 'raftdb'));
  await raft.close();
  t.pass('the engines can be reopened once both stops resolved');
  await cluster.stopStore(id);
});

t.test('a store whose raft log was damaged while it was down refuses to start (no silent reset)', async (t) => {
  const cluster = await startCluster(t);
  const client = cluster.client();
  for (let i = 0; i < 5; i++) await client.put(enc(key(i)), enc(value(i, 0)));
  const id = cluster.ids.find((x) => x !== cluster.leaderId())!;
  await storeHas(cluster, id, new Map([[key(4), value(4, 0)]]));
  await cluster.stopStore(id);

  // Remove one entry from the middle of its log.
  const raftDir = join(cluster.storeDir(id), 'raftdb');
  const raft = await openRocksEngine(raftDir);
  const [start, end] = keys.raftLogRange(1);
  const stored = await raft.scan({ start, end });
  t.ok(stored.length >= 3, `store ${id} has ${stored.length} log entries`);
  const victim = keys.decodeRaftLogKey(stored[1]![0]).index;
  await raft.write(new WriteBatch().delete(stored[1]![0]), { sync: true });
  await raft.close();

  const err = await cluster.startStore(id).then(() => undefined, (e: unknown) => e as Error & { code?: string });
  t.equal(err?.code, 'CORRUPT_STATE', `startStore fails with CORRUPT_STATE (${err?.message})`);
  t.match(err?.message ?? '', new RegExp(`store ${id}\\b.*gap.*expected entry ${victim}`), 'the message names the store and the gap');
  t.equal(cluster.store(id), undefined, 'the store is not running');

  // The failed start must not leave the engines open (locked): a repaired store must be able to start.
  const reopened = await openRocksEngine(raftDir).then((e) => e, (e: unknown) => e as Error);
  t.notOk(reopened instanceof Error, `raftdb can be reopened after the failed start${reopened instanceof Error ? ` (${reopened.message})` : ''}`);
  if (!(reopened instanceof Error)) await reopened.close();

  // The other two stores still serve.
  await client.put(enc('still'), enc('up'));
  t.equal(dec(await client.get(enc('still'))), 'up', 'the majority carries on');
});
