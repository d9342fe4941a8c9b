// Windows: pieces cut out of one key's history that prove a violation on their own.
//
// Every transformation here only makes a history *easier* to linearize, so if a window
// cannot be linearized, neither could the history it came from; a failing window is a
// genuine witness:
//   truncate(T)  keep operations invoked by T; a write still running at T becomes unknown,
//                a read still running at T is dropped.
//   cut(S)       drop operations that returned before S; of those still running at S, reads
//                are dropped and writes become optional (they may have taken effect before S,
//                or take effect before they returned); the register starts in an unknown
//                state: absent or a value put by some operation invoked before S (with
//                appends: any value built from puts and appends invoked before S). Every
//                dropped operation finished before anything kept began, so it sits before
//                them in any linearization.
//   relax(op)    drop one read, or make one write optional.
//   prune        drop optional or unknown writes that no kept read can have observed
//                (see `prune`); this one is exact: such a write can always be left out.
// The window W(S, T) = cut(truncate(history, T), S), pruned. truncate and cut commute, and
// W(S', T') is a weakening of W(S, T) when S <= S' and T' <= T: whether a window fails is
// monotone in both ends, which is what lets key-check.ts binary-search for the smallest.
// W(-Infinity, Infinity) is the key's whole history, starting from an absent register.

import type { InitialState, KeyOp } from './register.js';

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

/** W(from, to) of `ops`, one key's whole history. */
export function windowOf(ops: readonly KeyOp[], from: number, to: number): Window {
  const appends = ops.some((o) => o.kind === 'append');
  const [cutOps, initial] = cut(truncate(ops, to), from, appends);
  return { from, to, ops: prune(cutOps), initial };
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
  const pieces = { puts: new Set<string>(), appends: new Set<string>() };
  for (const o of ops) {
    if (o.invokeAt < from && o.kind === 'put') candidates.add(o.value);
    if (o.invokeAt < from && (o.kind === 'put' || o.kind === 'append')) pieces[`${o.kind}s`].add(o.value!);
    if (o.returnAt < from) continue;
    if (o.invokeAt >= from) out.push(o);
    else if (o.kind !== 'get') out.push(optional(o));
  }
  if (!appends) return [out, { kind: 'unknown', candidates }];
  return [out, { kind: 'unknown', pieces: { puts: [...pieces.puts], appends: [...pieces.appends] } }];
}

/**
 * The window with `target` relaxed (a read dropped, a write made optional), or undefined if
 * there is nothing to relax.
 */
export function relax(w: Window, target: KeyOp): Window | undefined {
  if (!target.definite) return undefined;
  const i = w.ops.indexOf(target);
  if (i < 0) return undefined;
  const replacement = target.kind === 'get' ? [] : [optional(target)];
  return { ...w, ops: prune([...w.ops.slice(0, i), ...replacement, ...w.ops.slice(i + 1)]) };
}

/**
 * Drops the non-definite writes no read can have observed. A write that took effect and was
 * followed by a read before the next put or delete shows in that read, which must return
 * after the write was invoked: as the exact value without appends; as a prefix (put) or a
 * substring (append) of it with appends. A write followed by no read before being
 * overwritten can always be left out of an order.
 */
function prune(ops: KeyOp[]): KeyOp[] {
  const reads = ops.filter((o) => o.kind === 'get');
  if (!ops.some((o) => o.kind === 'append')) {
    const lastSeen = new Map<string | null, number>(); // value -> latest return of a read of it
    for (const r of reads) lastSeen.set(r.value, Math.max(lastSeen.get(r.value) ?? -Infinity, r.returnAt));
    return ops.filter((o) => o.definite || o.kind === 'get' || (lastSeen.get(o.value) ?? -Infinity) >= o.invokeAt);
  }
  return ops.filter((o) => {
    if (o.definite || o.kind === 'get' || o.kind === 'delete') return true;
    const v = o.value!;
    const shows = (r: KeyOp): boolean =>
      r.value !== null && (o.kind === 'put' ? r.value.startsWith(v) : r.value.includes(v));
    return reads.some((r) => r.returnAt >= o.invokeAt && shows(r));
  });
}

/** May take effect any time after its invocation, or never. */
function unknown(o: KeyOp): KeyOp {
  return o.definite ? { ...o, definite: false, returnAt: Infinity } : o;
}

/** May take effect before it returned, or never (keeps an unknown operation unknown). */
function optional(o: KeyOp): KeyOp {
  return o.definite ? { ...o, definite: false } : o;
}
