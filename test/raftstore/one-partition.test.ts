// TinyKV's TestOnePartition2B: a leader stranded in a minority never answers a read or a
// write, the majority moves on without it, and after healing it catches up.
import t from 'tap';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { enc, dec } from '../support/bytes.js';
import { eventually } from '../support/wait.js';

t.test('OnePartition', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed}`);
  const cluster = await Cluster.start({ stores: 5, seed, tickMs: 20, electionTick: 10, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  const leader = await cluster.waitForLeader();
  const others = cluster.ids.filter((id) => id !== leader);
  const client = cluster.client({ timeoutMs: 10_000 });

  // 1. Leader in the majority: writes commit; the minority never applies them.
  const majority = [leader, others[0]!, others[1]!];
  const minority = [others[2]!, others[3]!];
  cluster.network.partition(majority, minority);
  await client.put(enc('k1'), enc('v1'));
  t.equal(dec(await client.get(enc('k1'))), 'v1');
  for (const id of minority) t.equal(await cluster.store(id)!.localGet(enc('k1')), undefined, `store ${id} (minority) lacks k1`);
  cluster.network.heal();
  await eventually('every store applies k1', async () => {
    for (const id of cluster.ids) if (dec(await cluster.store(id)!.localGet(enc('k1'))) !== 'v1') return false;
    return true;
  });

  // 2. The old leader and one follower form the minority: the stranded leader must not
  //    answer, while the majority elects a new leader and accepts a write.
  const stranded: StoreId[] = [leader, others[0]!];
  const rest = cluster.ids.filter((id) => !stranded.includes(id));
  cluster.network.partition(stranded, rest);
  const strandedStore = cluster.store(leader)!;
  const strandedRead = strandedStore.get({ regionId: 1 }, enc('k1')).then(() => 'answered', () => 'refused');
  const strandedWrite = strandedStore.put({ regionId: 1 }, enc('k1'), enc('minority'), { clientId: 999, sequence: 1, sentAtMs: Date.now() })
    .then(() => 'answered', () => 'refused');
  t.equal(dec(await client.get(enc('k1'))), 'v1');
  await client.put(enc('k1'), enc('changed'));
  t.equal(await strandedRead, 'refused', 'the stranded leader never answered the read');
  t.equal(await strandedWrite, 'refused', 'the stranded leader never acknowledged the write');
  for (const id of stranded) t.equal(dec(await cluster.store(id)!.localGet(enc('k1'))), 'v1', `store ${id} still has the old k1`);
  cluster.network.heal();

  // 3. After healing the old leader catches up with everything the majority did.
  await client.put(enc('k2'), enc('v2'));
  await eventually('the old leader catches up', async () =>
    dec(await strandedStore.localGet(enc('k2'))) === 'v2' && dec(await strandedStore.localGet(enc('k1'))) === 'changed');
  t.pass('the old leader has k1=changed and k2=v2');
});
