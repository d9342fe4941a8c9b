// Measures what a user feels, on the e2e raft timing (tick 20 ms, election 10 ticks, so
// one election timeout is 200-400 ms; E2E_TICK_MS=100 for the default file's timing): `cluster up` time, the latency of one CLI
// command, and — over TRIALS kill -9s of the leader — the time from the SIGKILL to the
// first acknowledged write of a client that had the old leader cached. Prints the
// numbers and asserts none of them: speed is reported here, judged by people.

import t from 'tap';
import { connectKvClient } from '../../src/client/index.js';
import { readPidFile } from '../../src/orchestrator/pid-file.js';
import { ELECTION_TIMEOUT_MS, leaderIn, makeCluster, median, status } from './helpers.js';
import { eventually } from '../support/wait.js';

const TRIALS = Number(process.env.TRIALS ?? 5);

t.test('failover and CLI timings', async (t) => {
  const c = await makeCluster(t);
  const up = await c.ok('cluster', 'up');
  const ready = /ready in ([\d.]+) s/.exec(up.stdout)?.[1];
  t.comment(`cluster up: ${Math.round(up.ms)} ms for the whole command; stores ready in ${ready} s`);

  const gets: number[] = [];
  await c.ok('put', 'k', 'v');
  for (let i = 0; i < 10; i++) gets.push((await c.ok('get', 'k')).ms);
  t.comment(`CLI get: median ${Math.round(median(gets))} ms, max ${Math.round(Math.max(...gets))} ms over ${gets.length}`);

  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 1000, attemptTimeoutMs: 300 });
  t.teardown(close);
  const failovers: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    await client.put(Buffer.from('warm'), Buffer.from(String(trial))); // the client now caches the leader
    const lead = leaderIn(await status(c))!;
    const rec = readPidFile(c.cfg, lead.id)!;
    const t0 = performance.now();
    process.kill(rec.pid, 'SIGKILL');
    let tries = 0;
    await eventually('a write after the kill', async () => {
      tries++;
      await client.put(Buffer.from(`trial-${trial}`), Buffer.from('x'));
      return true;
    }, { timeoutMs: 20 * ELECTION_TIMEOUT_MS + 10_000, everyMs: 0, retryErrors: true });
    const ms = performance.now() - t0;
    failovers.push(ms);
    t.comment(`trial ${trial + 1}: killed store ${lead.id} (term ${lead.term}); first write acknowledged after ${Math.round(ms)} ms (${tries} call(s))`);
    const back = await client.get(Buffer.from(`trial-${trial}`));
    t.equal(back && Buffer.from(back).toString(), 'x', `trial ${trial + 1}: the write acknowledged after the kill is read back`);
    await c.ok('chaos', 'restart', '--store', String(lead.id));
    await eventually('everyone caught up', async () => {
      const rows = await status(c);
      const l = leaderIn(rows);
      return l && rows.every((r) => r.applied_index !== null && r.applied_index >= l.commit_index!) ? true : undefined;
    }, { timeoutMs: 15_000, everyMs: 100, retryErrors: true });
  }
  t.comment(`kill -9 leader -> first write: median ${Math.round(median(failovers))} ms, max ${Math.round(Math.max(...failovers))} ms over ${failovers.length} trials`);
  await c.ok('cluster', 'down');
});
