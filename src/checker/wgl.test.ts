// Cross-checks the search (wgl.ts) and the window machinery (key-check.ts) against a
// brute-force checker on many small random single-key histories: every subset of the
// optional and unknown writes, every order of the chosen operations. Prints its seed;
// rerun with SEED=<n>.

import t from 'tap';
import { checkKey } from './key-check.js';
import type { InitialState, KeyOp, Pieces } from './register.js';
import { seededRandom } from './testing/random-history.js';
import { searchKey } from './wgl.js';

/** Whether some subset of the non-definite ops, with all definite ones, has a valid order. */
function bruteForce(ops: readonly KeyOp[], initial: InitialState): boolean {
  let starts: Array<string | null> = [null];
  if (initial.kind === 'unknown') {
    starts = 'candidates' in initial ? [...initial.candidates] : buildableStarts(ops, initial.pieces);
  }
  const optional = ops.filter((o) => !o.definite);
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const chosen = [...ops.filter((o) => o.definite), ...optional.filter((_, i) => mask & (1 << i))];
    if (starts.some((s) => someOrder(chosen, s))) return true;
  }
  return false;
}

/**
 * The starting values worth trying for `pieces`: absent, and every buildable prefix of a value
 * some read saw (a start no read ever sees, because a put or delete comes first, behaves
 * like absent).
 */
function buildableStarts(ops: readonly KeyOp[], pieces: Pieces): Array<string | null> {
  const starts = new Set<string | null>([null]);
  const build = (x: string): boolean =>
    x === '' ||
    pieces.puts.some((p) => p !== '' && x.startsWith(p) && build2(x.slice(p.length))) ||
    build2(x);
  const build2 = (x: string): boolean =>
    x === '' || pieces.appends.some((a) => a !== '' && x.startsWith(a) && build2(x.slice(a.length)));
  for (const o of ops) {
    if (o.kind !== 'get' || o.value === null) continue;
    for (let i = 0; i <= o.value.length; i++) if (build(o.value.slice(0, i))) starts.add(o.value.slice(0, i));
  }
  return [...starts];
}

/** Depth-first over orders: the next op may be any whose start no remaining op's return precedes. */
function someOrder(rest: readonly KeyOp[], value: string | null): boolean {
  if (rest.length === 0) return true;
  return rest.some((x, i) => {
    if (rest.some((y) => y !== x && y.returnAt < x.invokeAt)) return false;
    let next: string | null;
    if (x.kind === 'get') {
      if (x.value !== value) return false;
      next = value;
    } else if (x.kind === 'put') next = x.value;
    else if (x.kind === 'delete') next = null;
    else next = (value ?? '') + x.value!;
    return someOrder([...rest.slice(0, i), ...rest.slice(i + 1)], next);
  });
}

type Mix = 'registers' | 'appends' | 'appends only';
const MIXES: Record<Mix, ReadonlyArray<KeyOp['kind']>> = {
  registers: ['put', 'get', 'get', 'delete'],
  appends: ['put', 'get', 'get', 'append', 'delete'],
  'appends only': ['get', 'append'],
};

function randomOps(rand: () => number, mix: Mix): KeyOp[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const appends = mix !== 'registers';
  const n = 1 + Math.floor(rand() * 6);
  const ops: KeyOp[] = [];
  for (let src = 0; src < n; src++) {
    const kind = pick(MIXES[mix]);
    const invokeAt = Math.floor(rand() * 10);
    let returnAt = invokeAt + Math.floor(rand() * 6);
    let definite = true;
    if (kind !== 'get' && rand() < 0.35) {
      definite = false;
      if (rand() < 0.5) returnAt = Infinity;
    }
    const seen = appends ? [null, 'a', 'b', 'ab', 'ba', 'aa'] : [null, 'a', 'b'];
    const value = kind === 'get' ? pick(seen) : kind === 'delete' ? null : pick(['a', 'b']);
    ops.push({ src, kind, value, invokeAt, returnAt, definite });
  }
  return ops;
}

function randomInitial(rand: () => number, appends: boolean): InitialState {
  if (rand() < 0.5) return { kind: 'empty' };
  if (appends) {
    const some = (xs: string[]): string[] => xs.filter(() => rand() < 0.5);
    return { kind: 'unknown', pieces: { puts: some(['a', 'b', 'ab']), appends: some(['a', 'b']) } };
  }
  const candidates = new Set<string | null>([null]);
  if (rand() < 0.5) candidates.add('a');
  if (rand() < 0.5) candidates.add('b');
  return { kind: 'unknown', candidates };
}

const seed = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 1_000_000;

t.test('the search agrees with brute force', async (t) => {
  t.comment(`seed ${seed}`);
  const rand = seededRandom(seed);
  const tally = { linearizable: 0, violation: 0 };
  for (let i = 0; i < 4000; i++) {
    const mix: Mix = i % 4 === 0 ? 'appends' : i % 8 === 2 ? 'appends only' : 'registers';
    const ops = randomOps(rand, mix);
    const initial = randomInitial(rand, mix !== 'registers');
    const expected = bruteForce(ops, initial);
    const got = searchKey(ops, { initial, maxSteps: 1_000_000 }).kind;
    tally[got === 'linearizable' ? 'linearizable' : 'violation']++;
    if ((got === 'linearizable') !== expected) {
      t.fail(`case ${i}: search says ${got}, brute force says ${expected}`, { ops, initial });
      return;
    }
  }
  t.ok(tally.linearizable > 400 && tally.violation > 400, `both outcomes well covered: ${JSON.stringify(tally)}`);
});

t.test('key checks with constant probing agree with brute force, and windows are witnesses', async (t) => {
  t.comment(`seed ${seed}`);
  const rand = seededRandom(seed + 1);
  let violations = 0;
  for (let i = 0; i < 1500; i++) {
    const mix: Mix = i % 4 === 0 ? 'appends' : i % 8 === 2 ? 'appends only' : 'registers';
    // Whole histories only contain definite reads, and unknown (not optional) writes.
    const ops = randomOps(rand, mix).map((o) => (o.definite ? o : { ...o, returnAt: Infinity }));
    const expected = bruteForce(ops, { kind: 'empty' });
    const verdict = checkKey(ops, { maxSteps: 1_000_000, firstSlice: 1 });
    if ((verdict.kind === 'linearizable') !== expected) {
      t.fail(`case ${i}: checkKey says ${verdict.kind}, brute force says ${expected}`, { ops });
      return;
    }
    if (verdict.kind !== 'violation') continue;
    violations++;
    const w = verdict.window;
    if (bruteForce(w.ops, w.initial) || !w.ops.some((o) => o.returnAt === w.to)) {
      t.fail(`case ${i}: the window is not a witness`, { ops, window: w });
      return;
    }
  }
  t.ok(violations > 300, `${violations} violations, each with a window that fails on its own`);
});
