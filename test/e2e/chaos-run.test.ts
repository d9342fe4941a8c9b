// `tinykv chaos run` end to end, as a user runs it: a short run with every kind of fault on
// a healthy 3-store cluster ends linearizable and leaves the run folder (history, faults,
// logs, verdict, report) and a healthy cluster behind; the same run against stores started
// with a deliberate bug (acknowledging writes before they commit) is caught: exit 5, the
// verdict names the key, and the report draws the failing window.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeCluster, type TestCluster } from './helpers.js';

interface RunJson {
  verdict: string;
  summary: string;
  operations: number;
  faults: number;
  checker_ms: number;
  run_ms: number;
  out: string;
  report: string;
  seed: number;
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

async function run(c: TestCluster, out: string, ...args: string[]) {
  const r = await c.cli('-w', 'json', 'chaos', 'run', '--out', out, ...args);
  t.comment(r.stderr.split('\n').slice(-6).join('\n'));
  return { ...r, json: r.stdout ? (JSON.parse(r.stdout) as RunJson) : undefined };
}

t.test('a short run with every fault: linearizable, with its folder and report', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  // Data already in the cluster, where the run's keys and scans would fall if they were
  // not the run's own: it must not be read (a value nobody wrote) nor overwritten.
  for (const k of ['k', 'k0', 'k1', 'k3']) await c.ok('put', k, `user-${k}`);
  const out = join(c.dir, 'run-ok');
  const r = await run(c, out, '--duration', '8s', '--interval', '700', '--recovery', '1s', '--seed', '42', '--clients', '4', '--keys', '4');
  t.equal(r.code, 0, `exit 0: ${r.stderr.trim().split('\n').pop()}`);
  const j = r.json!;
  t.equal(j.verdict, 'linearizable');
  t.equal(j.seed, 42);
  t.equal(j.out, out);
  t.ok(j.operations > 100, `the clients made progress (${j.operations} operations)`);
  t.ok(j.faults >= 3, `faults were injected (${j.faults})`);
  t.comment(`run: ${j.operations} operations, ${j.faults} faults, checker ${j.checker_ms} ms, ${j.run_ms} ms in all`);

  const history = lines(join(out, 'history.jsonl'));
  t.equal(history.length, j.operations, 'every operation is in history.jsonl');
  t.ok(history.every((o) => typeof o.invokeMs === 'number' && ['ok', 'fail', 'unknown'].includes(o.outcome as string)), 'with times and outcome');
  t.ok(history.some((o) => o.client === 0 && o.kind === 'get'), 'the final reads are there');
  const faults = lines(join(out, 'faults.jsonl'));
  t.equal(faults.length, j.faults);
  t.ok(faults.every((f) => typeof f.startMs === 'number' && typeof f.endMs === 'number'), 'every fault was undone');
  const params = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { seed: number; faults: string[] };
  t.same(params.faults, ['kill', 'pause', 'partition', 'isolate', 'drop', 'transfer']);
  const verdict = JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8')) as { status: string; ops: number };
  t.same({ status: verdict.status, ops: verdict.ops }, { status: 'linearizable', ops: j.operations });
  // Every store's log of the run is there; a store that only followed may have logged
  // nothing meanwhile, but one that was killed logged its restart.
  const logs = [1, 2, 3].map((id) => readFileSync(join(out, 'logs', `store-${id}.log`), 'utf8'));
  const killed = [...new Set(faults.filter((f) => f.kind === 'kill').map((f) => (f.stores as number[])[0]!))];
  t.ok(killed.length > 0, 'every kind comes round in 10 faults: a store was killed');
  for (const id of killed) t.match(logs[id - 1], /store started/, `store ${id} was killed: its log of the run shows the restart`);
  const html = readFileSync(j.report, 'utf8');
  t.match(html, /^<!doctype html>/i);
  for (const id of ['verdict', 'counts', 'timeline', 'throughput', 'latency', 'faults']) t.match(html, new RegExp(`id="${id}"`), `report: ${id}`);
  t.notMatch(html, /id="violation"/);
  t.match(html, /LINEARIZABLE/);
  t.notMatch(html, /<script[^>]+src=|<link[^>]+href=/i, 'nothing to fetch: the report opens offline');
  t.comment(`report.html: ${(html.length / 1024).toFixed(0)} KiB`);

  t.equal((await c.cli('cluster', 'health')).code, 0, 'the cluster is healthy after the run');
  for (const k of ['k', 'k0', 'k1', 'k3']) t.equal((await c.ok('get', k)).stdout.trim(), `user-${k}`, `the user's ${k} is untouched`);
  const left = await c.ok('-w', 'json', 'scan', '--prefix', 'chaos-run/', '--count-only');
  t.same(JSON.parse(left.stdout), { count: 0 }, 'the run removed its own keys');
  t.equal((await c.cli('chaos', 'run', '--out', out, '--duration', '1s')).code, 2, 'a used run folder is refused');
});

t.test('a store that acknowledges writes before they commit is caught and drawn', async (t) => {
  const c = await makeCluster(t);
  process.env['TINYKV_DELIBERATE_BUGS'] = 'ackBeforeCommit';
  try {
    await c.ok('cluster', 'up');
  } finally {
    delete process.env['TINYKV_DELIBERATE_BUGS'];
  }
  const out = join(c.dir, 'run-bug');
  // Isolating the leader strands it with clients that still write to it: it acknowledges
  // writes the majority never gets.
  const r = await run(c, out, '--duration', '10s', '--faults', 'isolate', '--interval', '1000', '--recovery', '1s', '--seed', '7');
  t.equal(r.code, 5, 'exit 5: not linearizable');
  t.equal(r.json?.verdict, 'violation');
  t.match(r.stderr, /tinykv: not linearizable: /);
  const verdict = JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8')) as { status: string; key: string; windowOpIds: number[]; explanation: string };
  t.equal(verdict.status, 'violation');
  t.match(verdict.key, /^k\d$/);
  t.ok(verdict.windowOpIds.length >= 2, `a failing window of ${verdict.windowOpIds.length} operations`);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.match(html, /id="violation"/, 'the report draws the failing window');
  t.match(html, /NOT LINEARIZABLE/);
  t.comment(verdict.explanation.split('\n')[0]);
});

t.test('bad input and a cluster that is not up', async (t) => {
  const c = await makeCluster(t);
  const bad = await c.cli('chaos', 'run', '--faults', 'kill,meteor');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown fault "meteor"/);
  t.equal((await c.cli('chaos', 'run', '--duration', 'soon')).code, 2);
  const down = await c.cli('chaos', 'run', '--duration', '1s');
  t.equal(down.code, 3, 'no cluster: exit 3');
  t.match(down.stderr, /chaos run needs a healthy cluster.*tinykv cluster up/);
});
