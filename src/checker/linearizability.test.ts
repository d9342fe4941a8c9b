// Tests for the linearizability checker: hand-written histories that must pass or fail,
// random valid histories (and mutations of them that must fail), and a size smoke test.
// Random runs print their seed; rerun one with SEED=<n>.

import t from 'tap';
import type { KvOp, Op, ScanOp } from './history.js';
import { HistoryRecorder } from './history.js';
import type { CheckResult, Violation } from './linearizability.js';
import { checkHistory } from './linearizability.js';
import { randomHistory, seededRandom } from './testing/random-history.js';

const ok = { status: 'ok' } as const;
const put = (c: number, key: string, value: string, inv: number, ret: number): KvOp => ({
  clientId: c, kind: 'put', key, value, invokeAt: inv, returnAt: ret, outcome: ok,
});
const append = (c: number, key: string, value: string, inv: number, ret: number): KvOp => ({
  clientId: c, kind: 'append', key, value, invokeAt: inv, returnAt: ret, outcome: ok,
});
const del = (c: number, key: string, inv: number, ret: number): KvOp => ({
  clientId: c, kind: 'delete', key, invokeAt: inv, returnAt: ret, outcome: ok,
});
const get = (c: number, key: string, value: string | null, inv: number, ret: number): KvOp => ({
  clientId: c, kind: 'get', key, invokeAt: inv, returnAt: ret, outcome: { status: 'ok', value },
});
const scan = (c: number, start: string, end: string | undefined, pairs: Array<[string, string]>, inv: number, ret: number): ScanOp => ({
  clientId: c, kind: 'scan', start, end, invokeAt: inv, returnAt: ret, outcome: { status: 'ok', pairs },
});
const lost = <T extends Op>(op: T): T => ({ ...op, returnAt: Infinity, outcome: { status: 'unknown' } });

type Asserts = Parameters<Parameters<typeof t.test>[0]>[0];

function expectViolation(t: Asserts, r: CheckResult, offending: readonly Op[], maxWindow: number): Violation | undefined {
  if (r.ok || r.inconclusive) {
    t.fail(`expected a violation, got ${JSON.stringify(r)}`);
    return undefined;
  }
  for (const op of offending) t.ok(r.window.includes(op), `window contains ${op.kind} by client ${op.clientId}`);
  t.ok(r.window.length <= maxWindow, `window has ${r.window.length} <= ${maxWindow} operations`);
  t.match(r.explanation, /is not linearizable/);
  return r;
}

t.test('accepts', async (t) => {
  const cases: Array<[string, Op[]]> = [
    ['an empty history', []],
    ['a sequential history', [put(1, 'a', '1', 0, 1), get(1, 'a', '1', 2, 3), put(1, 'a', '2', 4, 5), get(2, 'a', '2', 6, 7)]],
    ['a read of a missing key', [get(1, 'a', null, 0, 1), put(1, 'b', 'x', 2, 3), get(1, 'a', null, 4, 5)]],
    ['a read concurrent with a put, seeing the old value', [put(1, 'a', '1', 0, 1), put(1, 'a', '2', 2, 6), get(2, 'a', '1', 3, 4)]],
    ['a read concurrent with a put, seeing the new value', [put(1, 'a', '1', 0, 1), put(1, 'a', '2', 2, 6), get(2, 'a', '2', 3, 4)]],
    ['reads ordered only by their own overlap', [put(1, 'a', '1', 0, 10), get(2, 'a', '1', 1, 3), get(3, 'a', null, 2, 4)]],
    ['an unknown put that took effect', [lost(put(1, 'a', '1', 0, 1)), get(2, 'a', '1', 5, 6), get(2, 'a', '1', 7, 8)]],
    ['an unknown put that did not take effect', [lost(put(1, 'a', '1', 0, 1)), get(2, 'a', null, 5, 6), get(2, 'a', null, 7, 8)]],
    ['an unknown put that took effect late', [lost(put(1, 'a', '1', 0, 1)), get(2, 'a', null, 5, 6), get(2, 'a', '1', 7, 8)]],
    ['an unknown get, which constrains nothing', [put(1, 'a', '1', 0, 1), lost(get(2, 'a', 'nonsense', 2, 3))]],
    ['a delete, then a read of nothing', [put(1, 'a', '1', 0, 1), del(1, 'a', 2, 3), get(2, 'a', null, 4, 5)]],
    [
      'appends',
      [append(1, 'a', 'x', 0, 1), append(2, 'a', 'y', 2, 5), get(3, 'a', 'xy', 3, 4)]
        .concat([del(1, 'a', 6, 7), append(1, 'a', 'z', 8, 9), get(2, 'a', 'z', 10, 11)]),
    ],
    [
      'a scan per key',
      [put(1, 'a', '1', 0, 1), put(1, 'b', '2', 2, 3), del(1, 'c', 2, 3), scan(2, 'a', 'c', [['a', '1'], ['b', '2']], 4, 5)],
    ],
    [
      'a scan concurrent with writes to two keys',
      [put(1, 'a', '1', 0, 10), put(2, 'b', '2', 0, 10), scan(3, 'a', undefined, [['b', '2']], 1, 2)],
    ],
  ];
  for (const [name, history] of cases) {
    const r = checkHistory(history);
    t.ok(r.ok, name, r.ok ? {} : { explanation: r.explanation });
  }
});

