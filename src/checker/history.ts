// Client histories for the linearizability checker.
//
// A history is the list of operations that test clients issued against the store, each with
// the time it was invoked, the time it returned (if it did) and what it observed. Cluster and
// end-to-end tests record one with `HistoryRecorder` and hand `recorder.history()` to
// `checkHistory` (linearizability.ts). Times come from a monotonic clock the test passes in;
// nothing in the checker reads a clock.
//
// Outcomes:
// - `ok`: the operation returned a definite answer. For a get, `value` is what it read
//   (`null` = not found); a scan carries the pairs it saw.
// - `unknown`: the client gave up (timeout, dropped connection). The operation may have
//   taken effect at any time after its invocation, or never; `returnAt` is Infinity or absent.
// An operation that definitely did not take effect (rejected before it was proposed) should
// not be in the history at all: `HistoryRecorder.fail` drops it.

/** What a client was told. `value` is the result of a get: a string, or null for not found. */
export type Outcome = { status: 'ok'; value?: string | null } | { status: 'unknown' };

/** What a scan was told: the pairs it saw, in key order. */
export type ScanOutcome = { status: 'ok'; pairs: ReadonlyArray<readonly [string, string]> } | { status: 'unknown' };

interface OpTimes {
  /** Assigned by the recorder in invocation order; the checker falls back to the array index. */
  readonly id?: number;
  readonly clientId: number;
  readonly invokeAt: number;
  /** Finite and >= invokeAt when the outcome is ok; Infinity or absent when it is unknown. */
  readonly returnAt?: number;
}

/** A single-key operation. put/append carry `value`; append adds it to the end (absent = ''). */
export interface KvOp extends OpTimes {
  readonly kind: 'put' | 'get' | 'delete' | 'append';
  readonly key: string;
  readonly value?: string;
  readonly outcome: Outcome;
}

/**
 * A range read over [start, end) (end absent = unbounded), keys compared with JS `<`
 * (UTF-16 code units; byte order for ASCII keys). With `limit`, a scan that returned `limit`
 * pairs says nothing about keys after the last pair it returned.
 *
 * The checker treats a scan as one read per key, taken at a single instant *for that key*:
 * it checks per-key linearizability of scans, not that all keys were read at the same instant.
 */
export interface ScanOp extends OpTimes {
  readonly kind: 'scan';
  readonly start: string;
  readonly end?: string;
  readonly limit?: number;
  readonly outcome: ScanOutcome;
}

/**
 * One completed (or timed-out) client operation of a history, with its invoke and complete
 * times.
 */
export type Op = KvOp | ScanOp;

/** What a client is about to do, as passed to `HistoryRecorder.invoke`. */
export type OpCall =
  | { readonly kind: 'put' | 'append'; readonly key: string; readonly value: string }
  | { readonly kind: 'get' | 'delete'; readonly key: string }
  | { readonly kind: 'scan'; readonly start: string; readonly end?: string; readonly limit?: number };

/** Options of a HistoryRecorder. */
export interface RecorderOptions {
  /** A monotonic clock, e.g. `() => performance.now()` or a manual test clock. */
  readonly now: () => number;
}

type Pending = { readonly clientId: number; readonly call: OpCall; readonly invokeAt: number };

/**
 * Records a history as operations start and finish: call `invoke` just before sending a
 * request and settle it just after the answer (or the give-up) arrives, so that the
 * recorded interval contains the moment the store acted. Every invoked operation must be
 * settled exactly once with `ok`/`okGet`/`okScan`, `unknown` (timeouts, lost connections)
 * or `fail` (an error proving the request was never applied, such as a rejection before
 * proposing); `history()` reports any still pending as unknown.
 */
export class HistoryRecorder {
  private readonly now: () => number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Settled operations, keyed by id; insertion order is settlement order. */
  private readonly done = new Map<number, Op>();
  /** When the last operation completed with an answer (ok), on the recorder's clock; -Infinity if none. */
  lastOkAt = -Infinity;

  constructor(opts: RecorderOptions) {
    this.now = opts.now;
  }

  /** Notes that `clientId` is starting `call`; returns the operation's id. */
  invoke(clientId: number, call: OpCall): number {
    const id = this.nextId++;
    this.pending.set(id, { clientId, call, invokeAt: this.now() });
    return id;
  }

