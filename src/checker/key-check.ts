// Checks one key's history and, when it fails, finds the smallest window that proves it.
//
// Finding a valid order is usually quick; proving that none exists means exhausting every
// configuration up to the violation, which for a long history is most of the work. So the
// full search runs in slices, and between slices it probes short windows (window.ts) that end
// at the search's frontier — the latest return the search got stuck at, which tends to be
// the violation — and start 1, 2, 4, 8, ... invocations before the operation returning there.
// A failing window proves the violation at once; otherwise the full search resumes.
//
// The smallest window, given a failing W(S0, T0):
//   1. T = the earliest return time with W(S0, T) failing (binary search; monotone).
//   2. If the history up to the previous return time fails too, its failure needs a window
//      reaching further back: start again from that one. So T ends up as the earliest time
//      by which the key's history is non-linearizable (unless that check is inconclusive),
//      and an operation returning at T is the first whose result cannot be explained.
//   3. S = the latest cut with W(S, T) failing (monotone; galloping back from T, then
//      binary search, so the small windows near T are tried first).
//   4. For windows of at most RELAX_LIMIT operations, one greedy pass relaxes each
//      operation (drops a read, makes a write optional) and keeps the change while the
//      window still fails; operations returning at T come last, and since T is minimal
//      one of them stays.
// So the window is the operations overlapping [S, T], minus what step 4 showed irrelevant.

import type { KeyOp } from './register.js';
import type { Window } from './window.js';
import { relax, windowOf } from './window.js';
import { Search, searchKey } from './wgl.js';

export type KeyVerdict =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'violation'; readonly window: Window }
  | { readonly kind: 'inconclusive'; readonly steps: number };

/** Windows larger than this skip the relax pass (it costs one search per operation). */
const RELAX_LIMIT = 120;
const FIRST_SLICE = 20_000;
const SHRINK_MAX_STEPS = 200_000;

export interface KeyCheckOptions {
  /** Budget of each search. */
  readonly maxSteps: number;
  /** Steps of the first slice of a full search before probing (tests set it low). */
  readonly firstSlice?: number;
}

/** Checks one key's operations. */
export function checkKey(ops: readonly KeyOp[], opts: KeyCheckOptions): KeyVerdict {
  const d = decide(ops, -Infinity, Infinity, opts);
  if (d.kind !== 'violation') return d.kind === 'linearizable' ? d : { kind: 'inconclusive', steps: d.steps };
  return { kind: 'violation', window: smallestWindow(ops, d.from, d.to, opts) };
}

type Decision =
  | { readonly kind: 'linearizable' | 'inconclusive'; readonly steps: number }
  | { readonly kind: 'violation'; readonly from: number; readonly to: number };

/** Decides W(from, to); a violation names a failing window, possibly narrower. */
function decide(ops: readonly KeyOp[], from: number, to: number, opts: KeyCheckOptions): Decision {
  const { maxSteps, firstSlice = FIRST_SLICE } = opts;
  const w = windowOf(ops, from, to);
  const search = new Search(w.ops, w.initial);
  let probeSteps = 0;
  let probed = -Infinity;
  for (let slice = firstSlice; ; slice *= 2) {
    const budget = maxSteps - search.steps - probeSteps;
    if (budget <= 0 || search.exhausted) return { kind: 'inconclusive', steps: search.steps + probeSteps };
    const r = search.run(Math.min(slice, budget));
    if (r.kind === 'linearizable') return { kind: 'linearizable', steps: r.steps };
    if (r.kind === 'violation') return { kind: 'violation', from, to };
    if (search.frontier > probed) {
      probed = search.frontier;
      const p = probe(ops, w, search.frontierInvoke, probed, slice);
      probeSteps += p.steps;
      if (p.from !== undefined) return { kind: 'violation', from: p.from, to: probed };
    }
  }
}

/**
 * Looks for a failing W(S, at) inside `w`, where `at` is the search frontier, `stuck` when
 * the operation returning there was invoked, and S is 1, 2, 4, ... definite invocations
 * back from `stuck` (so that the window includes that operation).
 */