t.test('rejects a stale read after a completed write', async (t) => {
  const noise = Array.from({ length: 50 }, (_, i) => put(1, 'a', `old${i}`, i * 2, i * 2 + 1));
  const w = put(1, 'a', 'new', 200, 201);
  const stale = get(2, 'a', 'old49', 202, 203);
  const r = expectViolation(t, checkHistory([...noise, w, stale, get(2, 'b', null, 202, 203)]), [w, stale], 2);
  t.equal(r?.key, 'a');
  t.match(r?.explanation, /returned at t=203/);
});

t.test('rejects a read of a value never written', async (t) => {
  const bad = get(2, 'a', 'ghost', 5, 6);
  expectViolation(t, checkHistory([put(1, 'a', '1', 0, 1), put(1, 'a', '2', 2, 3), bad]), [bad], 1);
});

t.test('rejects sequential reads that see a new value, then an old one', async (t) => {
  const w = put(1, 'a', '2', 2, 20);
  const r1 = get(2, 'a', '2', 3, 4);
  const r2 = get(2, 'a', '1', 5, 6);
  expectViolation(t, checkHistory([put(1, 'a', '1', 0, 1), w, r1, r2]), [w, r1, r2], 3);
});

t.test('rejects a lost acknowledged write', async (t) => {
  const w = put(1, 'a', '1', 0, 1);
  const r = get(2, 'a', null, 2, 3);
  expectViolation(t, checkHistory([w, r, get(2, 'a', null, 4, 5)]), [w, r], 2);
});

t.test('rejects a delete that did not take effect', async (t) => {
  const d = del(1, 'a', 2, 3);
  const r = get(2, 'a', '1', 4, 5);
  expectViolation(t, checkHistory([put(1, 'a', '1', 0, 1), d, r]), [d, r], 2);
});

t.test('rejects an unknown put observed before it was invoked', async (t) => {
  const w = lost(put(1, 'a', '1', 10, 11));
  const r = get(2, 'a', '1', 2, 3);
  expectViolation(t, checkHistory([w, r]), [r], 1);
});

t.test('rejects appends applied twice and scans that miss an acknowledged write', async (t) => {
  const twice = get(2, 'a', 'xx', 2, 3);
  expectViolation(t, checkHistory([append(1, 'a', 'x', 0, 1), twice]), [twice], 2);
  const w = put(1, 'b', '1', 0, 1);
  const s = scan(2, 'a', 'z', [], 2, 3);
  expectViolation(t, checkHistory([w, s, put(1, 'c', '1', 0, 1)]), [w, s], 2);
});

t.test('a scan with a limit says nothing past its last key', async (t) => {
  const history: Op[] = [put(1, 'a', '1', 0, 1), put(1, 'b', '2', 0, 1), { ...scan(2, 'a', undefined, [['a', '1']], 2, 3), limit: 1 }];
  t.ok(checkHistory(history).ok);
  const unlimited = scan(2, 'a', undefined, [['a', '1']], 2, 3);
  t.notOk(checkHistory([...history.slice(0, 2), unlimited]).ok);
});

