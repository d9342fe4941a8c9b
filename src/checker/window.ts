// Shrinks a key's non-linearizable history to a small window that is still a proof of the
// violation, so a failing test points at a handful of operations instead of thousands.
//
// Every step below only makes a history *easier* to linearize, so if the result still cannot
// be linearized, neither could the original; the window is a genuine witness:
//   truncate(T)  keep operations invoked by T; a write still running at T becomes unknown,
//                a read still running at T is dropped.
//   cut(S)       drop operations that returned before S; of those still running at S, reads
//                are dropped and writes become optional (they may have taken effect before S,
//                or take effect before they returned); the register starts in an unknown
//                state: absent or a value put by some operation invoked before S (any value
//                at all if the key has appends). Every dropped operation finished before
//                anything kept began, so it sits before them in any linearization.
//   relax(op)    drop one read, or make one write optional.
//   prune        drop optional or unknown puts (deletes) whose value (null) no kept read
//                observed; this one is exact: such a write can always be left out. Skipped
//                when the key has appends.
//
// The smallest window: T is the earliest return time at which the truncated history is
// already non-linearizable (so an operation returning at T is the first whose result cannot
// be explained); S is the latest cut time at which truncate(T) then cut(S) is still
// non-linearizable. Both properties are monotone (a later cut of the history is a weakening
// of an earlier one; truncation likewise), so binary searches find T and S. Then, for windows
// of at most RELAX_LIMIT operations, one greedy pass relaxes each operation in turn and keeps
// the change when the window stays non-linearizable. The result: the operations overlapping
// the interval [S, T], minus what the relax pass showed to be irrelevant.

import type { InitialState, KeyOp } from './register.js';
import { searchKey } from './wgl.js';

export interface Window {
  /** Cut time S; -Infinity when the window starts at the beginning of the history. */
  readonly from: number;
  /** Truncation time T: the return time of the first operation whose result is inexplicable. */
  readonly to: number;
  /** The window's operations; `definite: false` with a finite returnAt marks writes made optional. */
  readonly ops: readonly KeyOp[];
  /** What the register may hold at `from`. */
  readonly initial: InitialState;
}

/** Windows larger than this skip the greedy relax pass (it costs one search per operation). */
const RELAX_LIMIT = 120;

/** Finds the window for `ops`, one key's operations already known to be non-linearizable. */
export function smallestWindow(ops: readonly KeyOp[], maxSteps: number): Window {
  const appends = ops.some((o) => o.kind === 'append');
  const fails = (w: readonly KeyOp[], initial: InitialState): boolean =>
    searchKey(appends ? w : prune(w), { initial, maxSteps }).kind === 'violation';

  const returns = unique(ops.filter((o) => o.definite).map((o) => o.returnAt));
  const ti = firstTrue(returns.length, (i) => fails(truncate(ops, returns[i]!), { kind: 'empty' }));
  const to = returns[ti] ?? Infinity;
  const upToT = truncate(ops, to);

  const cuts = [-Infinity, ...unique(upToT.filter((o) => o.definite).map((o) => o.invokeAt))];
  const si = lastTrue(cuts.length, (i) => i === 0 || fails(...cut(upToT, cuts[i]!, appends)));
  const from = cuts[si]!;
  const [cutOps, initial] = cut(upToT, from, appends);

  let window = cutOps;
  if (window.length <= RELAX_LIMIT) window = relaxAll(window, to, (w) => fails(w, initial));
  return { from, to, ops: appends ? window : prune(window), initial };
}

function truncate(ops: readonly KeyOp[], to: number): KeyOp[] {
  const out: KeyOp[] = [];
  for (const o of ops) {
    if (o.invokeAt > to) continue;
    if (o.returnAt <= to) out.push(o);
    else if (o.kind !== 'get') out.push(unknown(o));
  }
  return out;
}

function cut(ops: readonly KeyOp[], from: number, appends: boolean): [KeyOp[], InitialState] {
  if (from === -Infinity) return [[...ops], { kind: 'empty' }];
  const out: KeyOp[] = [];
  const candidates = new Set<string | null>([null]);
  for (const o of ops) {
    if (o.invokeAt < from && o.kind === 'put') candidates.add(o.value);
    if (o.returnAt < from) continue;
    if (o.invokeAt >= from) out.push(o);
    else if (o.kind !== 'get') out.push(optional(o));
  }
  return [out, appends ? { kind: 'unknown' } : { kind: 'unknown', candidates }];
}

/** Tries to drop each read and make each write optional, keeping what still fails. */
function relaxAll(ops: KeyOp[], to: number, fails: (w: readonly KeyOp[]) => boolean): KeyOp[] {
  let current = ops;
  for (const target of ops) {
    // The operations returning at T are the ones the violation is about: always keep them.
    if (target.returnAt === to || !target.definite) continue;
    const i = current.indexOf(target);
    const replacement = target.kind === 'get' ? [] : [optional(target)];
    const candidate = [...current.slice(0, i), ...replacement, ...current.slice(i + 1)];
    if (fails(candidate)) current = candidate;
  }
  return current;
}

/** Drops non-definite puts and deletes whose value no read observed. Not valid with appends. */
function prune(ops: readonly KeyOp[]): KeyOp[] {
  const seen = new Set<string | null>();
  for (const o of ops) if (o.kind === 'get') seen.add(o.value);
  return ops.filter((o) => o.definite || o.kind === 'get' || seen.has(o.value));
}

/** May take effect any time after its invocation, or never. */
function unknown(o: KeyOp): KeyOp {
  return o.definite ? { ...o, definite: false, returnAt: Infinity } : o;
}

/** May take effect before it returned, or never (keeps an unknown operation unknown). */
function optional(o: KeyOp): KeyOp {
  return o.definite ? { ...o, definite: false } : o;
}

function unique(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** Smallest i in [0, n) with pred(i), assuming pred is monotone false→true; n-1 if none. */
function firstTrue(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Largest i in [0, n) with pred(i), assuming pred is monotone true→false and pred(0). */
function lastTrue(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (pred(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
