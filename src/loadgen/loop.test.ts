// The load loop's bounds: the count is exact across workers, the time cap stops starting
// operations, a caller's stop and the first failure (with stopOnError) end it, and failures
// are counted by code, kept out of the latencies.

import t from 'tap';
import { runLoop } from './loop.js';
import { sleep } from '../../test/support/wait.js';

t.test('the count bound is exact and seq numbers are unique', async (t) => {
  const seen: number[] = [];
  const perWorker = [0, 0, 0];
  const r = await runLoop({
    workers: 3, ops: 50, durationMs: 60_000,
    op: async (w, seq) => { seen.push(seq); perWorker[w]!++; await Promise.resolve(); },
  });
  t.equal(r.ok, 50);
  t.same([...seen].sort((a, b) => a - b), [...Array(50).keys()]);
  t.ok(perWorker.every((n) => n > 0), 'every worker ran');
  t.ok(r.latencyMs.p50 <= r.latencyMs.max);
});

t.test('the time bound stops an uncounted loop', async (t) => {
  // Each operation waits 5 ms, so a 100 ms cap ends the loop after about 20 per worker.
  const r = await runLoop({ workers: 2, ops: null, durationMs: 100, op: () => sleep(5) });
  t.ok(r.ok > 0 && r.ok < 200, `${r.ok} operations in about 100 ms`);
  t.ok(r.elapsedMs >= 100, 'none started after the cap; the last ones awaited');
});

t.test('failures by code, stopOnError and a caller stop', async (t) => {
  const fails = (seq: number) => seq % 4 === 3;
  const r = await runLoop({
    workers: 1, ops: 20, durationMs: 60_000,
    op: async (_w, seq) => { if (fails(seq)) throw Object.assign(new Error(`no ${seq}`), { code: 'UNKNOWN_OUTCOME' }); },
  });
  t.same({ ok: r.ok, failed: r.failed, errors: r.errors, first: r.firstError?.message }, { ok: 15, failed: 5, errors: { UNKNOWN_OUTCOME: 5 }, first: 'no 3' });

  const s = await runLoop({ workers: 1, ops: 20, durationMs: 60_000, stopOnError: true, op: async (_w, seq) => { if (fails(seq)) throw new RangeError('x'); } });
  t.same({ ok: s.ok, failed: s.failed, errors: s.errors }, { ok: 3, failed: 1, errors: { RangeError: 1 } });

  let n = 0;
  const u = await runLoop({ workers: 1, ops: 1000, durationMs: 60_000, stopped: () => n >= 7, op: async () => {}, onOk: () => { n++; } });
  t.equal(u.ok, 7);
  await t.rejects(runLoop({ workers: 0, ops: 1, durationMs: 1, op: async () => {} }), RangeError);
});
