// Each store's Prometheus endpoint, as an operator scrapes it: the address from the
// cluster file (or the one the store picked, shown by `cluster status`), raft state that
// agrees with `cluster status`, counters that move with the work the test did (writes,
// fsyncs, requests, messages dropped by a chaos fault), and `cluster status -w table`
// with DB sizes and the fsync p99. A metrics port already taken stops the store's start
// with a one-line error, before any store is started.

import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import t from 'tap';
import { makeCluster, status, type TestCluster } from './helpers.js';
import { eventually } from '../support/wait.js';

/** Parses Prometheus text into series name{labels} → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** The sum of every series of `name` whose labels include all of `labels`. */
function sum(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [k, v] of series) {
    if (!(k === name || k.startsWith(`${name}{`))) continue;
    if (Object.entries(labels).every(([l, x]) => k.includes(`${l}="${x}"`))) total += v;
  }
  return total;
}

async function scrape(addr: string): Promise<Map<string, number>> {
  const r = await fetch(`http://${addr}/metrics`);
  if (r.status !== 200) throw new Error(`GET /metrics from ${addr}: ${r.status}`);
  return parseMetrics(await r.text());
}

function setMetricsAddr(c: TestCluster, storeId: number, addr: string): void {
  const text = readFileSync(c.file, 'utf8');
  const line = `addr: ${c.cfg.stores.find((s) => s.id === storeId)!.addr}\n`;
  writeFileSync(c.file, text.replace(line, `${line}    metrics_addr: ${addr}\n`));
}

t.test('every store serves metrics that follow its work', async (t) => {
  const c = await makeCluster(t, { spare: 1 });
  const fixed = `127.0.0.1:${c.sparePorts[0]}`;
  setMetricsAddr(c, 1, fixed);
  await c.ok('cluster', 'up');
  const writes = 12;
  for (let i = 0; i < writes; i++) await c.ok('put', `k${i}`, `v${i}`);
  await c.ok('get', 'k0');

  const rows = await status(c);
  t.equal(rows[0]!.metrics_addr, fixed, 'store 1 serves on the address from the cluster file');
  for (const r of rows) {
    t.match(r.metrics_addr, /^127\.0\.0\.1:\d+$/, `store ${r.id}: a loopback metrics address`);
    t.ok(r.kvdb_bytes! > 0 && r.raftdb_bytes! > 0, `store ${r.id}: both databases have a size`);
    t.ok(typeof r.fsync_p99_ms === 'number' && r.fsync_p99_ms > 0, `store ${r.id}: an fsync p99 (${r.fsync_p99_ms} ms)`);
  }

  const scraped = await Promise.all(rows.map((r) => scrape(r.metrics_addr!)));
  t.equal(scraped.reduce((n, s) => n + sum(s, 'tinykv_raft_role', { role: 'leader' }), 0), 1, 'exactly one store reports itself leader');
  t.ok(scraped.reduce((n, s) => n + sum(s, 'tinykv_raft_proposals_total', { kind: 'write' }), 0) >= writes, 'every write was proposed');
  t.ok(scraped.reduce((n, s) => n + sum(s, 'tinykv_grpc_request_duration_seconds_count', { method: 'RawPut', outcome: 'ok' }), 0) >= writes,
    'every acknowledged put was timed');
  t.ok(scraped.reduce((n, s) => n + sum(s, 'tinykv_grpc_request_duration_seconds_count', { method: 'RawGet', outcome: 'ok' }), 0) >= 1, 'the get too');
  scraped.forEach((s, i) => {
    const id = rows[i]!.id;
    t.ok(sum(s, 'tinykv_engine_write_duration_seconds_count', { db: 'raftdb', sync: 'true' }) >= writes, `store ${id}: raftdb fsynced each write`);
    t.equal(sum(s, 'tinykv_raft_term'), rows[i]!.term, `store ${id}: term as cluster status says`);
    t.ok(sum(s, 'tinykv_raft_applied_index') >= writes, `store ${id}: applied index counts the writes`);
    t.ok(sum(s, 'tinykv_raft_messages_sent_total') > 0 && sum(s, 'tinykv_raft_messages_received_total') > 0, `store ${id}: raft messages flow`);
    t.ok(sum(s, 'tinykv_engine_size_bytes', { db: 'kvdb' }) > 0, `store ${id}: kvdb size`);
    t.ok(sum(s, 'tinykv_process_resident_memory_bytes') > 0, `store ${id}: Node process metrics`);
    t.equal(sum(s, 'tinykv_raft_messages_dropped_total', { reason: 'fault' }), 0, `store ${id}: nothing dropped by faults yet`);
  });

  // A chaos fault shows up as dropped messages on the isolated store.
  await c.ok('chaos', 'partition', '--isolate', '2');
  const addr2 = rows.find((r) => r.id === 2)!.metrics_addr!;
  await eventually('store 2 counts messages dropped by the fault', async () =>
    sum(await scrape(addr2), 'tinykv_raft_messages_dropped_total', { reason: 'fault' }) > 0 ? true : undefined, { timeoutMs: 10_000, everyMs: 50, retryErrors: true });
  await c.ok('chaos', 'heal');

  const table = (await c.ok('cluster', 'status', '-w', 'table')).stdout;
  t.match(table.split('\n')[0], /KVDB\s+FSYNC P99\s+RSS\s+METRICS$/, '-w table adds the columns');
  t.match(table, new RegExp(`\\d+\\.\\d\\d ms\\s+[\\d.]+ MiB\\s+${fixed.replace(/\./g, '\\.')}\\n`), 'store 1 row: fsync p99, RSS, metrics address');
  t.notMatch((await c.ok('cluster', 'status')).stdout.split('\n')[0], /METRICS/, 'the default table stays narrow');

  const other = await fetch(`http://${fixed}/`);
  t.equal(other.status, 404, 'only /metrics is served');
  t.match(await other.text(), /metrics are at \/metrics/);
});

t.test('a metrics port already in use stops the start with one line', async (t) => {
  const c = await makeCluster(t, { spare: 1 });
  const port = c.sparePorts[0]!;
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  setMetricsAddr(c, 2, `127.0.0.1:${port}`);
  const up = await c.cli('cluster', 'up');
  t.equal(up.code, 2, 'usage-class exit code');
  t.match(up.stderr, new RegExp(`store 2: port 127\\.0\\.0\\.1:${port} is held by another process; free it or change stores\\[\\]\\.metrics_addr\\n$`));
  t.same(c.livePids(), [], 'checked before anything started');
  // A store started some other way meets the same port in the store process itself.
  const direct = await c.cli('store', 'start', '--store', '2', '--foreground');
  t.equal(direct.code, 2);
  t.equal(direct.stderr, `tinykv store: metrics port ${port} on 127.0.0.1 is already in use\n`);
});