t.test('gives up with an inconclusive result when the budget runs out', async (t) => {
  const history = [put(1, 'a', '1', 0, 10), put(2, 'a', '2', 0, 10), get(3, 'a', '2', 11, 12)];
  const r = checkHistory(history, { maxSteps: 2 });
  t.equal(r.ok, false);
  t.equal(!r.ok && r.inconclusive, true);
  t.match(!r.ok ? r.explanation : '', /gave up/);
  t.ok(checkHistory(history).ok, 'and passes with the default budget');
});

t.test('rejects malformed operations', async (t) => {
  t.throws(() => checkHistory([{ ...put(1, 'a', '1', 5, 4) }]), TypeError);
  t.throws(() => checkHistory([{ ...get(1, 'a', null, 0, 1), outcome: ok }]), TypeError);
  t.throws(() => checkHistory([scan(1, 'b', 'c', [['a', '1']], 0, 1)]), TypeError);
});

t.test('the recorder assigns ids and times from the clock it is given', async (t) => {
  let now = 100;
  const rec = new HistoryRecorder({ now: () => now });
  const a = rec.invoke(1, { kind: 'put', key: 'k', value: 'v' });
  now = 105;
  const b = rec.invoke(2, { kind: 'get', key: 'k' });
  const c = rec.invoke(3, { kind: 'delete', key: 'k' });
  const d = rec.invoke(4, { kind: 'put', key: 'k', value: 'w' });
  now = 110;
  rec.ok(a);
  rec.okGet(b, 'v');
  rec.fail(c);
  t.throws(() => rec.ok(b), TypeError, 'settled twice');
  t.throws(() => rec.ok(rec.invoke(5, { kind: 'get', key: 'k' })), TypeError, 'wrong settle method');
  const h = rec.history();
  t.same(h.map((o) => o.id), [a, b, d, 5]);
  t.match(h[0], { clientId: 1, kind: 'put', invokeAt: 100, returnAt: 110, outcome: { status: 'ok' } });
  t.match(h[1], { clientId: 2, kind: 'get', invokeAt: 105, outcome: { status: 'ok', value: 'v' } });
  t.match(h[2], { id: d, returnAt: Infinity, outcome: { status: 'unknown' } }, 'pending reads as unknown');
  t.ok(checkHistory(h).ok);
});

const baseSeed = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 1_000_000;

const profiles = [
  { name: 'unique values', clients: 4, opsPerClient: 60, keys: ['a', 'b', 'c'] },
  { name: 'few values', clients: 5, opsPerClient: 60, keys: ['a', 'b'], valueChoices: 3 },
  { name: 'unknown outcomes', clients: 5, opsPerClient: 60, keys: ['a', 'b'], valueChoices: 4, unknownRate: 0.15 },
  { name: 'appends', clients: 4, opsPerClient: 40, keys: ['a', 'b'], mix: { append: 3, get: 3, delete: 1 }, unknownRate: 0.1 },
  { name: 'scans', clients: 4, opsPerClient: 50, keys: ['a', 'b', 'c', 'd'], mix: { put: 3, get: 2, delete: 1, scan: 2 } },
] as const;

t.test('random valid histories are accepted, and mutated ones rejected', async (t) => {
  t.comment(`seed ${baseSeed} (rerun with SEED=${baseSeed})`);
  for (let i = 0; i < 20; i++) {
    const seed = baseSeed + i;
    const profile = profiles[i % profiles.length]!;
    const history = randomHistory({ ...profile, seed });
    const r = checkHistory(history);
    t.ok(r.ok, `${profile.name}, seed ${seed}`, r.ok ? {} : { explanation: r.explanation });
    const rand = seededRandom(seed * 7 + 1);
    const [mutated, target] = mutateRead(history, rand);
    if (target === undefined) continue;
    const m = checkHistory(mutated);
    t.ok(!m.ok && !m.inconclusive && m.window.includes(target), `read of a phantom is caught, seed ${seed}`);
  }
});

