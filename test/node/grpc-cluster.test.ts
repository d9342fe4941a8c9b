// Three StoreServers in one process, talking real gRPC over loopback: the client API,
// the store-to-store raft streams and the admin API (status and fault control).
import t from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ClusterConfig } from '../../src/config/types.js';
import { AdminClient } from '../../src/client/index.js';
import { connectKvClient } from '../../src/client/index.js';
import { createStoreServer } from '../../src/node/server.js';
import type { StoreServer } from '../../src/node/server.js';
import { silentLogger } from '../../src/raft/index.js';
import type { StoreId } from '../../src/api/ids.js';
import { makeTempDir, removeDir } from '../support/temp-dir.js';
import { eventually } from '../support/wait.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

t.test('three stores over gRPC', async (t) => {
  // Removed in the teardown, once the servers that use it have stopped.
  const dataDir = makeTempDir('tinykv-grpc-');
  const ports = [await freePort(), await freePort(), await freePort()];
  const cfg: ClusterConfig = {
    file: join(dataDir, 'cluster.yaml'), clusterId: 'test', dataDir,
    stores: ports.map((port, i) => ({ id: i + 1, addr: `127.0.0.1:${port}`, host: '127.0.0.1', port, join: false })), removedStores: [],
    raft: { tickMs: 20, electionTicks: 10, heartbeatTicks: 2, compactLogThreshold: 20, compactLogMaxBytes: 1 << 26, clientSessionTtlMs: 30_000, maxClockSkewMs: 5_000, readMode: 'read_index' }, maxValueBytes: 1024, maxKeyBytes: 128,
  };
  const servers = new Map<number, StoreServer>();
  const start = async (id: number) => {
    const s = createStoreServer(cfg, id as StoreId, silentLogger);
    await s.start();
    servers.set(id, s);
  };
  const stop = async (id: number) => {
    const s = servers.get(id);
    servers.delete(id);
    await s?.stop();
  };
  const admins = cfg.stores.map((s) => new AdminClient(s.addr));
  const { client, close } = connectKvClient(cfg, { timeoutMs: 8000, attemptTimeoutMs: 500 });
  t.teardown(async () => {
    close();
    for (const a of admins) a.close();
    for (const id of [...servers.keys()]) await stop(id);
    removeDir(dataDir);
  });
  // Together, as `cluster up` starts them: a store on an empty directory waits for the others' answer.
  await Promise.all(cfg.stores.map((s) => start(s.id)));

  const leaderOf = async () => {
    const sts = await Promise.all(admins.map((a) => a.status().catch(() => undefined)));
    return sts.find((s) => s?.role === 'leader')?.storeId;
  };
  const leader = await eventually('a leader is elected', leaderOf, { timeoutMs: 8000, everyMs: 25, retryErrors: true });
  t.ok(leader, `store ${leader} leads`);

  await client.put(Buffer.from('k1'), Buffer.from('v1'));
  t.equal(Buffer.from((await client.get(Buffer.from('k1')))!).toString(), 'v1', 'read back over gRPC');
  t.equal(await client.get(Buffer.from('missing')), undefined, 'missing key reads as undefined');
  await t.rejects(client.put(Buffer.from('k'), Buffer.alloc(2048)), { code: 'INVALID_ARGUMENT' }, 'oversize value refused');

  // Isolate the leader through the admin API: the other two elect a new leader and serve.
  await admins[leader! - 1]!.fault({ isolate: true });
  const newLeader = await eventually('a new leader among the rest', async () => {
    const l = await leaderOf();
    const sts = await Promise.all(admins.filter((_, i) => i + 1 !== leader).map((a) => a.status()));
    return sts.find((s) => s.role === 'leader' && s.storeId !== leader)?.storeId ?? (l !== leader ? l : undefined);
  }, { timeoutMs: 8000, everyMs: 25, retryErrors: true });
  t.not(newLeader, leader, `store ${newLeader} took over`);
  await client.put(Buffer.from('k2'), Buffer.from('v2'));
  await admins[leader! - 1]!.fault({ heal: true });

  // Restart a follower: its data survives and it catches up.
  const follower = cfg.stores.map((s) => s.id).find((id) => id !== newLeader)!;
  await stop(follower);
  await client.put(Buffer.from('k3'), Buffer.from('v3'));
  await start(follower);
  await eventually('the restarted store catches up', async () => {
    const st = await admins[follower - 1]!.status();
    const lead = await admins[newLeader! - 1]!.status();
    return st.appliedIndex >= lead.commitIndex && lead.commitIndex > 0 ? true : undefined;
  }, { timeoutMs: 8000, everyMs: 25, retryErrors: true });
  const pairs = await client.scan(Buffer.from('k'), Buffer.alloc(0), 10);
  t.same(pairs.map(([k, v]) => `${Buffer.from(k)}=${Buffer.from(v)}`), ['k1=v1', 'k2=v2', 'k3=v3']);
});
