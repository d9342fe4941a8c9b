// Isolating the leader of a live cluster with `chaos partition --isolate`: the other two
// stores elect a new leader and serve reads and writes, while the isolated store serves
// nothing — no read (not even a stale one) and no write. After `chaos heal` it rejoins
// as a follower, catches up, and (thanks to PreVote) did not disturb the new leader.

import t from 'tap';
import { connectKvClient } from '../../src/client/index.js';
import { leaderIn, makeCluster, status } from './helpers.js';
import { eventually } from '../support/wait.js';

t.test('isolate the leader', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  await c.ok('put', 'k', 'v1');
  const old = leaderIn(await status(c))!;
  t.ok(old, `store ${old.id} leads in term ${old.term}`);

  const iso = await c.ok('chaos', 'partition', '--isolate', String(old.id));
  t.equal(iso.stdout, `store ${old.id} isolated from the others (set on store ${old.id})\n`);
  const t0 = Date.now();
  const next = await eventually('another store leads', async () => {
    const rows = await status(c);
    const l = rows.filter((r) => r.role === 'leader' && r.id !== old.id)[0];
    return l && l.term! > old.term! ? l : undefined;
  }, { timeoutMs: 15_000, everyMs: 50, retryErrors: true });
  t.comment(`store ${next.id} leads in term ${next.term}, ${Date.now() - t0} ms after the isolation`);

  const put = await c.ok('put', 'k', 'v2');
  t.comment(`put through the CLI while the old leader is isolated: ${Math.round(put.ms)} ms`);
  t.equal((await c.ok('get', 'k')).stdout, 'v2\n', 'the majority serves the new value');

  // A client that may talk only to the isolated store gets nothing out of it.
  const only = connectKvClient({ ...c.cfg, stores: c.cfg.stores.filter((s) => s.id === old.id) }, { timeoutMs: 1500 });
  t.teardown(only.close);
  await t.rejects(only.client.get(Buffer.from('k')), { code: 'CLUSTER_UNAVAILABLE' }, 'no read from the isolated store');
  await t.rejects(only.client.put(Buffer.from('k'), Buffer.from('v3')), /./, 'no write through the isolated store');
  const isolated = (await status(c)).find((r) => r.id === old.id)!;
  t.not(isolated.role, 'leader', `the isolated store stepped down (${isolated.role})`);
  t.ok(isolated.term! <= next.term!, 'PreVote: its term did not run ahead while isolated');

  await c.ok('chaos', 'heal');
  const healed = await eventually('the old leader catches up as a follower', async () => {
    const rows = await status(c);
    const me = rows.find((r) => r.id === old.id)!;
    const lead = leaderIn(rows);
    return lead && me.role === 'follower' && me.applied_index! >= lead.commit_index! ? rows : undefined;
  }, { timeoutMs: 15_000, everyMs: 100, retryErrors: true });
  const lead = leaderIn(healed)!;
  t.equal(lead.id, next.id, 'the new leader kept its leadership after the heal');
  t.equal(lead.term, next.term, 'and its term');
  t.equal((await c.ok('get', 'k')).stdout, 'v2\n', 'the write tried on the isolated store never took effect');
  await c.ok('cluster', 'down');
});
