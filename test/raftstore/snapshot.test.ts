// Snapshots on a real in-process cluster (RocksDB in temp dirs, the in-memory network):
//   OneSnapshot (TinyKV 2C): a store cut off while the others write, delete and compact
//     past it comes back through one snapshot, with the deletion, and without a flood of
//     messages on the way;
//   a snapshot transfer cut by a partition half-way fails cleanly (nothing half-written
//     stays) and a new one completes after healing;
//   stepping a message: malformed input is dropped and the store goes on, a broken
//     invariant stops the store loudly.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { DeliberateBugs } from '../../src/raftstore/deliberate-bugs.js';
import type { RegionId, StoreId } from '../../src/raftstore/ids.js';
import type { KvClient } from '../../src/client/index.js';
import { enc, dec } from '../support/bytes.js';
import { eventually } from '../support/wait.js';

const TICK_MS = 10;
const seedOf = () => Number(process.env.SEED ?? Date.now() % 1_000_000);

async function writeKeys(client: KvClient, from: number, to: number, value = (i: number) => `v${i}`): Promise<void> {
  for (let i = from; i < to; i++) await client.put(enc(`k${String(i).padStart(5, '0')}`), enc(value(i)));
}

async function start(t: Test, o: {
  threshold: number; chunkBytes?: number; onFatal?: (id: StoreId, e: Error) => void; bugs?: DeliberateBugs;
}): Promise<Cluster> {
  const seed = seedOf();
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({
    stores: 3, seed, tickMs: TICK_MS, electionTick: 10, heartbeatTick: 2, compactLogThreshold: o.threshold,
    ...(o.chunkBytes ? { snapshotChunkBytes: o.chunkBytes } : {}), ...(o.onFatal ? { onFatal: o.onFatal } : {}),
    ...(o.bugs ? { deliberateBugs: o.bugs } : {}),
  });
  t.teardown(() => cluster.close());
  await cluster.waitForLeader();
  return cluster;
}

t.test('OneSnapshot: a store cut off while the others compact past it comes back by snapshot, quietly', async (t) => {
  const cluster = await start(t, { threshold: 10 });
  const client = cluster.client();
  const status = (id: StoreId) => cluster.store(id)!.status()[0]!;
  await client.put(enc('k1'), enc('v1'));
  await client.put(enc('k2'), enc('v2'));
  const leader = cluster.leaderId()!;
  const cut = cluster.ids.find((id) => id !== leader)!;
  await eventually(`store ${cut} has k2`, async () => dec(await cluster.store(cut)!.localGet(enc('k2'))) === 'v2');
  const cutLast = status(cut).lastIndex;
  cluster.network.isolate(cut);

  await client.put(enc('k3'), enc('v3'));
  await client.delete(enc('k2'));
  await writeKeys(client, 0, 40);
  const lead = cluster.leaderId()!;
  await eventually('the leader compacts past the cut-off store\'s log', () => status(lead).truncatedIndex > cutLast);
  t.equal(dec(await cluster.store(cut)!.localGet(enc('k3'))), undefined, 'while cut off it has not seen k3');

  const ticks = () => cluster.clock.now() / TICK_MS;
  const sent0 = cluster.network.sent;
  const ticks0 = ticks();
  cluster.network.heal();
  await eventually(`store ${cut} caught up`, () => status(cut).appliedIndex >= status(lead).commitIndex);
  // And 50 idle ticks more: nothing may keep exchanging messages.
  const caughtUp = ticks();
  await eventually('50 idle ticks pass', () => ticks() >= caughtUp + 50);
  const perTick = (cluster.network.sent - sent0) / (ticks() - ticks0);
  t.ok(perTick < 10, `${(cluster.network.sent - sent0)} messages in ${ticks() - ticks0} ticks (${perTick.toFixed(1)} per tick; heartbeats alone are ~1)`);

  const stats = cluster.store(cut)!.snapshots.snapshotStats();
  t.equal(stats.installed, 1, `store ${cut} installed one snapshot (at ${stats.lastInstalledIndex})`);
  t.ok(stats.lastInstalledIndex > cutLast, 'beyond its old log');
  t.equal(dec(await cluster.store(cut)!.localGet(enc('k3'))), 'v3', 'it has k3');
  t.equal(dec(await cluster.store(cut)!.localGet(enc('k2'))), undefined, 'and k2 is deleted there too');
  t.equal(dec(await cluster.store(cut)!.localGet(enc('k00039'))), 'v39', 'and the last write');
  const s = status(cut);
  t.ok(s.appliedIndex - s.truncatedIndex <= 20, `its log is bounded (applied ${s.appliedIndex}, truncated ${s.truncatedIndex})`);
  const files = await readdir(join(cluster.storeDir(cut), 'snap'));
  t.same(files, [], 'the staged snapshot file is gone once installed');

  // The store that came back serves as a full member: stop the other follower, and the
  // leader and the returned store still make a quorum with every key.
  const other = cluster.ids.find((id) => id !== lead && id !== cut)!;
  await cluster.stopStore(other);
  await client.put(enc('after'), enc('yes'));
  t.equal(dec(await client.get(enc('k3'))), 'v3');
  t.equal(dec(await client.get(enc('after'))), 'yes', 'writes commit with the returned store in the quorum');
});

