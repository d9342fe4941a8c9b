// The load loop against an in-memory target: the --ops bound is exact, every workload
// touches the keys it should, failures are counted by code and kept out of the latencies,
// preload writes each key once, and keys are fixed-size and ordered.

import t from 'tap';
import { benchKey, benchValue, minKeySize } from './keys.js';
import { preload, runBench, type BenchSpec } from './run.js';
import type { KvTarget } from './target.js';

function memoryTarget(failEvery = 0) {
  const data = new Map<string, Buffer>();
  const calls: string[] = [];
  let n = 0;
  const maybeFail = () => {
    n++;
    if (failEvery > 0 && n % failEvery === 0) throw Object.assign(new Error('refused'), { code: 'UNKNOWN_OUTCOME' });
  };
  const target: KvTarget = {
    put: async (k, v) => { maybeFail(); calls.push('put'); data.set(k.toString('latin1'), v); },
    get: async (k) => { maybeFail(); calls.push('get'); return data.get(k.toString('latin1')); },
    delete: async (k) => { maybeFail(); calls.push('delete'); data.delete(k.toString('latin1')); },
    scan: async (s, e, limit) => {
      maybeFail();
      calls.push('scan');
      return [...data.keys()].filter((k) => k >= s.toString('latin1') && k < e.toString('latin1')).slice(0, limit).length;
    },
  };
  return { target, data, calls };
}

const spec = (o: Partial<BenchSpec>): BenchSpec => ({
  workload: 'put', concurrency: 4, durationMs: 10_000, ops: 100, keySize: 16, valueSize: 8, keys: 50, readRatio: 0.5, scanSize: 10, seed: 1, ...o,
});

t.test('keys and values', async (t) => {
  t.equal(benchKey(42, 16).toString(), 'bench:0000000042');
  t.ok(Buffer.compare(benchKey(9, 12), benchKey(10, 12)) < 0, 'keys sort by number');
  t.equal(minKeySize(100_000), 11);
  t.throws(() => benchKey(100_000, 10), RangeError);
  t.equal(benchValue(7, 5).length, 5);
  t.not(benchValue(1, 8).toString(), benchValue(2, 8).toString());
});

t.test('the ops bound is exact and every workload does its operation', async (t) => {
  const m = memoryTarget();
  const targets = Array.from({ length: 4 }, () => m.target);
  const r = await runBench(targets, spec({}));
  t.same({ ok: r.ok, failed: r.failed }, { ok: 100, failed: 0 });
  t.ok(r.latencyMs.p50 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max, 'percentiles in order, none above the max');
  t.ok(m.data.size > 0 && m.data.size <= 50, 'puts stay in the key space');
  t.equal(await preload(targets, 50, { keySize: 16, valueSize: 8, concurrency: 4 }), 50);
  t.equal(m.data.size, 50, 'preload wrote every key');
  for (const workload of ['get', 'scan', 'delete'] as const) {
    m.calls.length = 0;
    const x = await runBench(targets, spec({ workload, ops: 20 }));
    t.equal(x.ok, 20);
    t.same([...new Set(m.calls)], [workload], `${workload}: only ${workload}s`);
  }
  m.calls.length = 0;
  await runBench(targets, spec({ workload: 'mixed', ops: 400, readRatio: 0.25 }));
  const gets = m.calls.filter((c) => c === 'get').length;
  t.ok(gets > 50 && gets < 150, `mixed: about a quarter gets (${gets} of 400)`);
});

t.test('failures are counted by code, not timed', async (t) => {
  const m = memoryTarget(5);
  const r = await runBench([m.target], spec({ concurrency: 1, ops: 50 }));
  t.same({ ok: r.ok, failed: r.failed, errors: r.errors }, { ok: 40, failed: 10, errors: { UNKNOWN_OUTCOME: 10 } });
  await t.rejects(runBench([m.target], spec({ concurrency: 2 })), RangeError, 'a worker per target');
});
