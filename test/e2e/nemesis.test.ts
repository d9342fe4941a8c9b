// Concurrent clients against a real three-store cluster while a nemesis injects faults
// through the CLI for at least 30 s — kill -9 (often the leader) and restart, pause and
// resume, partitions, isolating one store, dropping messages — then the recorded history
// is checked for linearizability with src/checker.
//
// The fault schedule comes from a seeded RNG (printed; rerun with SEED=<n>). Process
// timing is not deterministic, so a rerun repeats the schedule, not the interleaving.
// On a failed check the history is written to a JSON file named in the failure.

import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { HistoryRecorder } from '../../src/checker/history.js';
import { checkHistory } from '../../src/checker/linearizability.js';
import { connectKvClient } from '../../src/client/connect.js';
import { storeDir } from '../../src/config/types.js';
import { seededRng, type Rng } from '../../src/raft/rng.js';
import { eventually, leaderIn, makeCluster, status, type TestCluster } from './helpers.js';
import { runClient } from './workload.js';

const NEMESIS_MS = Number(process.env.NEMESIS_MS ?? 30_000);
const CLIENTS = 4;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const MAX_OPS_PER_CLIENT = 4000;
const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test(`linearizable under faults (SEED=${seed})`, async (t) => {
  t.comment(`SEED=${seed} NEMESIS_MS=${NEMESIS_MS}`);
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  const rng = seededRng(seed);
  const recorder = new HistoryRecorder({ now: () => performance.now() });
  let stop = false;
  const counts = { ok: 0, unknown: 0, failed: 0 };

  const clients = Array.from({ length: CLIENTS }, (_, i) => runClient(c.cfg, i + 1, seededRng(seed + i + 1), recorder, counts, () => stop, { keys: KEYS, maxOps: MAX_OPS_PER_CLIENT }));
  const faults = await nemesis(c, rng, NEMESIS_MS, t);
  t.comment(`faults: ${faults.join(', ')}`);

  // Back to health: heal, resume, restart what is down; then a quiet stretch of traffic.
  await c.ok('chaos', 'heal');
  for (const s of c.cfg.stores) await c.cli('chaos', 'resume', '--store', String(s.id));
  await c.ok('cluster', 'up');
  await sleep(2000);
  stop = true;
  await Promise.all(clients);

  // A final read of every key, in the history too.
  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 10_000 });
  t.teardown(close);
  for (const key of KEYS) {
    const id = recorder.invoke(99, { kind: 'get', key });
    const v = await client.get(Buffer.from(key));
    recorder.okGet(id, v === undefined ? null : Buffer.from(v).toString());
  }

  // The stores ran with compact_log_threshold 50: their logs were truncated along the way.
  const compactions = c.cfg.stores
    .map((s) => readFileSync(join(storeDir(c.cfg, s.id), 'store.log'), 'utf8').split('proposed log compaction').length - 1)
    .reduce((a, b) => a + b, 0);
  t.ok(compactions > 0, `leaders proposed ${compactions} log compactions during the run`);

  const history = recorder.history();
  t.comment(`${history.length} operations: ${counts.ok} ok, ${counts.unknown} unknown, ${counts.failed} failed (left out)`);
  t.ok(counts.ok > 200, 'the clients made progress');
  const t0 = performance.now();
  const verdict = checkHistory(history);
  t.comment(`checked in ${Math.round(performance.now() - t0)} ms`);
  if (!verdict.ok) {
    const file = join(tmpdir(), `tinykv-nemesis-history-${seed}.json`);
    writeFileSync(file, JSON.stringify(history));
    t.fail(`not linearizable (SEED=${seed}; history in ${file}): ${verdict.explanation}`);
  } else {
    t.pass(`linearizable: ${verdict.keys} keys, ${verdict.ops} operations`);
  }
  await c.ok('cluster', 'down');
});

/** Injects one fault at a time through the CLI, each held for a while and then undone. */
async function nemesis(c: TestCluster, rng: Rng, forMs: number, t: Test): Promise<string[]> {
  const ids = c.cfg.stores.map((s) => s.id);
  const pick = () => ids[rng.intBetween(0, ids.length)]!;
  const hold = () => sleep(rng.intBetween(600, 2000));
  const done: string[] = [];
  const until = Date.now() + forMs;
  let bag: string[] = [];
  for (let step = 0; step < 200 && Date.now() < until; step++) {
    // Every kind of fault once per round, in a random order.
    if (bag.length === 0) bag = shuffle(rng, ['kill-leader', 'kill', 'pause', 'partition', 'isolate-leader', 'drop']);
    const kind = bag.pop()!;
    if (kind === 'kill-leader' || kind === 'kill') {
      const target = kind === 'kill' ? String(pick()) : 'leader';
      const r = await c.cli('chaos', 'kill', '--store', target);
      const id = /store (\d+): killed/.exec(r.stdout)?.[1];
      if (!id) {
        t.comment(`nemesis: kill ${target} did not happen: ${r.stderr.trim()}`);
        continue;
      }
      await hold();
      await c.ok('chaos', 'restart', '--store', id);
      done.push(`kill ${id}${target === 'leader' ? ' (leader)' : ''}`);
    } else if (kind === 'pause') {
      const id = String(pick());
      await c.ok('chaos', 'pause', '--store', id);
      await hold();
      await c.ok('chaos', 'resume', '--store', id);
      done.push(`pause ${id}`);
    } else if (kind === 'partition') {
      const alone = pick();
      const rest = ids.filter((x) => x !== alone);
      await c.ok('chaos', 'partition', String(alone), rest.join(','));
      await hold();
      await c.ok('chaos', 'heal');
      done.push(`partition ${alone}|${rest.join(',')}`);
    } else if (kind === 'isolate-leader') {
      const lead = leaderIn(await status(c));
      if (!lead) continue;
      await c.ok('chaos', 'partition', '--isolate', String(lead.id));
      await hold();
      await c.ok('chaos', 'heal');
      done.push(`isolate ${lead.id}`);
    } else {
      await c.ok('chaos', 'drop', '--rate', '0.3');
      await hold();
      await c.ok('chaos', 'heal');
      done.push('drop 30%');
    }
    // Let the cluster settle before the next fault: a leader again, within bounds.
    await eventually('a leader after the fault', async () => leaderIn(await status(c)), 15_000, 100).catch((e: Error) => {
      t.comment(`nemesis: ${e.message}`);
    });
    await sleep(rng.intBetween(100, 600));
  }
  return done;
}

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.intBetween(0, i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