t.test('a snapshot transfer cut by a partition half-way fails cleanly and completes after healing', async (t) => {
  const cluster = await start(t, { threshold: 20, chunkBytes: 4096 });
  const client = cluster.client();
  const status = (id: StoreId) => cluster.store(id)!.status()[0]!;
  const leader = cluster.leaderId()!;
  const lagging = cluster.ids.find((id) => id !== leader)!;
  await cluster.stopStore(lagging);
  const big = (i: number) => `${i}:${'x'.repeat(200)}`;
  await writeKeys(client, 0, 600, big);
  const lead = cluster.leaderId()!;
  await eventually('the leader compacted', () => status(lead).truncatedIndex > 300);

  let cutAt = 0;
  cluster.network.onSnapshotChunk = (_from, to, copied) => {
    if (to === lagging && cutAt === 0 && copied >= 3 * 4096) {
      cutAt = copied;
      cluster.network.isolate(lagging);
    }
  };
  await cluster.startStore(lagging);
  await eventually('a transfer was cut', () => cutAt > 0 && cluster.network.snapshotsFailed >= 1);
  t.ok(cutAt > 0, `cut after ${cutAt} bytes`);
  const staged = await readdir(join(cluster.storeDir(lagging), 'snap'));
  t.same(staged, [], 'nothing half-written stays in the receiver\'s staging area');
  t.equal(status(lagging).appliedIndex < status(lead).commitIndex, true, 'the store is still behind');

  cluster.network.heal();
  await eventually(`store ${lagging} caught up after healing`, () => status(lagging).appliedIndex >= status(lead).commitIndex, 20_000);
  t.ok(cluster.network.snapshotsSent >= 1, `${cluster.network.snapshotsSent} snapshot(s) delivered, ${cluster.network.snapshotsFailed} failed`);
  for (const i of [0, 299, 599]) {
    t.equal(dec(await cluster.store(lagging)!.localGet(enc(`k${String(i).padStart(5, '0')}`))), big(i), `key ${i} arrived whole`);
  }
  const leaderFiles = await readdir(join(cluster.storeDir(lead), 'snap'));
  t.ok(leaderFiles.length <= 1 && leaderFiles.every((f) => f.startsWith('gen-')), `the leader keeps at most its current snapshot file (${leaderFiles.join(', ')})`);
});

/**
 * Sends a follower a malformed message (must be dropped, the store goes on), then a
 * heartbeat that breaks Raft's commit <= last index invariant inside the step. Returns the
 * fatal errors reported within `waitMs`.
 */
