// Log compaction on a real in-process cluster: the leader truncates the log once enough
// entries are applied, every store drops the truncated entries from memory and raftdb,
// a store that is down no longer holds compaction back (the others' logs stay bounded,
// and it catches up from a snapshot when it returns), and restarts lose nothing.

import { join } from 'node:path';
import t from 'tap';
import { openRocksEngine } from '../../src/engine/index.js';
import { keys } from '../../src/engine/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import type { KvClient } from '../../src/client/index.js';
import { enc, dec } from '../support/bytes.js';
import { eventually } from '../support/wait.js';

const THRESHOLD = 40;

async function writeKeys(client: KvClient, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await client.put(enc(`k${String(i).padStart(5, '0')}`), enc(`v${i}`));
}

/** Log indexes raftdb still holds for region 1 (the store must be stopped). */
async function raftdbIndexes(cluster: Cluster, id: StoreId): Promise<number[]> {
  const raft = await openRocksEngine(join(cluster.storeDir(id), 'raftdb'));
  try {
    const [start, end] = keys.raftLogRange(1);
    return (await raft.scan({ start, end })).map(([k]) => keys.decodeRaftLogKey(k).index);
  } finally {
    await raft.close();
  }
}

t.test('the log is compacted on every store and restarts still find all data', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2, compactLogThreshold: THRESHOLD });
  t.teardown(() => cluster.close());
  await cluster.waitForLeader();
  const client = cluster.client({ timeoutMs: 10_000 });
  const status = (id: StoreId) => cluster.store(id)!.status()[0]!;

  await writeKeys(client, 0, 200);
  await eventually('every store truncated its log', () => cluster.ids.every((id) => status(id).truncatedIndex > 100));
  for (const id of cluster.ids) {
    const s = status(id);
    t.ok(s.lastIndex - s.truncatedIndex < 3 * THRESHOLD, `store ${id}: ${s.lastIndex - s.truncatedIndex} entries kept (truncated at ${s.truncatedIndex})`);
  }

  // raftdb holds nothing at or below the truncated index, and the store restarts from it.
  const follower = cluster.ids.find((id) => id !== cluster.leaderId())!;
  const stopped = cluster.store(follower)!;
  await cluster.stopStore(follower);
  const truncated = stopped.status()[0]!.truncatedIndex; // read after the stop: nothing moves it now
  const left = await raftdbIndexes(cluster, follower);
  t.ok(left.length > 0 && left[0]! === truncated + 1, `store ${follower}: raftdb starts right after ${truncated} (at ${left[0]})`);

  // While it is down, the others keep compacting: their logs stay bounded.
  const heldAt = truncated + left.length;
  await writeKeys(client, 200, 400);
  const leader = cluster.leaderId()!;
  await eventually('the leader compacts past the stopped store', () => status(leader).truncatedIndex > heldAt);
  const kept = status(leader).lastIndex - status(leader).truncatedIndex;
  t.ok(kept <= 2 * THRESHOLD + 10, `with store ${follower} down, the leader keeps ${kept} entries (truncated at ${status(leader).truncatedIndex}, its log ended at ${heldAt})`);

  await cluster.startStore(follower);
  await eventually(`store ${follower} caught up`, () => status(follower).appliedIndex >= status(leader).commitIndex);
  const snaps = cluster.store(follower)!.snapshots.snapshotStats();
  t.ok(snaps.installed >= 1 && snaps.lastInstalledIndex > heldAt, `store ${follower} came back through a snapshot (at ${snaps.lastInstalledIndex})`);

  await cluster.restartAll();
  await cluster.waitForLeader();
  const all = await client.scan(enc(''), enc(''), 10_000);
  t.equal(all.length, 400, 'every key survived compaction and restarts');
  t.same(all.slice(0, 2).map(([k, v]) => [dec(k), dec(v)]), [['k00000', 'v0'], ['k00001', 'v1']]);
  t.same(all.slice(-1).map(([k, v]) => [dec(k), dec(v)]), [['k00399', 'v399']]);
});
