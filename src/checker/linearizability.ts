// Linearizability checker for tinykv client histories (history.ts).
//
// Keys are independent registers, so a history is linearizable iff each key's sub-history
// is (linearizability is compositional). `checkHistory` splits the history per key, checks
// each with the Wing–Gong–Lowe style search (wgl.ts, driven by key-check.ts), and for the
// first key that fails reports the smallest window that still proves the failure
// (window.ts, key-check.ts), explained in words.
//
// Scans are split per key: a scan contributes, for every key in its range that appears
// anywhere in the history, a read of that key returning what the scan saw (null if it saw
// nothing). This checks per-key linearizability of scans, not atomicity across keys: a scan
// that saw key a before some write and key b after it passes.
//
// Results: ok; a violation (key, window, explanation); or inconclusive when a key's search
// exceeded its step budget — that is neither a pass nor a proof of a bug.

import type { KvOp, Op, ScanOp } from './history.js';
import { describeOp, show } from './history.js';
import type { KeyOp } from './register.js';
import { checkKey } from './key-check.js';
import type { Window } from './window.js';

/** Options of checkHistory. */
export interface CheckOptions {
  /** Step budget for each search (one per key, plus the few the window search runs). */
  readonly maxSteps?: number;
}

/**
 * The verdict of checkHistory: linearizable (ok), a Violation, or Inconclusive when a
 * search ran out of steps.
 */
export type CheckResult =
  | { readonly ok: true; readonly keys: number; readonly ops: number }
  | Violation
  | Inconclusive;

/** A key whose operations have no linearization; `window` is the smallest failing set found. */
export interface Violation {
  readonly ok: false;
  readonly inconclusive: false;
  readonly key: string;
  /** The operations of the smallest failing window (window.ts), by invocation time. */
  readonly window: Op[];
  readonly explanation: string;
}

/** A key whose search used up its step budget before finding a linearization or ruling one out. */
export interface Inconclusive {
  readonly ok: false;
  readonly inconclusive: true;
  readonly key: string;
  readonly steps: number;
  readonly explanation: string;
}

/** The default step budget of each search (CheckOptions.maxSteps). */
export const DEFAULT_MAX_STEPS = 5_000_000;

