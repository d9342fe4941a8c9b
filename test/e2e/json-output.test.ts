// Every process and fault command prints one JSON object with -w json (the shapes their
// --help documents), so a script can drive a cluster without parsing prose.

import t from 'tap';
import { makeCluster } from './helpers.js';

t.test('-w json on cluster up/down, store start and every chaos command', async (t) => {
  const c = await makeCluster(t);
  const json = async (...args: string[]) => {
    const r = await c.ok('-w', 'json', ...args);
    t.equal(r.stdout.split('\n').length, 2, `${args.join(' ')}: one line`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const shape = (o: Record<string, unknown>) => Object.keys(o);

  const up = await json('cluster', 'up');
  t.same(shape(up), ['stores', 'leader_id', 'term', 'ms']);
  const stores = up.stores as Array<{ store_id: number; pid: number; how: string }>;
  t.same(stores.map((s) => [s.store_id, s.how]), [[1, 'started'], [2, 'started'], [3, 'started']]);
  t.ok(stores.every((s) => Number.isInteger(s.pid) && s.pid > 0), 'each with its pid');
  const pid2 = stores[1]!.pid;

  t.same(await json('store', 'start', '--store', '2'), { store_id: 2, pid: pid2, how: 'already-running' });
  t.same(await json('chaos', 'pause', '--store', '2'), { store_id: 2, pid: pid2, signal: 'SIGSTOP' });
  t.same(await json('chaos', 'resume', '--store', '2'), { store_id: 2, pid: pid2, signal: 'SIGCONT', was_paused: true });
  t.same(await json('chaos', 'resume', '--store', '2'), { store_id: 2, pid: pid2, signal: 'SIGCONT', was_paused: false });
  t.same(await json('chaos', 'partition', '--isolate', '3'), { fault: 'store 3 isolated from the others', applied: [3], skipped: [] });
  t.same(await json('chaos', 'partition', '1', '2,3'), { fault: 'partitioned 1 | 2,3', applied: [1, 2, 3], skipped: [] });
  t.same(await json('chaos', 'drop', '--rate', '0.5'), { fault: 'dropping 50% of store-to-store messages', applied: [1, 2, 3], skipped: [] });
  t.same(await json('chaos', 'heal'), { fault: 'network faults removed', applied: [1, 2, 3], skipped: [] });
  t.same(await json('chaos', 'kill', '--store', '2'), { store_id: 2, pid: pid2, signal: 'SIGKILL' });
  t.same(await json('chaos', 'heal'), { fault: 'network faults removed', applied: [1, 3], skipped: [{ store_id: 2, error: 'connection refused' }] },
    'a store that is down is listed as skipped, with why');
  const restarted = await json('chaos', 'restart', '--store', '2');
  t.same(shape(restarted), ['store_id', 'pid', 'how']);
  t.equal(restarted.how, 'started');

  const down = await json('cluster', 'down');
  t.same(down, {
    stores: [1, 2, 3].map((id) => ({ store_id: id, how: 'stopped', pid: id === 2 ? restarted.pid : stores[id - 1]!.pid })),
    purged: false,
  });
  t.same(await json('cluster', 'down'), { stores: [1, 2, 3].map((id) => ({ store_id: id, how: 'not-running', pid: null })), purged: false });
});
