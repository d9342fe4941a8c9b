import t from 'tap';
import { RecentDurations } from './recent-durations.js';

t.test('quantiles over the last N samples, nearest rank', async (t) => {
  const r = new RecentDurations(100);
  t.equal(r.quantile(0.99), undefined, 'nothing yet');
  for (let i = 1; i <= 100; i++) r.push(i);
  t.equal(r.quantile(0.99), 99);
  t.equal(r.quantile(0.5), 50);
  t.equal(r.quantile(1), 100);
  t.equal(r.quantile(0), 1);
  for (let i = 0; i < 100; i++) r.push(1000 + i);
  t.equal(r.count, 100, 'holds at most its capacity');
  t.equal(r.quantile(0), 1000, 'the old samples are gone');
  t.equal(r.quantile(0.99), 1098);
  // Float64Array sorts numerically, not as strings (a plain array's default sort would put 1000 before 99).
  const s = new RecentDurations(3);
  for (const v of [99, 1000, 5]) s.push(v);
  t.equal(s.quantile(1), 1000);
  t.throws(() => new RecentDurations(0), RangeError);
});