async function stepErrors(t: Test, bugs: DeliberateBugs, waitMs: number): Promise<Array<[StoreId, Error]>> {
  const fatal: Array<[StoreId, Error]> = [];
  const cluster = await start(t, { threshold: 1000, onFatal: (id, e) => fatal.push([id, e]), bugs });
  const client = cluster.client();
  await client.put(enc('a'), enc('1'));
  const leader = cluster.leaderId()!;
  const victim = cluster.ids.find((id) => id !== leader)!;
  const st = cluster.store(victim)!.status()[0]!;
  const env = (message: object) => ({
    regionId: 1, fromPeer: { id: leader, storeId: leader }, toPeer: { id: victim, storeId: victim },
    regionEpoch: { confVer: 1, version: 1 }, message,
  }) as never;
  cluster.store(victim)!.onRaftMessage(env({ type: 'MsgHeartbeat', from: leader, to: victim, term: 0, commit: 1, context: new Uint8Array() }));
  await client.put(enc('b'), enc('2'));
  await eventually('the store goes on after a malformed message', async () => dec(await cluster.store(victim)?.localGet(enc('b'))) === '2');
  t.same(fatal, [], 'no fatal error for malformed input');
  cluster.store(victim)!.onRaftMessage(env({
    type: 'MsgHeartbeat', from: leader, to: victim, term: st.term, commit: st.lastIndex + 1000, context: new Uint8Array(),
  }));
  await eventually('a fatal error is reported', () => fatal.length > 0, waitMs).catch(() => undefined);
  if (fatal.length > 0) await eventually('the failed store stops', () => cluster.store(victim) === undefined);
  return fatal;
}

t.test('a malformed raft message is dropped; a broken invariant stops the store loudly', async (t) => {
  const fatal = await stepErrors(t, {}, 10_000);
  t.equal(fatal.length, 1, 'one fatal error');
  t.match(fatal[0]?.[1].message, /invariant broken while stepping MsgHeartbeat.*commit \d+ is beyond the last index/, fatal[0]?.[1].message);
});

t.test('swallowStepErrors (a planted bug): the broken invariant goes unreported, which the check above catches', async (t) => {
  const fatal = await stepErrors(t, { swallowStepErrors: true }, 1_000);
  t.same(fatal, [], 'nothing reported: the assertion "one fatal error" would fail');
});

/**
 * A store cut off while a session's write applies gets the session table through its
 * snapshot; a retry of that write (same client id and sequence) after the snapshot must
 * be a no-op on every replica. Returns what each store then holds under the key.
 */
async function sessionsThroughSnapshot(t: Test, bugs: DeliberateBugs): Promise<Map<StoreId, string | undefined>> {
  const cluster = await start(t, { threshold: 10, bugs });
  const status = (id: StoreId) => cluster.store(id)!.status()[0]!;
  const client = cluster.client();
  const leader = cluster.leaderId()!;
  const cut = cluster.ids.find((id) => id !== leader)!;
  cluster.network.isolate(cut);
  const header = { regionId: 1 as RegionId };
  const session = { clientId: 777, sequence: 1, sentAtMs: Date.now() };
  await cluster.store(leader)!.put(header, enc('dup'), enc('first'), session);
  await client.put(enc('dup'), enc('second'));
  await writeKeys(client, 0, 30);
  await eventually('the leader compacts past the cut-off store', () => status(leader).truncatedIndex > status(cut).lastIndex);
  cluster.network.heal();
  await eventually(`store ${cut} installs a snapshot`, () => cluster.store(cut)!.snapshots.snapshotStats().installed > 0);
  // The client's retry of its first write, long after the fact: a duplicate.
  await cluster.store(leader)!.put(header, enc('dup'), enc('first'), session);
  await client.put(enc('marker'), enc('m'));
  await eventually('every store applied the marker', async () => {
    for (const id of cluster.ids) if (dec(await cluster.store(id)!.localGet(enc('marker'))) !== 'm') return false;
    return true;
  });
  const out = new Map<StoreId, string | undefined>();
  for (const id of cluster.ids) out.set(id, dec(await cluster.store(id)!.localGet(enc('dup'))));
  return out;
}

t.test('client sessions travel with the snapshot: a retried write stays a no-op on the store that installed it', async (t) => {
  const held = await sessionsThroughSnapshot(t, {});
  t.same([...held.values()], ['second', 'second', 'second'], `every store holds the later write (${JSON.stringify([...held])})`);
});

t.test('skipSessionReloadAfterSnapshot (a planted bug): the retry applies again on that store, which the check above catches', async (t) => {
  const held = await sessionsThroughSnapshot(t, { skipSessionReloadAfterSnapshot: true });
  t.ok([...held.values()].includes('first'), `a replica diverged: ${JSON.stringify([...held])}`);
});
