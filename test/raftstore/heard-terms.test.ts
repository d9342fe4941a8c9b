// Every store durably records the highest term it has heard from each other store (what
// a store with lost or rolled-back state is recognised by; src/node/identity.ts): the
// leader's term is on record at every follower, the records survive a restart, and a
// store's pre-votes (which carry a term it has not adopted) never raise them.

import t from 'tap';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { eventually } from './eventually.js';

t.test('stores record the terms they hear, durably, and pre-votes do not count', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  const client = cluster.client();
  await cluster.waitForLeader();
  await client.put(Buffer.from('k'), Buffer.from('v'));
  const leader = cluster.leaderId()!;
  const term = cluster.store(leader)!.status()[0]!.term;
  const followers = cluster.ids.filter((id) => id !== leader);
  await eventually('every follower recorded the leader\'s term', () => followers.every((f) => cluster.store(f)!.heardTerm(leader) === term));
  t.pass(`stores ${followers.join(', ')} heard term ${term} from leader ${leader}`);
  t.ok(followers.every((f) => cluster.store(leader)!.heardTerm(f) === term), 'and the leader heard it from them');

  // An isolated follower pre-votes again and again; it never adopts a higher term.
  const lonely = followers[0]!;
  cluster.network.isolate(lonely);
  const termOf = (id: StoreId) => cluster.store(id)!.status()[0]!.term;
  const lonelyTerm = termOf(lonely);
  await eventually('the isolated store has been campaigning for a while', () => cluster.clock.now() > 0 && cluster.store(lonely)!.status()[0]!.role !== 'follower', 5_000);
  cluster.network.heal();
  await client.put(Buffer.from('k2'), Buffer.from('v2'));
  for (const id of cluster.ids.filter((x) => x !== lonely)) {
    t.ok(cluster.store(id)!.heardTerm(lonely) <= termOf(lonely),
      `store ${id} heard at most term ${termOf(lonely)} from store ${lonely} (recorded ${cluster.store(id)!.heardTerm(lonely)}; it pre-voted from term ${lonelyTerm})`);
  }

  // Followers never talk to each other, so some pairs have no record; the ones there are survive.
  const records = () => cluster.ids.map((id) => cluster.ids.map((o) => (o === id ? 0 : cluster.store(id)!.heardTerm(o))));
  const before = records();
  await cluster.restartAll();
  await cluster.waitForLeader();
  const after = records();
  t.ok(after.every((xs, i) => xs.every((x, j) => x >= before[i]![j]!)), `after a restart every record is still there: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
});
