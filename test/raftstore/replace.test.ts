// Membership scenarios beyond grow and shrink (in-process, RocksDB), each under a recorded
// client load judged by the linearizability checker:
//   - replace a wiped store: it comes back empty and must never be taken for the peer it
//     was (that peer may have voted, or acknowledged entries it no longer has); only once
//     the old peer is removed is the store added again, as a new peer, and it then holds
//     the data for a quorum (planted bug `recreateOldPeers` shows the fence is what stops
//     it);
//   - remove a follower that is partitioned away: the others commit the removal, and when
//     the partition heals it learns of its removal and destroys its peer;
//   - transfer leadership repeatedly while messages are lost and a follower is partitioned;
//   - remove the leader (after leadership moved off it).

import t from 'tap';
import type { Test } from 'tap';
import { checkHistory } from '../../src/checker/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { DeliberateBugs } from '../../src/raftstore/deliberate-bugs.js';
import { highestPeerIdAt } from '../../src/raftstore/ids.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import type { RegionMeta } from '../../src/raftstore/region.js';
import { dataOf, startLoad } from './recorded-load.js';
import type { Load } from './recorded-load.js';
import { eventually, sleep } from '../support/wait.js';

async function start(t: Test, bugs: DeliberateBugs = {}, onFatal?: (store: StoreId, e: Error) => void): Promise<Cluster> {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({
    stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2, compactLogThreshold: 30, powerLoss: true, deliberateBugs: bugs,
    ...(onFatal ? { onFatal } : {}),
  });
  t.teardown(() => cluster.close());
  await cluster.waitForLeader();
  return cluster;
}

function judge(t: Test, load: Load): Promise<void> {
  return load.stop().then((acked) => {
    const result = checkHistory(load.rec.history());
    t.ok(result.ok, result.ok ? `history of ${result.ops} ops (${acked} writes acknowledged) is linearizable` : result.explanation);
  });
}

/** Changes through whoever leads, retrying while leadership moves. */
async function changePeer(cluster: Cluster, change: 'addVoter' | 'addLearner' | 'removeNode', id: StoreId): Promise<RegionMeta> {
  const until = Date.now() + 20_000;
  let last = '';
  while (Date.now() < until) {
    const l = cluster.leaderId();
    if (l !== undefined) {
      const r = await cluster.store(l)!.changePeer(change, id).catch((e: Error) => { last = e.message; });
      if (r) return r;
    }
    await sleep(50); // then ask again: a retry of the change, not a wait on a condition
  }
  throw new Error(`${change} of store ${id} not applied within 20 s (last error: ${last})`);
}

t.test('replace a wiped store: fenced off as its old peer, then added back as a new one', (t) => replaceWiped(t, {}));

t.test('recreateOldPeers (a planted bug): the wiped store comes back as the peer it was', async (t) => {
  const fenced = await replaceWiped(t, { recreateOldPeers: true });
  t.notOk(fenced, 'the check caught it: the wiped store runs its old peer again, with none of its votes or entries');
});

async function replaceWiped(t: Test, bugs: DeliberateBugs): Promise<boolean> {
  // With the planted bug the recreated peer may trip a raft invariant (the leader still
  // believes the old peer holds its log) and stop loudly; that counts as caught too.
  const fatal: string[] = [];
  const cluster = await start(t, bugs, bugs.recreateOldPeers ? (id, e) => fatal.push(`store ${id}: ${e.message}`) : undefined);
  const load = startLoad(cluster, 3);
  t.teardown(() => load.stop());
  await sleep(300); // some history before the fault
  const leader = cluster.leaderId()!;
  const victim = cluster.ids.find((id) => id !== leader)! as StoreId;
  const confVer = cluster.store(leader)!.region()!.epoch.confVer;
  await cluster.wipeStore(victim, highestPeerIdAt(confVer));
  // Its old peer is still a member: the leader keeps addressing it, with appends and snapshots.
  // Nothing is to happen meanwhile (no peer recreated): time passing is the test.
  await sleep(600);
  const fenced = fatal.length === 0 && cluster.store(victim)?.status().length === 0;
  if (bugs.recreateOldPeers) {
    await load.stop();
    t.comment(fatal.length > 0 ? `the recreated peer stopped: ${fatal[0]}` : 'the recreated peer runs with an empty log');
    return fenced;
  }
  t.ok(fenced, `store ${victim}, wiped, does not come back as peer ${victim} although the leader keeps addressing it`);

  const removed = await changePeer(cluster, 'removeNode', victim);
  t.notOk(removed.peers.some((p) => p.storeId === victim), `its old peer removed (conf_ver ${removed.epoch.confVer})`);
  const added = await changePeer(cluster, 'addLearner', victim);
  const peer = added.peers.find((p) => p.storeId === victim)!;
  t.ok(peer.id > highestPeerIdAt(confVer), `added back as new peer ${peer.id}`);
  await eventually(`store ${victim} caught up`, () => {
    const l = cluster.leaderId();
    const s = cluster.store(victim)!.status()[0];
    return l !== undefined && s !== undefined && s.appliedIndex >= cluster.store(l)!.status()[0]!.commitIndex - 5;
  }, 20_000);
  await changePeer(cluster, 'addVoter', victim);

  // The rebuilt store carries a quorum: stop a store that is neither it nor the leader.
  const lead = await cluster.waitForLeader();
  const other = cluster.ids.find((id) => id !== lead && id !== victim)! as StoreId;
  await cluster.stopStore(other);
  await sleep(500); // writes go on through a quorum that includes the rebuilt store
  await judge(t, load);
  const l = await cluster.waitForLeader();
  await eventually('the rebuilt store applied everything', () => cluster.store(victim)!.status()[0]!.appliedIndex === cluster.store(l)!.status()[0]!.commitIndex, 20_000);
  t.same(await dataOf(cluster, victim), await dataOf(cluster, l), `store ${victim} holds the same data as the leader`);
  return fenced;
}

