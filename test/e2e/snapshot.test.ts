// Snapshots and store identity on real processes:
//   - kill one store, write 20,000 keys through the other two (which compact their logs
//     meanwhile), restart it: it catches up by snapshot, and then serves every key as half
//     of a quorum — first with one of the others killed, then with the other;
//   - wipe a store's data directory and `tinykv chaos restart` it: it refuses with one
//     clear line and a non-zero exit, and the cluster keeps serving without losing a key.

import { rmSync } from 'node:fs';
import t from 'tap';
import { connectKvClient } from '../../src/client/index.js';
import { storeDir } from '../../src/config/types.js';
import { leaderIn, makeCluster, status } from './helpers.js';
import { eventually } from '../support/wait.js';
import type { JsonStatus, TestCluster } from './helpers.js';

const KEYS = 20_000;
const IN_FLIGHT = 64;
const key = (i: number) => `key-${String(i).padStart(6, '0')}`;
const value = (i: number) => `value-${i}-${'v'.repeat(40)}`;

async function writeAll(c: TestCluster, n: number): Promise<void> {
  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 20_000 });
  try {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        await client.put(Buffer.from(key(i)), Buffer.from(value(i)));
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    close();
  }
}

/** Every key, read back through the cluster in one scan: the ones missing or wrong. */
async function missingKeys(c: TestCluster, n: number): Promise<string[]> {
  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 20_000 });
  try {
    const pairs = await client.scan(Buffer.from('key-'), Buffer.from('key.'), 0);
    const found = new Map(pairs.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]));
    const bad: string[] = [];
    for (let i = 0; i < n; i++) if (found.get(key(i)) !== value(i)) bad.push(key(i));
    return bad;
  } finally {
    close();
  }
}

const row = (rows: readonly JsonStatus[], id: number) => rows.find((r) => r.id === id)!;

t.test('a store down for 20,000 writes comes back by snapshot and serves every key', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  const lagging = 3;
  await c.ok('chaos', 'kill', '--store', String(lagging));
  const t0 = Date.now();
  await writeAll(c, KEYS);
  t.comment(`${KEYS} writes with ${IN_FLIGHT} in flight through two stores: ${Date.now() - t0} ms`);

  const before = await status(c);
  const lead = leaderIn(before)!;
  t.ok(lead.truncated_index! > 1000, `the leader compacted its log while store ${lagging} was down (truncated at ${lead.truncated_index})`);
  t.ok(lead.last_index! - lead.truncated_index! <= 200, `and kept it short: ${lead.last_index! - lead.truncated_index!} entries`);

  await c.ok('chaos', 'restart', '--store', String(lagging));
  const caught = await eventually(`store ${lagging} catches up`, async () => {
    const rows = await status(c);
    const l = leaderIn(rows);
    const me = row(rows, lagging);
    return l && me.applied_index !== null && me.applied_index >= l.commit_index! ? rows : undefined;
  }, { timeoutMs: 60_000, everyMs: 200, retryErrors: true });
  const me = row(caught, lagging);
  t.ok((me.last_snapshot_installed ?? 0) > 0, `store ${lagging} installed a snapshot (at ${me.last_snapshot_installed})`);
  const human = await c.ok('cluster', 'status');
  t.match(human.stdout, new RegExp(`installed ${me.last_snapshot_installed}`), 'cluster status shows the install');

  // Half of every quorum from now on: kill each of the others in turn.
  for (const other of [1, 2]) {
    await c.ok('chaos', 'kill', '--store', String(other));
    const missing = await missingKeys(c, KEYS);
    t.same(missing.slice(0, 5), [], `with store ${other} down, stores ${lagging} and ${3 - other} serve all ${KEYS} keys (${missing.length} missing)`);
    await c.ok('put', `after-kill-${other}`, 'ok');
    await c.ok('chaos', 'restart', '--store', String(other));
    await eventually(`store ${other} is back in the group`, async () => {
      const rows = await status(c);
      const l = leaderIn(rows);
      const s = row(rows, other);
      return l && s.applied_index !== null && s.applied_index >= l.commit_index! ? true : undefined;
    }, { timeoutMs: 60_000, everyMs: 200, retryErrors: true });
  }
  await c.ok('cluster', 'down');
});

t.test('a store restarted on a wiped data directory is refused, and the cluster loses nothing', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  await writeAll(c, 500);
  const victim = 2;
  await c.ok('chaos', 'kill', '--store', String(victim));
  rmSync(storeDir(c.cfg, victim), { recursive: true, force: true });

  const r = await c.cli('chaos', 'restart', '--store', String(victim));
  t.not(r.code, 0, `chaos restart exits non-zero (${r.code})`);
  const line = r.stderr.trim();
  t.equal(line.split('\n').length, 1, 'one line');
  t.match(line, new RegExp(`store ${victim}: its data directory .* is empty, but store \\d has heard from it`), line);
  t.match(line, /lost its raft state/, 'says what happened');
  t.match(line, /To recover without losing data/, 'and how to recover');

  const rows = await status(c);
  t.equal(row(rows, victim).alive, false, `store ${victim} is not running`);
  await c.ok('put', 'still', 'serving');
  t.equal((await c.ok('get', 'still')).stdout, 'serving\n', 'the other two keep serving');
  t.same(await missingKeys(c, 500), [], 'every key is still there');
  await c.ok('cluster', 'down');
});