function probe(
  ops: readonly KeyOp[],
  w: Window,
  stuck: number,
  at: number,
  budget: number,
): { steps: number; from?: number } {
  const starts = invokeTimes(w.ops, w.from, stuck).reverse();
  let steps = 0;
  for (let k = 1; k <= starts.length; k *= 2) {
    const pw = windowOf(ops, starts[k - 1]!, at);
    const r = searchKey(pw.ops, { initial: pw.initial, maxSteps: budget });
    steps += r.steps;
    if (r.kind === 'violation') return { steps, from: pw.from };
  }
  return { steps };
}

/**
 * Shrinks the failing W(from, to) as described in the module comment. Its searches get a
 * smaller budget: one that runs out only leaves the window larger than it could be.
 */
function smallestWindow(ops: readonly KeyOp[], from: number, to: number, opts: KeyCheckOptions): Window {
  opts = { ...opts, maxSteps: Math.min(opts.maxSteps, SHRINK_MAX_STEPS) };
  const fails = (s: number, t: number): boolean => decide(ops, s, t, opts).kind === 'violation';
  for (;;) {
    const returns = returnTimes(windowOf(ops, from, to).ops);
    to = returns[firstTrue(returns.length, (i) => fails(from, returns[i]!))] ?? to;
    if (from === -Infinity) break;
    const earlier = returnTimes(ops).filter((t) => t < to);
    if (earlier.length === 0) break;
    const d = decide(ops, -Infinity, earlier[earlier.length - 1]!, opts);
    if (d.kind !== 'violation') break;
    [from, to] = [d.from, d.to];
  }
  const cuts = [from, ...invokeTimes(windowOf(ops, from, to).ops, from, to)];
  from = cuts[lastTrue(cuts.length, (i) => i === 0 || fails(cuts[i]!, to))]!;
  const w = windowOf(ops, from, to);
  return w.ops.length <= RELAX_LIMIT ? relaxAll(w, opts.maxSteps) : w;
}

/**
 * Tries relaxing each operation of `w` in turn, those returning at `w.to` last, keeping each
 * change that still fails. If T is minimal, at least one operation returning at T survives;
 * either way `to` becomes the latest return left.
 */
function relaxAll(w: Window, maxSteps: number): Window {
  let current = w;
  const order = [...w.ops.filter((o) => o.returnAt !== w.to), ...w.ops.filter((o) => o.returnAt === w.to)];
  for (const target of order) {
    const candidate = relax(current, target);
    if (candidate === undefined) continue;
    const r = searchKey(candidate.ops, { initial: candidate.initial, maxSteps });
    if (r.kind === 'violation') current = candidate;
  }
  const returns = returnTimes(current.ops);
  return { ...current, to: returns[returns.length - 1] ?? current.to };
}

/** Distinct return times of definite operations, ascending. */
function returnTimes(ops: readonly KeyOp[]): number[] {
  return unique(ops.filter((o) => o.definite).map((o) => o.returnAt));
}

/** Distinct invocation times in (after, upTo] of definite operations, ascending. */
function invokeTimes(ops: readonly KeyOp[], after: number, upTo: number): number[] {
  return unique(ops.filter((o) => o.definite && o.invokeAt > after && o.invokeAt <= upTo).map((o) => o.invokeAt));
}

function unique(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** Smallest i in [0, n) with pred(i), for pred monotone false→true and assumed true at n-1. */
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

/**
 * Largest i in [0, n) with pred(i), for pred monotone true→false and assumed true at 0.
 * Gallops from the top (n-1, n-2, n-4, ...) before bisecting, so that the windows tried
 * first are the small, cheap ones; and the answer is always an index known to be true.
 */
function lastTrue(n: number, pred: (i: number) => boolean): number {
  let hi = n - 1; // invariant: pred false above hi
  let lo = 0; // invariant: pred(lo) true
  for (let step = 1; hi > lo; step *= 2) {
    const i = Math.max(lo, n - step);
    if (i === lo || pred(i)) {
      lo = i;
      break;
    }
    hi = i - 1;
  }
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (pred(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
