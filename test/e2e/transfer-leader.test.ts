// `tinykv transfer-leader` on real store processes while a client writes: leadership moves
// to the named store without waiting for an election timeout, writes pause only briefly,
// and every acknowledged write is there afterwards. Bad targets get the usual exit codes.
// The figures (the command's wall time, the longest pause between two acknowledged writes
// around each transfer, medians of 5) are printed as comments.

import t from 'tap';
import { connectKvClient } from '../../src/client/index.js';
import { leaderIn, makeCluster, median, status } from './helpers.js';
import { eventually, sleep } from '../support/wait.js';

t.test('transfer leadership around the cluster while a client writes', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 10_000 });
  t.teardown(close);

  const acked = new Map<string, string>();
  const done: number[] = [];
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop && i < 100_000; i++) {
      const k = `w${String(i).padStart(6, '0')}`;
      try {
        await client.put(Buffer.from(k), Buffer.from(`v${i}`));
        acked.set(k, `v${i}`);
        done.push(performance.now());
      } catch {
        // an unknown outcome; the check below only counts acknowledged writes
      }
    }
  })();

  const cliMs: number[] = [];
  const gaps: number[] = [];
  try {
    await eventually('the writer is writing', () => done.length >= 5, { timeoutMs: 10_000, everyMs: 20 });
    for (let round = 0; round < 5; round++) {
      const before = leaderIn(await status(c))!;
      const ids = c.cfg.stores.map((s) => s.id);
      const target = ids[(ids.indexOf(before.id) + 1) % ids.length]!;
      const t0 = performance.now();
      const r = await c.ok('transfer-leader', '--to', String(target), '--json');
      const t1 = performance.now();
      const out = JSON.parse(r.stdout) as { from: number; to: number; ms: number; already_leader: boolean; term: number };
      t.same([out.from, out.to, out.already_leader], [before.id, target, false], `round ${round}: store ${before.id} → store ${target}`);
      t.ok(out.term > before.term!, `in a new term (${before.term} → ${out.term})`);
      const rows = await status(c);
      t.equal(leaderIn(rows)?.id, target, `store ${target} leads`);
      await sleep(300); // writes go on under the new leader: the window measured below runs to t1 + 300 ms
      const around = done.filter((x) => x >= t0 - 200 && x <= t1 + 300);
      let gap = 0;
      for (let i = 1; i < around.length; i++) gap = Math.max(gap, around[i]! - around[i - 1]!);
      cliMs.push(t1 - t0);
      gaps.push(gap);
      t.comment(`round ${round}: command ${Math.round(t1 - t0)} ms (transfer seen after ${out.ms} ms), longest pause between acknowledged writes ${Math.round(gap)} ms`);
    }
  } finally {
    stop = true;
    await writer;
  }
  t.comment(`medians of 5: command ${Math.round(median(cliMs))} ms, write pause ${Math.round(median(gaps))} ms; ${acked.size} writes acknowledged`);
  t.ok(acked.size > 50, 'the writer made progress throughout');

  const pairs = await client.scan(Buffer.from('w'), Buffer.from('x'), 1_000_000);
  const found = new Map(pairs.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]));
  const lost = [...acked].filter(([k, v]) => found.get(k) !== v).map(([k]) => k);
  t.same(lost.slice(0, 5), [], `every acknowledged write is there (${lost.length} missing)`);

  // Bad targets.
  const leader = leaderIn(await status(c))!;
  const same = await c.ok('transfer-leader', '--to', String(leader.id));
  t.equal(same.stdout, `store ${leader.id} already leads (term ${leader.term})\n`);
  const unknown = await c.cli('transfer-leader', '--to', '9');
  t.equal(unknown.code, 2, 'a store not in the cluster file: exit 2');
  t.match(unknown.stderr, /store 9 is not in .*cluster\.yaml \(stores: 1, 2, 3\)/);
  const down = c.cfg.stores.map((s) => s.id).find((id) => id !== leader.id)!;
  await c.ok('chaos', 'kill', '--store', String(down));
  const dead = await c.cli('transfer-leader', '--to', String(down));
  t.equal(dead.code, 2, 'a store that is down: exit 2');
  t.match(dead.stderr, new RegExp(`store ${down} does not answer .*leadership cannot move to it`));
  const missing = await c.cli('transfer-leader');
  t.equal(missing.code, 2, 'no --to: exit 2');
  await eventually('the cluster still answers', async () => ((await c.cli('get', 'w000000')).code === 0 ? true : undefined), { timeoutMs: 10_000, everyMs: 50, retryErrors: true });
  await c.ok('cluster', 'down');
});