/** Checks `history`; returns the first violating key in key order, else the first inconclusive. */
export function checkHistory(history: readonly Op[], opts: CheckOptions = {}): CheckResult {
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const perKey = splitByKey(history);
  let inconclusive: Inconclusive | undefined;
  for (const [key, ops] of [...perKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const verdict = checkKey(ops, { maxSteps });
    if (verdict.kind === 'violation') {
      const srcs = [...new Set(verdict.window.ops.map((o) => o.src))].sort(
        (a, b) => history[a]!.invokeAt - history[b]!.invokeAt || a - b,
      );
      return {
        ok: false,
        inconclusive: false,
        key,
        window: srcs.map((i) => history[i]!),
        explanation: explain(key, verdict.window, history),
      };
    }
    if (verdict.kind === 'inconclusive' && inconclusive === undefined) {
      const explanation =
        `key ${show(key)}: gave up after ${verdict.steps} search steps over ${ops.length} operations; ` +
        'the history is neither accepted nor shown wrong (raise maxSteps, or shorten the run)';
      inconclusive = { ok: false, inconclusive: true, key, steps: verdict.steps, explanation };
    }
  }
  return inconclusive ?? { ok: true, keys: perKey.size, ops: history.length };
}

/** Splits a history into per-key operation lists; scans become one read per key in range. */
export function splitByKey(history: readonly Op[]): Map<string, KeyOp[]> {
  const perKey = new Map<string, KeyOp[]>();
  const push = (key: string, op: KeyOp): void => {
    const list = perKey.get(key);
    if (list === undefined) perKey.set(key, [op]);
    else list.push(op);
  };
  history.forEach((op, src) => {
    if (op.kind !== 'scan') {
      if (!perKey.has(op.key)) perKey.set(op.key, []);
      const k = toKeyOp(op, src);
      if (k !== undefined) push(op.key, k);
    } else if (op.outcome.status === 'ok') {
      for (const [key] of op.outcome.pairs) if (!perKey.has(key)) perKey.set(key, []);
    }
  });
  const keys = [...perKey.keys()].sort();
  history.forEach((op, src) => {
    if (op.kind === 'scan') for (const [key, read] of scanReads(op, src, keys)) push(key, read);
  });
  return perKey;
}

function toKeyOp(op: KvOp, src: number): KeyOp | undefined {
  const [definite, returnAt] = times(op, src);
  if (op.kind === 'get') {
    if (!definite) return undefined; // an unknown read constrains nothing
    const value = op.outcome.status === 'ok' ? op.outcome.value : undefined;
    if (value === undefined) throw new TypeError(`op ${src}: get with ok outcome needs value (null = not found)`);
    return { src, kind: 'get', value, invokeAt: op.invokeAt, returnAt, definite };
  }
  if (op.kind !== 'delete' && typeof op.value !== 'string') {
    throw new TypeError(`op ${src}: ${op.kind} needs a string value`);
  }
  const value = op.kind === 'delete' ? null : op.value!;
  return { src, kind: op.kind, value, invokeAt: op.invokeAt, returnAt, definite };
}

/** Validates an operation's times; returns [definite, returnAt with unknown as Infinity]. */
function times(op: Op, src: number): [boolean, number] {
  if (!Number.isFinite(op.invokeAt)) throw new TypeError(`op ${src}: invokeAt must be finite`);
  if (op.outcome.status === 'unknown') return [false, Infinity];
  const r = op.returnAt;
  if (r === undefined || !Number.isFinite(r) || r < op.invokeAt) {
    throw new TypeError(`op ${src}: an ok outcome needs a finite returnAt >= invokeAt`);
  }
  return [true, r];
}

/** The per-key reads a scan stands for, over `keys` (sorted, every key in the history). */
function scanReads(op: ScanOp, src: number, keys: readonly string[]): Array<[string, KeyOp]> {
  const [definite, returnAt] = times(op, src);
  if (!definite || op.outcome.status !== 'ok') return [];
  const inRange = (k: string): boolean => k >= op.start && (op.end === undefined || k < op.end);
  const seen = new Map<string, string>();
  for (const [k, v] of op.outcome.pairs) {
    if (!inRange(k)) throw new TypeError(`op ${src}: scan returned key ${show(k)} outside its range`);
    if (seen.has(k)) throw new TypeError(`op ${src}: scan returned key ${show(k)} twice`);
    seen.set(k, v);
  }
  // A scan cut short by its limit says nothing about keys past the last one it returned.
  const pairs = op.outcome.pairs;
  const full = op.limit !== undefined && pairs.length >= op.limit;
  const last = full && pairs.length > 0 ? pairs.reduce((m, [k]) => (k > m ? k : m), pairs[0]![0]) : undefined;
  const reads: Array<[string, KeyOp]> = [];
  for (const key of keys) {
    if (!inRange(key) || (full && (last === undefined || key > last))) continue;
    const value = seen.get(key) ?? null;
    reads.push([key, { src, kind: 'get', value, invokeAt: op.invokeAt, returnAt, definite }]);
  }
  return reads;
}

const MAX_LISTED_CANDIDATES = 8;

/** Writes out a window as text: what was cut, the register's possible start, the operations. */
function explain(key: string, w: Window, history: readonly Op[]): string {
  const lines = [
    `key ${show(key)} is not linearizable: no order of the ${w.ops.length} operation(s) below ` +
      'that respects real time explains what they returned.',
  ];
  const culprits = w.ops.filter((o) => o.returnAt === w.to).map((o) => `#${history[o.src]!.id ?? o.src}`);
  lines.push(`The first result that cannot be explained is that of ${culprits.join(', ')} (returned at t=${w.to}).`);
  if (w.initial.kind === 'empty') {
    lines.push('Window: from the start of the history; the register starts absent.');
  } else {
    let start = 'nothing, or any value built from the puts and appends invoked before then';
    if ('candidates' in w.initial) {
      const c = w.initial.candidates;
      start =
        'any of ' +
        [...c].slice(0, MAX_LISTED_CANDIDATES).map(show).join(', ') +
        (c.size > MAX_LISTED_CANDIDATES ? `, or ${c.size - MAX_LISTED_CANDIDATES} other value(s) written earlier` : '');
    }
    const from = `Window: operations still running at or started after t=${w.from}`;
    lines.push(`${from}; the register may then hold ${start}.`);
  }
  for (const o of [...w.ops].sort((a, b) => a.invokeAt - b.invokeAt || a.src - b.src)) {
    const src = history[o.src]!;
    let line = '  ' + describeOp(src, o.src);
    if (src.kind === 'scan') line += `, of which ${show(key)} -> ${show(o.value)}`;
    if (src.outcome.status === 'ok' && !o.definite) line += '   (*)';
    lines.push(line);
  }
  if (w.ops.some((o) => !o.definite && history[o.src]!.outcome.status === 'ok')) {
    lines.push(
      '(*) acknowledged, but not needed to show the violation: allowed to take effect before it returned, or not at all.',
    );
  }
  lines.push('Omitted: other keys, earlier operations, reads not needed, and unknown writes nobody read.');
  return lines.join('\n');
}