t.test('a stale read appended to a random history is rejected with a small window', async (t) => {
  const seed = baseSeed + 100;
  t.comment(`seed ${seed}`);
  const history = randomHistory({ seed, clients: 5, opsPerClient: 80, keys: ['a'], valueChoices: 3, mix: { put: 2, get: 3 } });
  const end = Math.max(...history.map((o) => o.returnAt ?? 0));
  const w = put(9, 'a', 'final', end + 1, end + 2);
  const stale = get(9, 'a', 'v1', end + 3, end + 4);
  t.ok(checkHistory([...history, w, get(9, 'a', 'final', end + 3, end + 4)]).ok, 'unmutated');
  const v = expectViolation(t, checkHistory([...history, w, stale]), [w, stale], 2);
  if (v !== undefined) t.comment(v.explanation);
});

t.test('a read made stale in the middle of a random history is caught with a small window', async (t) => {
  t.comment(`seed ${baseSeed}`);
  for (let i = 0; i < 10; i++) {
    const seed = baseSeed + 200 + i;
    const history = randomHistory({ seed, clients: 6, opsPerClient: 150, keys: ['k'] });
    const m = makeStale(history, seededRandom(seed));
    if (m === undefined) continue;
    // The stale value was once current, so the read alone proves nothing: the window must
    // also show an overwrite, or a read of a newer value that cannot be undone.
    const v = expectViolation(t, checkHistory(m.history), [m.read], 6);
    t.ok(v !== undefined && v.window.length >= 2, 'the window shows more than the read', { explanation: v?.explanation });
  }
});

/**
 * Picks a get g (unique values, no unknown outcomes) and makes it return the value of a
 * put w1 that finished before another put w2 started, w2 having finished before g started.
 */
function makeStale(history: Op[], rand: () => number): { history: Op[]; read: Op } | undefined {
  const puts = history.filter((o): o is KvOp => o.kind === 'put');
  const gets = history.filter((o) => o.kind === 'get');
  for (let tries = 0; tries < 20; tries++) {
    const g = gets[Math.floor(gets.length * (0.2 + 0.6 * rand()))]!;
    const w2 = puts.filter((p) => p.returnAt! < g.invokeAt).sort((a, b) => b.returnAt! - a.returnAt!)[0];
    const w1 = w2 && puts.find((p) => p.returnAt! < w2.invokeAt);
    if (w2 === undefined || w1 === undefined) continue;
    const read: Op = { ...(g as KvOp), outcome: { status: 'ok', value: w1.value! } };
    return { history: history.map((o) => (o === g ? read : o)), read };
  }
  return undefined;
}

/** Replaces one random acknowledged get's result with a value nobody wrote. */
function mutateRead(history: Op[], rand: () => number): [Op[], Op | undefined] {
  const reads = history.filter((o) => o.kind === 'get' && o.outcome.status === 'ok');
  if (reads.length === 0) return [history, undefined];
  const victim = reads[Math.floor(rand() * reads.length)]!;
  const phantom: Op = { ...(victim as KvOp), outcome: { status: 'ok', value: 'phantom' } };
  return [history.map((o) => (o === victim ? phantom : o)), phantom];
}

t.test('smoke: 5 clients x 400 ops over 20 keys, and 5000 ops on one key', async (t) => {
  t.comment(`seed ${baseSeed}`);
  const keys = Array.from({ length: 20 }, (_, i) => `key${i}`);
  const wide = randomHistory({ seed: baseSeed, clients: 5, opsPerClient: 400, keys, valueChoices: 5, unknownRate: 0.05 });
  let started = performance.now();
  const r1 = checkHistory(wide);
  t.comment(`${wide.length} ops over 20 keys: ${(performance.now() - started).toFixed(0)} ms`);
  t.match(r1, { ok: true, keys: 20, ops: 2000 });
  const deep = randomHistory({ seed: baseSeed, clients: 5, opsPerClient: 1000, keys: ['k'], valueChoices: 5, unknownRate: 0.02 });
  started = performance.now();
  const r2 = checkHistory(deep);
  t.comment(`${deep.length} ops on one key: ${(performance.now() - started).toFixed(0)} ms`);
  t.ok(r2.ok, 'deep history accepted', r2.ok ? {} : { explanation: r2.explanation });
});