t.test('remove a follower while it is partitioned away; it destroys its peer once the partition heals', async (t) => {
  const cluster = await start(t);
  const load = startLoad(cluster, 3);
  t.teardown(() => load.stop());
  await sleep(300); // some history before the fault
  const leader = cluster.leaderId()!;
  const cut = cluster.ids.find((id) => id !== leader)! as StoreId;
  cluster.network.isolate(cut);
  const shrunk = await changePeer(cluster, 'removeNode', cut);
  t.notOk(shrunk.peers.some((p) => p.storeId === cut), `store ${cut} removed while cut off (conf_ver ${shrunk.epoch.confVer})`);
  await sleep(300); // nothing is to happen while it is cut off: it keeps its peer
  t.equal(cluster.store(cut)!.status().length, 1, 'it still runs its peer: it never heard of the change');
  cluster.network.heal();
  await eventually(`store ${cut} learned of its removal and destroyed its peer`, () => cluster.store(cut)!.status().length === 0, 15_000);
  await eventually(`store ${cut}'s data deleted`, async () => (await dataOf(cluster, cut)).length === 0, 10_000);
  await judge(t, load);
  const rest = cluster.ids.filter((id) => id !== cut) as StoreId[];
  const l = await cluster.waitForLeader();
  await eventually('the two members applied the same index', () => rest.every((id) => cluster.store(id)!.status()[0]!.appliedIndex === cluster.store(l)!.status()[0]!.commitIndex), 20_000);
  t.same(await dataOf(cluster, rest[0]!), await dataOf(cluster, rest[1]!), 'the two members hold the same data');
});

t.test('leader transfers under message loss and a partitioned follower', async (t) => {
  const cluster = await start(t);
  const load = startLoad(cluster, 3);
  t.teardown(() => load.stop());
  let moved = 0;
  for (let round = 0; round < 6; round++) {
    const leader = await cluster.waitForLeader();
    const others = cluster.ids.filter((id) => id !== leader) as StoreId[];
    const target = others[round % others.length]!;
    if (round % 2 === 0) cluster.network.setFaults({ dropRate: 0.1 });
    else cluster.network.isolate(others.find((id) => id !== target)!);
    cluster.store(leader)!.transferLeader(target);
    const ok = await eventually(`store ${target} leads`, () => cluster.leaderId() === target, 3_000).then(() => true, () => false);
    if (ok) moved++;
    cluster.network.heal();
    await sleep(200); // writes on the healed network between rounds
  }
  t.comment(`${moved} of 6 transfers completed under faults (a transfer may be given up; that is allowed)`);
  t.ok(moved >= 1, 'leadership moved at least once');
  await judge(t, load);
});

t.test('remove the leader: leadership moves first, then the new leader removes it', async (t) => {
  const cluster = await start(t);
  const load = startLoad(cluster, 3);
  t.teardown(() => load.stop());
  await sleep(300); // some history before the transfer
  const old = cluster.leaderId()!;
  const to = cluster.ids.find((id) => id !== old)! as StoreId;
  cluster.store(old)!.transferLeader(to);
  await eventually(`store ${to} leads`, () => cluster.leaderId() === to, 5_000);
  const shrunk = await changePeer(cluster, 'removeNode', old);
  t.notOk(shrunk.peers.some((p) => p.storeId === old), `the old leader, store ${old}, removed (conf_ver ${shrunk.epoch.confVer})`);
  await eventually(`store ${old} destroyed its peer`, () => cluster.store(old)!.status().length === 0, 10_000);
  await sleep(300); // writes go on with two voters
  await judge(t, load);
  const rest = cluster.ids.filter((id) => id !== old) as StoreId[];
  const l = await cluster.waitForLeader();
  await eventually('the two members applied the same index', () => rest.every((id) => cluster.store(id)!.status()[0]!.appliedIndex === cluster.store(l)!.status()[0]!.commitIndex), 20_000);
  t.same(await dataOf(cluster, rest[0]!), await dataOf(cluster, rest[1]!), 'the two members hold the same data');
});
