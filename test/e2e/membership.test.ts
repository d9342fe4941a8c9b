// Membership changes on real store processes, driven through the CLI as an operator would,
// while clients read and write and every operation is recorded for the checker:
//   - grow 3 → 5 (`store add`), with a store killed and restarted and leadership moved in
//     between, then shrink 5 → 3 (`store remove`, the leader among the removed); again
//     with lease reads (raft.read_mode: lease);
//   - a store whose data directory was deleted refuses to start, and `store replace`
//     rebuilds it: it catches up and then holds the data for a quorum on its own.
// Every history must be linearizable and nothing acknowledged lost.

import t, { type Test } from 'tap';
import { checkHistory } from '../../src/checker/index.js';
import { checkerHistory } from '../../src/chaos-run/run.js';
import { Workload } from '../../src/chaos-run/workload.js';
import { connectKvClient } from '../../src/client/index.js';
import { loadClusterConfig } from '../../src/config/load.js';
import { storeDir } from '../../src/config/types.js';
import { rmSync } from 'node:fs';
import { leaderIn, makeCluster, status, type TestCluster } from './helpers.js';
import { eventually, sleep } from '../support/wait.js';

const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));

interface MembershipJson {
  store_id: number;
  peer_id: number;
  conf_ver: number;
  voters: number[];
  learners: number[];
  ms: number;
  phases: { name: string; ms: number }[];
}

/** Three clients on five hot keys that run until stopped, recording a history. */
function startLoad(c: TestCluster, base: number): Workload {
  // The clients read the cluster file as it is when they start, and learn a store added
  // since from a leader's hint (connectKvClients reads the file again).
  const w = new Workload(c.cfg, {
    clients: 3, keys: 5, keyPrefix: '', readRatio: 0.45, rate: null, seed: base, now: () => performance.now(),
    // Half the clients give up quickly, so that faults leave writes with unknown outcomes.
    quickTimeouts: { timeoutMs: 300, attemptTimeoutMs: 150 }, maxOpsPerClient: 20_000, pauseMs: 15,
  });
  w.start();
  return w;
}

async function judge(t: Test, c: TestCluster, load: Workload): Promise<void> {
  await load.stop();
  load.close();
  // Every key read once more through a client that knows the cluster as it is now.
  await load.finalReads(loadClusterConfig(c.file), 10_000);
  const ops = load.history();
  const finals = ops.filter((o) => o.client === 0);
  t.ok(finals.every((o) => o.outcome === 'ok'), `the final reads answered: ${finals.map((o) => o.error ?? o.outcome).join(', ')}`);
  const { ok, unknown, fail } = load.counts;
  t.comment(`${ops.length} operations: ${ok} ok, ${unknown} unknown, ${fail} failed`);
  t.ok(ok > 100, 'the clients made progress');
  const verdict = checkHistory(checkerHistory(ops));
  t.ok(verdict.ok, verdict.ok ? `linearizable: ${verdict.ops} operations` : `not linearizable (SEED=${seed}): ${verdict.explanation}`);
}

async function voters(c: TestCluster): Promise<{ voters: number[]; learners: number[]; confVer: number }> {
  const r = await c.ok('cluster', 'status', '--json');
  const m = (JSON.parse(r.stdout) as { membership: { voters: number[]; learners: number[]; conf_ver: number } | null }).membership;
  if (!m) throw new Error('no leader');
  return { voters: [...m.voters].sort(), learners: m.learners, confVer: m.conf_ver };
}

