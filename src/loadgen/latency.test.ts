// The latency statistics (what `npm run bench -- --self-check` used to check by hand):
// percentiles by rank within the histogram's 3 significant digits, never above the largest
// sample, the mean, and NaN when nothing was recorded.

import t from 'tap';
import { LatencyRecorder } from './latency.js';

/** Within the histogram's precision: 3 significant digits, i.e. 0.1 %. */
const near = (got: number, want: number) => Math.abs(got - want) <= want * 0.001 + 0.001;

t.test('percentiles of 1..100 ms', async (t) => {
  const r = new LatencyRecorder();
  for (const ms of [...Array(100).keys()].map((i) => 100 - i)) r.record(ms); // the order does not matter
  const s = r.summary();
  r.destroy();
  t.equal(r.count, 100);
  for (const [got, want, what] of [[s.p50, 50, 'p50'], [s.p90, 90, 'p90'], [s.p99, 99, 'p99'], [s.mean, 50.5, 'mean']] as const) {
    t.ok(near(got, want), `${what}: ${got} ≈ ${want}`);
  }
  t.equal(s.p999, 100, 'p99.9 is the largest sample, not the edge of its bucket');
  t.equal(s.max, 100);
});

t.test('one sample, sub-microsecond samples, none', async (t) => {
  const one = new LatencyRecorder();
  one.record(7);
  t.same(one.summary(), { p50: 7, p90: 7, p99: 7, p999: 7, max: 7, mean: one.summary().mean });
  t.ok(near(one.summary().mean, 7));
  const tiny = new LatencyRecorder();
  tiny.record(0.0001);
  t.equal(tiny.summary().max, 0.001, 'recorded as one microsecond');
  const none = new LatencyRecorder().summary();
  t.ok(Object.values(none).every(Number.isNaN), 'no samples: no latency, not 0 ms');
});
