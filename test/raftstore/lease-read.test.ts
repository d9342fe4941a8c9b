// Lease reads (raft.read_mode: lease, src/raftstore/leader-lease.ts): a leader answers
// reads without a heartbeat round while a recent round holds its lease, and never once
// another leader may exist: after a transfer it asked for (whose election ignores leases),
// once cut off for longer than the lease, under a history judged linearizable while
// leadership moves and the network loses, duplicates and delays messages.

import t from 'tap';
import type { Test } from 'tap';
import { checkHistory } from '../../src/checker/index.js';
import { HistoryRecorder } from '../../src/checker/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { ClusterOptions } from '../../src/harness/in-process-cluster.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { leaseDurationMs } from '../../src/raftstore/leader-lease.js';
import { enc, dec } from '../support/bytes.js';
import { eventually, sleep } from '../support/wait.js';

const H = { regionId: 1 };

/** How a read sent straight to one store ended: its value, or the error's name. */
async function readAt(cluster: Cluster, id: StoreId, key: string, withinMs: number): Promise<string> {
  const read = cluster.store(id)!.get(H, enc(key)).then((v) => `value ${dec(v)}`, (e: Error) => `error ${e.constructor.name}`);
  return Promise.race([read, sleep(withinMs).then(() => 'no answer')]);
}

async function leaseCluster(t: Test, o: Partial<ClusterOptions> = {}): Promise<Cluster> {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 100, electionTick: 10, heartbeatTick: 2, readMode: 'lease', ...o });
  t.teardown(() => cluster.close());
  return cluster;
}

/** Counts the ReadIndex rounds (distinct contexts on the heartbeats) the leader sends. */
function countRounds(cluster: Cluster, leader: StoreId): () => number {
  const seen = new Set<string>();
  const before = cluster.network.dropIf;
  cluster.network.dropIf = (from, to, env) => {
    if (from === leader && env.message.type === 'MsgHeartbeat' && env.message.context.length > 0) {
      seen.add(Buffer.from(env.message.context).toString('hex'));
    }
    return before?.(from, to, env) ?? false;
  };
  return () => seen.size;
}

t.test('a leader under its lease answers reads without a round, and renews the lease as it goes', async (t) => {
  const cluster = await leaseCluster(t);
  const leader = await cluster.waitForLeader();
  await cluster.client().put(enc('k'), enc('v1'));
  t.equal(await readAt(cluster, leader, 'k', 5_000), 'value v1', 'the first read takes a round, which starts the lease');
  const rounds = countRounds(cluster, leader);
  const lease = leaseDurationMs(10, 100);
  // Reads for three lease lengths, a few milliseconds apart.
  const started = performance.now();
  let reads = 0;
  while (performance.now() - started < 3 * lease && reads < 10_000) {
    const r = await readAt(cluster, leader, 'k', 5_000);
    if (r !== 'value v1') t.fail(`read ${reads}: ${r}`);
    reads++;
    await sleep(5); // reads spread over the lease: how often it is renewed is what is measured
  }
  const ms = performance.now() - started;
  // A renewal goes out when a read finds the lease past half: about one per half lease.
  t.ok(rounds() >= 2, `renewed: ${reads} reads in ${ms.toFixed(0)} ms took ${rounds()} rounds`);
  t.ok(rounds() <= Math.ceil(ms / (lease / 2)) + 1, 'at most one round per half lease');
});

t.test('the lease ends when the leader asks another store to take over', async (t) => {
  // The old leader hears nothing from the moment it hands over, so it still believes it
  // leads while the new one, elected at once (a transfer ignores leases), takes a write.
  for (const bug of [false, true]) {
    await t.test(bug ? 'planted bug leaseSurvivesTransfer: a stale read' : 'a read at the old leader is not answered from its state', async (t) => {
      // Ticks of 300 ms: a 2.2 s lease, so the steps below fit in it even on a loaded machine
      // (with the planted bug the stale read must come while the old lease still runs).
      const cluster = await leaseCluster(t, { tickMs: 300, ...(bug ? { deliberateBugs: { leaseSurvivesTransfer: true } } : {}) });
      const old = await cluster.waitForLeader(30_000);
      const next = cluster.ids.find((id) => id !== old)! as StoreId;
      await cluster.client().put(enc('k'), enc('v1'));
      await eventually('the transferee has v1', async () => (await cluster.store(next)!.localGet(enc('k'))) !== undefined, 5_000);
      t.equal(await readAt(cluster, old, 'k', 5_000), 'value v1', 'read under the lease');
      cluster.network.dropIf = (_from, to) => to === old;
      cluster.store(old)!.transferLeader(next);
      await eventually('the transferee leads', async () => cluster.store(next)!.status()[0]?.role === 'leader', 5_000);
      await cluster.client({ timeoutMs: 5_000 }).put(enc('k'), enc('v2'));
      t.equal(cluster.store(old)!.status()[0]?.role, 'leader', 'the old leader still believes it leads');
      const r = await readAt(cluster, old, 'k', 1_500);
      if (bug) t.equal(r, 'value v1', 'the old leader answers from its stale state');
      else t.not(r, 'value v1', `not the stale value (${r})`);
    });
  }
});

