// Leader transfer in the raftstore while clients read and write, on a reliable and on an
// unreliable network (loss, duplication, delay) and with a store cut off at times: every
// recorded history is linearizable, and a transfer to a reachable, caught-up store
// completes well within an election timeout. A transfer request to a store outside the
// region is refused; one sent to a follower is answered with NotLeader and the leader hint.

import t from 'tap';
import type { Test } from 'tap';
import { checkHistory } from '../../src/checker/index.js';
import { HistoryRecorder } from '../../src/checker/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { InvalidRequestError, NotLeaderError } from '../../src/raftstore/errors.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { enc, dec } from '../support/bytes.js';
import { eventually, sleep } from '../support/wait.js';

const KEYS = ['a', 'b', 'c'];

async function transfersUnderLoad(t: Test, unreliable: boolean): Promise<void> {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  if (unreliable) cluster.network.setFaults({ dropRate: 0.1, dupRate: 0.05, delayMs: 10 });
  const rec = new HistoryRecorder({ now: () => performance.now() });
  let stop = false;
  let n = 0;
  const worker = async (w: number) => {
    const client = cluster.client({ timeoutMs: 4_000, attemptTimeoutMs: 300 });
    for (let i = 0; !stop && i < 100_000; i++) {
      const key = KEYS[Math.floor(cluster.random() * KEYS.length)]!;
      if (cluster.random() < 0.4) {
        const id = rec.invoke(w, { kind: 'get', key });
        await client.get(enc(key)).then((v) => rec.okGet(id, v === undefined ? null : dec(v)), () => rec.fail(id));
      } else {
        const value = `w${w}-${++n}`;
        const id = rec.invoke(w, { kind: 'put', key, value });
        await client.put(enc(key), enc(value)).then(() => rec.ok(id), () => rec.unknown(id));
      }
    }
  };
  const workers = Array.from({ length: 4 }, (_, w) => worker(w));
  const took: number[] = [];
  let given = 0;
  try {
    for (let round = 0; round < 8; round++) {
      const from = await cluster.waitForLeader(10_000);
      const to = cluster.ids.filter((id) => id !== from)[Math.floor(cluster.random() * 2)]! as StoreId;
      if (round % 3 === 2) cluster.network.isolate(cluster.ids.find((id) => id !== from && id !== to)! as StoreId);
      const t0 = performance.now();
      // As `tinykv transfer-leader` does: ask whoever leads, again if Raft gave the transfer up.
      let asked = 0;
      for (let tries = 0; tries < 10 && cluster.leaderId() !== to; tries++) {
        const lead = cluster.leaderId();
        if (lead !== undefined) {
          try {
            cluster.store(lead)!.transferLeader(to);
            asked++;
          } catch {
            // it stopped leading just now
          }
        }
        await eventually(`store ${to} leads`, () => cluster.leaderId() === to, { timeoutMs: 300, everyMs: 5 }).catch(() => undefined);
      }
      if (cluster.leaderId() === to) took.push(performance.now() - t0);
      else given++;
      if (asked > 1) t.comment(`round ${round}: ${asked} requests (Raft gave one up)`);
      cluster.network.heal();
      if (unreliable) cluster.network.setFaults({ dropRate: 0.1, dupRate: 0.05, delayMs: 10 });
      await sleep(100); // writes between rounds
    }
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  took.sort((a, b) => a - b);
  t.comment(`${took.length} transfers completed; median ${Math.round(took[Math.floor(took.length / 2)] ?? 0)} ms, ` +
    `slowest ${Math.round(took[took.length - 1] ?? 0)} ms (election timeout ${10 * 10} ms)`);
  t.equal(given, 0, 'every transfer completed (asked again after Raft gave one up)');
  const result = checkHistory(rec.history());
  t.ok(result.ok, result.ok ? `history of ${result.ops} ops is linearizable` : result.explanation);
}

t.test('transfers under load, reliable network', (t) => transfersUnderLoad(t, false));
t.test('transfers under load, lossy network', (t) => transfersUnderLoad(t, true));

t.test('a transfer to a store outside the region is refused; a follower answers NotLeader', async (t) => {
  const cluster = await Cluster.start({ stores: 3, seed: 7, tickMs: 10, electionTick: 10, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  const leader = await cluster.waitForLeader();
  t.throws(() => cluster.store(leader)!.transferLeader(9 as StoreId), InvalidRequestError);
  const follower = cluster.ids.find((id) => id !== leader)!;
  await eventually('the follower knows the leader', () => cluster.store(follower)!.status()[0]!.leaderStoreId === leader);
  try {
    cluster.store(follower)!.transferLeader(leader);
    t.fail('a follower accepted a transfer request');
  } catch (e) {
    t.ok(e instanceof NotLeaderError, 'NotLeader');
    t.equal((e as NotLeaderError).leader?.storeId, leader, 'with the leader hint');
  }
});
