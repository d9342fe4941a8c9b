// Concurrent clients against a real three-store cluster while a nemesis injects faults for
// at least 30 s — kill -9 (often the leader) and restart, pause and resume, partitions,
// isolating the leader, dropping messages, leader transfers — then the recorded history is
// checked for linearizability: the same run a user gets from `tinykv chaos run`, here with
// the stores' logs truncated along the way (compact_log_threshold 50 in every e2e cluster);
// then a shorter run of the same with lease reads (raft.read_mode: lease).
//
// The fault schedule comes from the seed (printed; rerun with SEED=<n>). Process timing is
// not deterministic, so a rerun repeats the schedule, not the interleaving. On a failure the
// run folder (history, faults, logs, report.html) is kept and named.

import { cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { makeCluster } from './helpers.js';

const NEMESIS_MS = Number(process.env.NEMESIS_MS ?? 30_000);
const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));

async function nemesisRun(t: Test, o: { readMode: 'read_index' | 'lease'; ms: number }): Promise<void> {
  t.comment(`SEED=${seed} NEMESIS_MS=${o.ms} read_mode ${o.readMode}`);
  const c = await makeCluster(t, { readMode: o.readMode });
  await c.ok('cluster', 'up');
  const out = join(c.dir, 'run');
  const r = await c.cli('-w', 'json', 'chaos', 'run', '--out', out, '--seed', String(seed),
    '--duration', `${o.ms}ms`, '--clients', '4', '--keys', '6', '--recovery', '2s');
  const run = r.stdout ? JSON.parse(r.stdout) as { verdict: string; summary: string; operations: number; faults: number; checker_ms: number } : undefined;
  t.comment(run ? `${run.summary}; ${run.faults} faults; checker ${run.checker_ms} ms` : r.stderr.trim());
  if (r.code !== 0) {
    // The cluster's folder goes with the test; keep the run's for a look.
    const kept = join(tmpdir(), `tinykv-nemesis-run-${o.readMode}-${seed}`);
    cpSync(out, kept, { recursive: true });
    t.comment(`run folder kept in ${kept}`);
  }
  t.equal(r.code, 0, `linearizable (SEED=${seed})`);
  t.equal(run?.verdict, 'linearizable');
  t.ok((run?.faults ?? 0) >= 6, 'every kind of fault came round');
  const ok = readFileSync(join(out, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"outcome":"ok"')).length;
  t.ok(ok > 200, `the clients made progress (${ok} ok)`);

  // The stores ran with compact_log_threshold 50: their logs were truncated along the way.
  const compactions = c.cfg.stores
    .map((s) => readFileSync(join(out, 'logs', `store-${s.id}.log`), 'utf8').split('proposed log compaction').length - 1)
    .reduce((a, b) => a + b, 0);
  t.ok(compactions > 0, `leaders proposed ${compactions} log compactions during the run`);
  await c.ok('cluster', 'down');
}

t.test(`linearizable under faults (SEED=${seed})`, (t) => nemesisRun(t, { readMode: 'read_index', ms: NEMESIS_MS }));

// Lease reads under the same faults: pause (SIGSTOP) of the leader is the stuck leader
// whose lease must run out on its own clock, kill -9 and restart the voter that forgot it.
t.test(`linearizable under faults with lease reads (SEED=${seed})`, (t) => nemesisRun(t, { readMode: 'lease', ms: Math.round(NEMESIS_MS * 2 / 3) }));
