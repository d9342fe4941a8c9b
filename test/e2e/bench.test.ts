// `tinykv bench` against a real cluster: the count bound, the JSON shape with latency
// percentiles and the stores' CPU and RSS, preload for reads, and bad input refused.

import t from 'tap';
import { makeCluster } from './helpers.js';

t.test('bench put, get with preload, and bad input', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  const put = JSON.parse((await c.ok('-w', 'json', 'bench', 'put', '--ops', '300', '--concurrency', '8', '--keys', '1000')).stdout) as Record<string, unknown>;
  t.same(Object.keys(put), ['workload', 'concurrency', 'ok', 'failed', 'errors', 'seconds', 'ops_per_sec', 'latency_ms', 'preloaded', 'stores']);
  t.same({ workload: put.workload, concurrency: put.concurrency, ok: put.ok, failed: put.failed }, { workload: 'put', concurrency: 8, ok: 300, failed: 0 });
  const l = put.latency_ms as Record<string, number>;
  t.ok(l.p50! > 0 && l.p50! <= l.p90! && l.p90! <= l.p99! && l.p99! <= l.p999! && l.p999! <= l.max!, 'percentiles in order');
  const stores = put.stores as Array<{ store_id: number; pid: number; cpu: number; peak_rss_bytes: number }>;
  t.same(stores.map((s) => s.store_id), [1, 2, 3], 'every store measured');
  t.ok(stores.every((s) => s.cpu >= 0 && s.peak_rss_bytes > 10 * 1024 * 1024), 'CPU share and RSS from /proc');
  t.comment(`put×8: ${put.ops_per_sec} ops/s, p50 ${l.p50} ms, p99 ${l.p99} ms`);

  const get = JSON.parse((await c.ok('-w', 'json', 'bench', 'get', '--ops', '200', '--preload', '100', '--keys', '100')).stdout) as Record<string, unknown>;
  t.same({ ok: get.ok, preloaded: get.preloaded }, { ok: 200, preloaded: 100 });
  t.equal((await c.ok('get', 'bench:0000000042')).stdout.length, 65, 'preloaded keys hold 64-byte values');

  const table = (await c.ok('bench', 'scan', '--ops', '50', '--keys', '100', '--scan-size', '10')).stdout;
  t.match(table, /^WORKLOAD\s+IN FLIGHT\s+OK\s+FAILED\s+OPS\/S\s+P50 MS\s+P90 MS\s+P99 MS\s+P99\.9 MS\s+MAX MS\nscan\s+16\s+50\s+0\s/);
  t.match(table, /^store 1 \(pid \d+\): cpu \d+% of a core, peak RSS \d+ MiB$/m);

  const bad = await c.cli('bench', 'teleport');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown workload "teleport"/);
  const small = await c.cli('bench', '--key-size', '8');
  t.equal(small.code, 2);
  t.match(small.stderr, /--key-size 8 cannot hold 100000 keys \(need at least 11\)/);
  t.equal((await c.cli('bench', '--value-size', '5000')).code, 2, 'over max_value_bytes');

  await c.ok('cluster', 'down');
  const down = await c.cli('bench', '--duration', '5s');
  t.equal(down.code, 3, 'a cluster that is down: exit 3');
  t.match(down.stderr, /cluster unavailable|tinykv cluster up/);
  t.equal(down.stdout, '', 'and no table of failures');
});
