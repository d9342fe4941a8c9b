// A store being added is not a voter until it is promoted (in-process, RocksDB). Its first
// peer is a placeholder that a message from the leader creates (writeUninitializedRegion):
// no log, and a region that names only itself, as a learner. Cut off before the snapshot
// arrives, it must never campaign, not even pre-vote: a placeholder that counted itself a
// voter would be a one-voter group, win at once, and could acknowledge writes that the
// snapshot later wipes. After the snapshot it is a learner and still never campaigns;
// once promoted it does. The ticks that would time out an election are given by hand, so
// the number of election timeouts it sat through does not depend on the machine's speed.

import t from 'tap';
import type { Test } from 'tap';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { NotLeaderError } from '../../src/raftstore/errors.js';
import type { RegionId, StoreId } from '../../src/raftstore/ids.js';
import type { RegionMeta } from '../../src/raftstore/region.js';
import { enc } from '../support/bytes.js';
import { eventually } from '../support/wait.js';

const TICK_MS = 10;
const ELECTION_TICK = 10;
const NEW = 4 as StoreId;

/**
 * Store NEW's links: `cut` drops every message to or from it, `holdSnapshots` fails every
 * snapshot sent to it at its first chunk. Whatever NEW sends is recorded, cut or not.
 */
function wire(cluster: Cluster) {
  const link = { cut: false, holdSnapshots: false, sentByNew: [] as string[] };
  cluster.network.dropIf = (from, to, env) => {
    if (from === NEW) link.sentByNew.push(env.message.type);
    return link.cut && (from === NEW || to === NEW);
  };
  cluster.network.onSnapshotChunk = (_from, to) => {
    if (to === NEW && link.holdSnapshots) throw new Error('held: the snapshot does not reach the new store');
  };
  return link;
}

/**
 * Ticks every store `n` times by hand (the cluster's own driver ticks too), letting
 * messages and Ready loops run between ticks; returns every role store NEW had right after
 * a tick. A cut-off node that campaigned never returns to follower by itself.
 */
async function tickNew(cluster: Cluster, n: number): Promise<Set<string>> {
  const roles = new Set<string>();
  for (let i = 0; i < n; i++) {
    cluster.clock.advance(1, TICK_MS);
    roles.add(cluster.store(NEW)!.status()[0]!.role);
    await new Promise((r) => setImmediate(r));
  }
  return roles;
}

const campaignMessages = (sent: string[]) => sent.filter((m) => m === 'MsgRequestVote' || m === 'MsgRequestPreVote');

/** Proposes through whoever leads; resolves once applied on the leader. */
async function changePeer(cluster: Cluster, change: 'addVoter' | 'addLearner', id: StoreId): Promise<RegionMeta> {
  const leader = await cluster.waitForLeader();
  return cluster.store(leader)!.changePeer(change, id);
}

t.test('a joining store never campaigns before its promotion: not as a placeholder, not as a learner; once a voter it does', async (t: Test) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: TICK_MS, electionTick: ELECTION_TICK, heartbeatTick: 2, compactLogThreshold: 5 });
  t.teardown(() => cluster.close());
  await cluster.waitForLeader();
  const client = cluster.client();
  for (let i = 0; i < 10; i++) await client.put(enc(`k${i}`), enc(`v${i}`));

  await cluster.addStore(NEW);
  const link = wire(cluster);
  link.holdSnapshots = true;
  await changePeer(cluster, 'addLearner', NEW);
  await eventually('the leader\'s message created a peer on the new store', () => cluster.store(NEW)!.status().length === 1);
  // Its leader is gone, as far as it can tell: nothing reaches it, nothing it sends arrives.
  link.cut = true;
  const before = cluster.store(NEW)!.status()[0]!;
  t.equal(before.appliedIndex, 0, 'the peer is a placeholder: no snapshot applied');
  t.equal(cluster.store(NEW)!.snapshots.snapshotStats().installed, 0, 'and none installed');

  // Ten election timeouts at the longest randomized timeout (2 × electionTick).
  const placeholderRoles = await tickNew(cluster, 20 * ELECTION_TICK);
  t.same([...placeholderRoles], ['follower'], 'the placeholder stays a follower through ten election timeouts');
  t.same(campaignMessages(link.sentByNew), [], 'and sends no vote or pre-vote request');
  t.equal(cluster.store(NEW)!.status()[0]!.term, before.term, 'nor raises its term');
  // Its placeholder region spans every key: a write acknowledged there, the snapshot would
  // wipe. (Asked only of a follower: a leader of no voters, as a broken campaign guard
  // makes it, may never answer.)
  if (cluster.store(NEW)!.status()[0]!.role === 'follower') {
    const refused = await cluster.store(NEW)!.put({ regionId: 1 as RegionId }, enc('lost'), enc('x')).then(() => undefined, (e: Error) => e);
    t.ok(refused instanceof NotLeaderError, `and acknowledges no write: it does not lead (${refused?.message ?? 'acknowledged'})`);
  }

  // The snapshot arrives: a learner of the real region.
  link.cut = false;
  link.holdSnapshots = false;
  await eventually('the new store installed a snapshot and knows the region', () => {
    const r = cluster.store(NEW)!.region();
    return cluster.store(NEW)!.snapshots.snapshotStats().installed >= 1 && r !== undefined && r.peers.length === 4;
  }, 20_000);
  const asLearner = cluster.store(NEW)!.region()!;
  t.ok(asLearner.peers.find((p) => p.storeId === NEW)!.learner, 'it is a learner of the region');
  link.cut = true;
  link.sentByNew.length = 0;
  const learnerTerm = cluster.store(NEW)!.status()[0]!.term;
  const learnerRoles = await tickNew(cluster, 20 * ELECTION_TICK);
  t.same([...learnerRoles], ['follower'], 'the learner, cut off, stays a follower through ten election timeouts');
  t.same(campaignMessages(link.sentByNew), [], 'and sends no vote or pre-vote request');
  t.equal(cluster.store(NEW)!.status()[0]!.term, learnerTerm, 'nor raises its term');

  // Promoted, it is a voter and campaigns when cut off (the ticks above would have made it).
  link.cut = false;
  await changePeer(cluster, 'addVoter', NEW);
  await eventually('the new store applied its promotion', () => {
    const self = cluster.store(NEW)!.region()?.peers.find((p) => p.storeId === NEW);
    return self !== undefined && !self.learner;
  }, 20_000);
  link.cut = true;
  link.sentByNew.length = 0;
  const voterRoles = await tickNew(cluster, 20 * ELECTION_TICK);
  t.ok(voterRoles.has('preCandidate'), `once a voter, cut off, it campaigns (roles seen: ${[...voterRoles].join(', ')})`);
  t.ok(campaignMessages(link.sentByNew).includes('MsgRequestPreVote'), 'and asks the other voters for pre-votes');
  link.cut = false;
});
