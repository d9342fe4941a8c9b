// From recorded operations to a verdict: failed operations and unknown reads are left out
// of the checker's history, unknown writes may have happened, and a violation names the
// recorded operations of its window by their ids (the report draws those).

import t from 'tap';
import { checkerHistory, judge } from './run.js';
import type { OpRecord } from './run-record.js';

const put = (id: number, client: number, key: string, value: string, invokeMs: number, completeMs: number, outcome: OpRecord['outcome'] = 'ok'): OpRecord =>
  ({ id, client, kind: 'put', key, value, invokeMs, completeMs, outcome });
const get = (id: number, client: number, key: string, read: string | null, invokeMs: number, completeMs: number, outcome: OpRecord['outcome'] = 'ok'): OpRecord =>
  ({ id, client, kind: 'get', key, invokeMs, completeMs, outcome, ...(outcome === 'ok' ? { read } : { error: 'UNKNOWN_OUTCOME' }) });

t.test('what reaches the checker', async (t) => {
  const ops: OpRecord[] = [
    put(0, 1, 'k0', '1-0', 0, 5),
    put(1, 2, 'k0', '2-0', 6, 9, 'fail'),
    put(2, 2, 'k0', '2-1', 10, 500, 'unknown'),
    get(3, 1, 'k0', null, 20, 25, 'fail'),
    { id: 4, client: 1, kind: 'scan', start: 'k', end: 'l', invokeMs: 30, completeMs: 31, outcome: 'ok', pairs: [['k0', '2-1']] },
    { id: 5, client: 2, kind: 'delete', key: 'k0', invokeMs: 40, completeMs: 45, outcome: 'ok' },
  ];
  const h = checkerHistory(ops);
  t.same(h.map((o) => o.id), [0, 2, 4, 5], 'failed operations are left out');
  t.same(h[1], { id: 2, clientId: 2, invokeAt: 10, kind: 'put', key: 'k0', value: '2-1', outcome: { status: 'unknown' } }, 'an unknown write has no return time');
  const v = judge(ops, 600);
  t.equal(v.status, 'linearizable', 'the scan saw the unknown write: it happened');
  t.same(v.counts.put, { ok: 1, fail: 1, unknown: 1 });
  t.equal(v.ops, 6);
  t.match(v.summary, /^linearizable: 6 operations \(3 ok, 1 unknown, 2 failed\)/);
});

t.test('a lost acknowledged write is a violation, named by the recorded ids', async (t) => {
  const ops: OpRecord[] = [
    put(0, 1, 'k0', '1-0', 0, 5),
    put(1, 2, 'k0', '2-0', 10, 15),
    get(2, 1, 'k0', '1-0', 20, 25),
    get(3, 3, 'k1', null, 21, 22),
  ];
  const v = judge(ops, 30);
  t.equal(v.status, 'violation');
  t.equal(v.key, 'k0');
  t.same(v.windowOpIds, [1, 2], 'the write that was lost and the read that missed it');
  t.match(v.summary, /^NOT linearizable: key "k0"/);
  t.ok(v.explanation && v.explanation.length > 0);
});

t.test('a search over its budget is inconclusive, not a pass', async (t) => {
  // Linearizable, but only after trying orders: with a budget of 2 steps the checker gives up.
  const ops: OpRecord[] = [put(0, 1, 'k0', '1-0', 0, 10), put(1, 2, 'k0', '2-0', 0, 10), get(2, 3, 'k0', '2-0', 11, 12)];
  t.equal(judge(ops, 20).status, 'linearizable');
  const v = judge(ops, 20, 2);
  t.equal(v.status, 'inconclusive');
  t.match(v.summary, /^inconclusive: the checker gave up on key "k0"/);
  t.equal(v.windowOpIds, undefined);
});