  /** A put, append or delete was acknowledged. */
  ok(id: number): void {
    const p = this.take(id, ['put', 'append', 'delete']);
    this.finish(id, p, { status: 'ok' }, this.now());
  }

  /** A get returned `value` (null = not found). */
  okGet(id: number, value: string | null): void {
    const p = this.take(id, ['get']);
    this.finish(id, p, { status: 'ok', value }, this.now());
  }

  /** A scan returned `pairs`. */
  okScan(id: number, pairs: ReadonlyArray<readonly [string, string]>): void {
    const p = this.take(id, ['scan']);
    const copy = pairs.map(([k, v]) => [k, v] as const);
    this.finish(id, p, { status: 'ok', pairs: copy }, this.now());
  }

  /** The client gave up without knowing whether the operation took effect. */
  unknown(id: number): void {
    const p = this.take(id, undefined);
    this.finish(id, p, { status: 'unknown' }, Infinity);
  }

  /** The operation definitely did not take effect; it is left out of the history. */
  fail(id: number): void {
    this.take(id, undefined);
  }

  /** The history so far, in invocation order; still-pending operations appear as unknown. */
  history(): Op[] {
    const all = [...this.done.values()];
    for (const [id, p] of this.pending) all.push(makeOp(id, p, { status: 'unknown' }, Infinity));
    return all.sort((a, b) => a.id! - b.id!);
  }

  private take(id: number, kinds: ReadonlyArray<OpCall['kind']> | undefined): Pending {
    const p = this.pending.get(id);
    if (p === undefined) throw new TypeError(`operation ${id} is not pending`);
    if (kinds !== undefined && !kinds.includes(p.call.kind)) {
      throw new TypeError(`operation ${id} is a ${p.call.kind}, not settled with the right method`);
    }
    this.pending.delete(id);
    return p;
  }

  private finish(id: number, p: Pending, outcome: Outcome | ScanOutcome, returnAt: number): void {
    if (outcome.status === 'ok') this.lastOkAt = returnAt;
    this.done.set(id, makeOp(id, p, outcome, returnAt));
  }
}

function makeOp(id: number, p: Pending, outcome: Outcome | ScanOutcome, returnAt: number): Op {
  const base = { id, clientId: p.clientId, invokeAt: p.invokeAt, returnAt };
  const call = p.call;
  if (call.kind === 'scan') {
    const out = 'pairs' in outcome || outcome.status === 'unknown' ? outcome : { status: 'unknown' as const };
    return { ...base, kind: 'scan', start: call.start, end: call.end, limit: call.limit, outcome: out };
  }
  const out: Outcome = 'pairs' in outcome ? { status: 'unknown' } : outcome;
  const value = call.kind === 'put' || call.kind === 'append' ? call.value : undefined;
  return { ...base, kind: call.kind, key: call.key, value, outcome: out };
}

/** One line describing `op`, for explanations and test output. */
export function describeOp(op: Op, index: number): string {
  const id = `#${op.id ?? index}`.padEnd(6);
  const who = `client ${op.clientId}`.padEnd(10);
  const what = (op.kind === 'scan' ? describeScan(op) : describeKv(op)).padEnd(24);
  const ret = op.returnAt === undefined || op.returnAt === Infinity ? '∞)' : `${op.returnAt}]`;
  const when = `[${op.invokeAt}, ${ret}`.padEnd(16);
  let result = op.outcome.status;
  if (op.kind === 'get' && op.outcome.status === 'ok') result += ` -> ${show(op.outcome.value ?? null)}`;
  if (op.kind === 'scan' && op.outcome.status === 'ok') result += ` -> ${op.outcome.pairs.length} pairs`;
  return `${id} ${who} ${what} ${when} ${result}`;
}

function describeKv(op: KvOp): string {
  const v = op.kind === 'put' || op.kind === 'append' ? ` ${show(op.value ?? '')}` : '';
  return `${op.kind} ${show(op.key)}${v}`;
}

function describeScan(op: ScanOp): string {
  const end = op.end === undefined ? '∞' : show(op.end);
  const limit = op.limit === undefined ? '' : ` limit ${op.limit}`;
  return `scan [${show(op.start)}, ${end})${limit}`;
}

/** A value as it appears in explanations: JSON-quoted, long ones shortened. */
export function show(v: string | null): string {
  if (v === null) return 'null';
  const q = JSON.stringify(v);
  return q.length > 40 ? `${q.slice(0, 37)}…"` : q;
}