t.test('a leader cut off, and stuck, for longer than its lease stops answering reads', async (t) => {
  // Its ticks stop (a stuck event loop): no quorum check steps it down, so only the
  // lease's own clock stands between it and a stale read once the others elect a leader.
  for (const bug of [false, true]) {
    await t.test(bug ? 'planted bug leaseTooLong: a stale read' : 'no stale read', async (t) => {
      const cluster = await leaseCluster(t, bug ? { deliberateBugs: { leaseTooLong: true } } : {});
      const old = await cluster.waitForLeader();
      await cluster.client().put(enc('k'), enc('v1'));
      t.equal(await readAt(cluster, old, 'k', 5_000), 'value v1', 'read under the lease');
      cluster.network.isolate(old);
      cluster.stallTicks(old, true);
      const cut = performance.now();
      let next: StoreId | undefined;
      await eventually('the other two elect a leader', () => {
        next = cluster.ids.find((id) => id !== old && cluster.store(id)!.status()[0]?.role === 'leader') as StoreId | undefined;
        return next !== undefined;
      }, 10_000);
      if (!bug) t.ok(performance.now() - cut >= leaseDurationMs(10, 100), 'no new leader before the lease could have ended');
      await cluster.client({ timeoutMs: 5_000 }).put(enc('k'), enc('v2'));
      t.equal(cluster.store(old)!.status()[0]?.role, 'leader', 'the old leader still believes it leads');
      const r = await readAt(cluster, old, 'k', 1_000);
      if (bug) t.equal(r, 'value v1', 'the old leader answers from its stale state');
      else t.not(r, 'value v1', `the old leader does not answer with the old value (${r})`);
    });
  }
});

t.test('lease reads stay linearizable while leadership moves on a lossy network', async (t) => {
  const cluster = await leaseCluster(t, { tickMs: 10 });
  cluster.network.setFaults({ dropRate: 0.1, dupRate: 0.05, delayMs: 10 });
  const rec = new HistoryRecorder({ now: () => performance.now() });
  const keys = ['a', 'b'];
  let stop = false;
  let n = 0;
  const worker = async (w: number) => {
    const client = cluster.client({ timeoutMs: 4_000, attemptTimeoutMs: 300 });
    for (let i = 0; !stop && i < 100_000; i++) {
      const key = keys[Math.floor(cluster.random() * keys.length)]!;
      if (cluster.random() < 0.6) {
        const id = rec.invoke(w, { kind: 'get', key });
        await client.get(enc(key)).then((v) => rec.okGet(id, v === undefined ? null : dec(v)!), () => rec.fail(id));
      } else {
        const value = `w${w}-${++n}`;
        const id = rec.invoke(w, { kind: 'put', key, value });
        await client.put(enc(key), enc(value)).then(() => rec.ok(id), () => rec.unknown(id));
      }
    }
  };
  const workers = Array.from({ length: 4 }, (_, w) => worker(w));
  try {
    for (let round = 0; round < 6; round++) {
      await sleep(300); // reads and writes under this round's leader before the next fault
      const lead = cluster.leaderId();
      if (lead === undefined) continue;
      const others = cluster.ids.filter((id) => id !== lead) as StoreId[];
      if (round % 2 === 0) {
        cluster.store(lead)!.transferLeader(others[round % others.length]!);
      } else {
        cluster.network.isolate(lead);
        await sleep(400); // cut off for longer than its lease: the others elect a new leader meanwhile
        cluster.network.heal();
        cluster.network.setFaults({ dropRate: 0.1, dupRate: 0.05, delayMs: 10 });
      }
    }
    await sleep(300); // load on the healed cluster after the last fault
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  const history = rec.history();
  const reads = history.filter((op) => op.kind === 'get' && op.outcome.status === 'ok').length;
  t.ok(reads > 50, `${reads} reads answered (${history.length} operations)`);
  const verdict = checkHistory(history);
  t.equal(verdict.ok, true, verdict.ok ? 'linearizable' : `not linearizable: ${JSON.stringify(verdict).slice(0, 500)}`);
});