async function growAndShrink(t: Test, readMode: 'read_index' | 'lease'): Promise<void> {
  const c = await makeCluster(t, { spare: 2, readMode });
  await c.ok('cluster', 'up');
  const load = startLoad(c, seed);
  await sleep(500); // some history before the first change

  const add4 = await c.ok('store', 'add', '--id', '4', '--addr', `127.0.0.1:${c.sparePorts[0]}`, '--json');
  const r4 = JSON.parse(add4.stdout) as MembershipJson;
  t.same(r4.voters, [1, 2, 3, 4], 'store 4 is a voter');
  t.same(r4.phases.map((p) => p.name), ['file', 'start', 'learner', 'catch-up', 'promote'], 'learner first, promoted after catching up');
  t.comment(`store add 4: ${r4.ms} ms (${r4.phases.map((p) => `${p.name} ${p.ms}`).join(', ')})`);

  // A follower killed and back while the cluster has four voters.
  const lead = leaderIn(await status(c))!;
  const victim = [1, 2, 3].find((id) => id !== lead.id)!;
  await c.ok('chaos', 'kill', '--store', String(victim));
  await sleep(800); // down for a while: the clients go on with the other three
  await c.ok('chaos', 'restart', '--store', String(victim));
  await c.ok('transfer-leader', '--to', '4');

  const add5 = await c.ok('store', 'add', '--id', '5', '--addr', `127.0.0.1:${c.sparePorts[1]}`, '--json');
  t.same((JSON.parse(add5.stdout) as MembershipJson).voters, [1, 2, 3, 4, 5], 'store 5 is a voter');
  t.same((await voters(c)).voters, [1, 2, 3, 4, 5], 'cluster status agrees');
  const again = await c.cli('store', 'add', '--id', '5');
  t.equal(again.code, 0, 'adding a voter again (a re-run after an interruption) succeeds with nothing to do');
  t.match(again.stderr, /store 5 is already a voter/);
  const moved = await c.cli('store', 'add', '--id', '6', '--addr', `127.0.0.1:${c.sparePorts[0]}`);
  t.equal(moved.code, 2, 'an address another store uses: exit 2');
  t.match(moved.stderr, /is already used by stores\[3\]/);

  // Shrink: the leader first (leadership moves away), a kill in between, then another.
  const leader = leaderIn(await status(c))!.id;
  const rm1 = JSON.parse((await c.ok('store', 'remove', '--store', String(leader), '--json')).stdout) as MembershipJson;
  t.ok(!rm1.voters.includes(leader), `the leader (store ${leader}) was removed`);
  t.equal(rm1.phases[0]?.name, 'transfer', 'after handing leadership away');
  const rest = rm1.voters;
  await c.ok('chaos', 'kill', '--store', String(rest[0]));
  await sleep(500); // down for a while, as above
  await c.ok('chaos', 'restart', '--store', String(rest[0]));
  const leaderNow = leaderIn(await status(c))?.id;
  const second = rest.find((id) => id !== leaderNow)!;
  const rm2 = JSON.parse((await c.ok('store', 'remove', '--store', String(second), '--json')).stdout) as MembershipJson;
  t.equal(rm2.voters.length, 3, `three voters left: ${rm2.voters.join(', ')}`);
  const cfg = loadClusterConfig(c.file);
  t.same(cfg.removedStores.map((s) => s.id).sort(), [leader, second].sort(), 'the cluster file marks both removed');
  t.equal(c.livePids().length, 3, 'their processes were stopped');

  const start = await c.cli('store', 'start', '--store', String(second));
  t.equal(start.code, 2, 'a removed store is not started again');
  t.match(start.stderr, /was removed from the cluster/);
  const rerun = await c.cli('store', 'remove', '--store', String(second));
  t.equal(rerun.code, 0, 'removing it again: nothing to do');
  t.match(rerun.stderr, /already removed/);

  await judge(t, c, load);
  await c.ok('cluster', 'down');
}

t.test(`grow 3 → 5 and shrink 5 → 3 under load, with a kill and leader transfers (SEED=${seed})`, (t) => growAndShrink(t, 'read_index'));
// With lease reads: every applied membership change and every transfer (the removed
// leader's hand-over included) must end the leader's lease.
t.test(`the same with lease reads (SEED=${seed})`, (t) => growAndShrink(t, 'lease'));

t.test(`replace a store whose data directory was deleted, under load (SEED=${seed})`, async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  const load = startLoad(c, seed + 100);
  await sleep(800); // some history before the store is lost
  const lead = leaderIn(await status(c))!.id;
  const lost = [1, 2, 3].find((id) => id !== lead)!;
  await c.ok('chaos', 'kill', '--store', String(lost));
  rmSync(storeDir(c.cfg, lost), { recursive: true, force: true });
  const refused = await c.cli('chaos', 'restart', '--store', String(lost));
  t.equal(refused.code, 2, 'the wiped store refuses to start');
  t.match(refused.stderr, new RegExp(`tinykv store replace --store ${lost}`), 'and says how to recover');

  // With the wiped store down, removing another voter would leave one healthy voter of two.
  const third = [1, 2, 3].find((id) => id !== lead && id !== lost)!;
  const unsafe = await c.cli('store', 'remove', '--store', String(third));
  t.equal(unsafe.code, 2, 'a removal that would leave no healthy majority is refused');
  t.match(unsafe.stderr, new RegExp(`removing store ${third} would leave 2 voter\\(s\\) of which 1 are healthy \\(store ${lost} does not answer\\); 2 must be`));
  t.equal((await voters(c)).voters.length, 3, 'and nothing changed');

  const r = JSON.parse((await c.ok('store', 'replace', '--store', String(lost), '--json')).stdout) as MembershipJson;
  t.same(r.voters, [1, 2, 3], 'a voter again');
  t.ok(r.peer_id > 3, `as a new peer (id ${r.peer_id})`);
  t.comment(`store replace: ${r.ms} ms (${r.phases.map((p) => `${p.name} ${p.ms}`).join(', ')})`);
  await sleep(500); // the clients go on writing with the rebuilt store a voter

  // The rebuilt store must hold the data: stop one of the two others and read everything
  // through a quorum that includes it.
  const leaderNow = leaderIn(await status(c))?.id;
  const other = [1, 2, 3].find((id) => id !== lost && id !== leaderNow)!;
  await judge(t, c, load);
  await c.ok('chaos', 'kill', '--store', String(other));
  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 10_000 });
  t.teardown(close);
  await client.put(Buffer.from('after'), Buffer.from('replace'));
  t.equal(Buffer.from((await client.get(Buffer.from('after')))!).toString(), 'replace', 'a quorum of the rebuilt store and one other serves writes');
  await eventually('the other store back', async () => ((await c.cli('chaos', 'restart', '--store', String(other))).code === 0 ? true : undefined), { timeoutMs: 10_000, everyMs: 50, retryErrors: true });
  await c.ok('cluster', 'down');
});
