// The search at the heart of the checker: can one key's operations be put in a sequential
// order that respects real time and that the register model (register.ts) accepts?
//
// This follows the approach of Wing & Gong as refined by Lowe: operations become call and
// return entries in one time-ordered doubly linked list. Walking the list from the front, a
// call entry whose operation the model accepts is "lifted" (its call and return unlinked) and
// pushed on a stack, and the walk restarts from the front; reaching a return entry means the
// operation it belongs to had to be ordered before everything still in the list and no
// candidate worked, so the most recent choice is undone and the walk resumes after it. Since
// the list is in time order, only operations invoked before the earliest pending return are
// ever candidates, which is exactly the real-time constraint.
//
// Memoisation: a configuration is (set of decided operations, register state). A choice
// that would reach a configuration already explored is skipped, since whatever followed it
// then will follow it now. Keys are built by `LiftedSet` (lifted-set.ts).
//
// Three kinds of operation (register.ts): definite ones must be lifted between their call
// and return. Optional ones (from window.ts) may be lifted before their return, or dropped
// when the walk reaches their return entry. Unknown ones may be lifted any time after their
// call, or never. The search succeeds once every definite operation is lifted.
//
// Non-definite writes would make the search exponential if tried everywhere, so (for keys
// without appends, where the argument holds) only linearizations of one shape are explored:
// a non-definite put or delete is lifted only immediately before a read that observes it.
// Any linearization can be brought to that shape, since a write nobody reads before the
// next write can be left out. The state just after such a lift carries a '!' mark meaning
// "only a read may come next". Unknown puts and deletes then need no list entries at all:
// they wait in pools by the state they produce, and when a read cannot be explained by the
// current state, the earliest-invoked unused unknown write that would explain it is lifted,
// provided it was invoked before the earliest pending return. Taking the earliest of equal
// writes loses nothing, because unknown writes with equal effect are interchangeable.

import { Interner, LiftedSet } from './lifted-set.js';
import type { InitialState, KeyOp } from './register.js';
import { applyOp, initialEncoding } from './register.js';

export type SearchResult =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'violation' }
  | { readonly kind: 'inconclusive'; readonly steps: number };

export interface SearchOptions {
  readonly initial: InitialState;
  /** Bound on walk steps; exceeding it gives `inconclusive`. */
  readonly maxSteps: number;
}

interface Entry {
  /** Index into the sorted op array. */
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  prev: Entry | null;
  next: Entry | null;
  /** For a call: its return entry, or null for an unknown op. For a return: its call. */
  match: Entry | null;
}

/** Decides whether `ops` (one key) is linearizable from `opts.initial`. */
export function searchKey(ops: readonly KeyOp[], opts: SearchOptions): SearchResult {
  const search = new Search(ops, opts);
  for (let steps = 0; ; steps++) {
    if (search.done()) return { kind: 'linearizable' };
    if (steps >= opts.maxSteps) return { kind: 'inconclusive', steps };
    if (!search.step()) return { kind: 'violation' };
  }
}

/** One decision on the stack. */
interface Choice {
  /** The entry the walk was at: resume after it when undoing a lift. */
  readonly at: Entry;
  readonly op: number;
  /** How the op was decided: lifted from the list or from a pool, or dropped. */
  readonly how: 'list' | 'pool' | 'drop';
  /** Register state before the choice. */
  readonly state: string;
}

const MARK = '!';

class Search {
  private readonly sorted: KeyOp[];
  private readonly initial: InitialState;
  /** Whether the '!' shape rule and the pools apply (see the module comment). */
  private readonly shaped: boolean;
  private readonly head: Entry;
  private readonly pools: WritePools;
  private readonly lifted: LiftedSet;
  private readonly states = new Interner();
  /** Keys of every configuration reached so far. */
  private readonly memo = new Set<string>();
  private readonly stack: Choice[] = [];
  private readonly definite: number;
  private liftedDefinite = 0;
  private state: string;
  /** The next entry the walk looks at. */
  private entry: Entry | null;

  constructor(ops: readonly KeyOp[], opts: SearchOptions) {
    this.sorted = [...ops].sort((a, b) => a.invokeAt - b.invokeAt);
    this.initial = opts.initial;
    this.shaped = !this.sorted.some((o) => o.kind === 'append');
    const pooled = (o: KeyOp): boolean => this.shaped && !o.definite && o.returnAt === Infinity;
    this.definite = this.sorted.filter((o) => o.definite).length;
    this.head = buildEntries(this.sorted, (o) => !pooled(o));
    this.pools = new WritePools(this.sorted, pooled);
    this.lifted = new LiftedSet(this.sorted);
    this.state = initialEncoding(opts.initial);
    this.entry = this.head.next;
  }

  done(): boolean {
    return this.liftedDefinite === this.definite;
  }

  /** Advances the walk by one entry; false when every order has been ruled out. */
  step(): boolean {
    const entry = this.entry;
    if (entry === null) throw new Error('wgl: walked off the end of the entry list');
    const op = this.sorted[entry.op]!;
    if (!entry.isCall) {
      // Everything still listed must follow this return. An optional operation can still be
      // dropped; otherwise nothing fitted here, so undo the latest choice.
      if (!op.definite && this.choose(entry.match!, entry.op, 'drop', this.state)) return true;
      return this.backtrack();
    }
    const marked = this.state.startsWith(MARK);
    if (marked && op.kind !== 'get') {
      this.entry = entry.next;
      return true;
    }
    const next = applyOp(marked ? this.state.slice(1) : this.state, op, this.initial);
    if (next !== undefined) {
      const mark = this.shaped && !op.definite && op.kind !== 'get' ? MARK : '';
      if (this.choose(entry, entry.op, 'list', mark + next)) return true;
    } else if (op.kind === 'get' && !marked) {
      const seen = op.value === null ? 'N' : 'V' + op.value;
      const w = this.pools.peek(seen, firstReturnAfter(entry));
      if (w !== undefined && this.choose(entry, w, 'pool', MARK + seen)) return true;
    }
    this.entry = entry.next;
    return true;
  }

  /** Decides operation `op` unless that reaches a known configuration. */
  private choose(at: Entry, op: number, how: Choice['how'], next: string): boolean {
    this.lifted.add(op);
    const key = this.lifted.key(this.states.id(next));
    if (this.memo.has(key)) {
      this.lifted.remove(op);
      return false;
    }
    this.memo.add(key);
    this.stack.push({ at, op, how, state: this.state });
    this.state = next;
    if (how !== 'drop' && this.sorted[op]!.definite) this.liftedDefinite++;
    if (how === 'pool') this.pools.take(next.slice(1));
    else unlink(at.isCall ? at : at.match!);
    this.entry = this.head.next;
    return true;
  }

  /** Undoes choices up to and including the latest lift, and resumes the walk after it. */
  private backtrack(): boolean {
    for (;;) {
      const top = this.stack.pop();
      if (top === undefined) return false;
      if (top.how === 'pool') this.pools.untake(this.state.slice(1));
      else relink(top.at.isCall ? top.at : top.at.match!);
      this.state = top.state;
      this.lifted.remove(top.op);
      if (top.how !== 'drop' && this.sorted[top.op]!.definite) this.liftedDefinite--;
      if (top.how !== 'drop') {
        this.entry = top.at.next;
        return true;
      }
    }
  }
}

/** Unknown puts and deletes by the state they produce, each group in invocation order. */
class WritePools {
  private readonly groups = new Map<string, { readonly ops: number[]; readonly times: number[]; used: number }>();

  constructor(sorted: readonly KeyOp[], pooled: (o: KeyOp) => boolean) {
    sorted.forEach((o, i) => {
      if (!pooled(o)) return;
      if (o.kind === 'get' || o.kind === 'append') throw new TypeError(`wgl: cannot pool a ${o.kind}`);
      const produces = o.kind === 'delete' ? 'N' : 'V' + o.value!;
      let g = this.groups.get(produces);
      if (g === undefined) this.groups.set(produces, (g = { ops: [], times: [], used: 0 }));
      g.ops.push(i);
      g.times.push(o.invokeAt);
    });
  }

  /** The earliest unused write producing `state`, if it was invoked by `bound`. */
  peek(state: string, bound: number): number | undefined {
    const g = this.groups.get(state);
    if (g === undefined || g.used >= g.ops.length || g.times[g.used]! > bound) return undefined;
    return g.ops[g.used];
  }

  take(state: string): void {
    this.groups.get(state)!.used++;
  }

  untake(state: string): void {
    this.groups.get(state)!.used--;
  }
}

/** The time of the first return entry after `e`: the latest an operation can be invoked to precede it. */
function firstReturnAfter(e: Entry): number {
  for (let x = e.next; x !== null; x = x.next) if (!x.isCall) return x.time;
  return Infinity;
}

/** Builds the entry list of the ops `listed` selects behind a sentinel head, by time. */
function buildEntries(sorted: readonly KeyOp[], listed: (o: KeyOp) => boolean): Entry {
  const entries: Entry[] = [];
  sorted.forEach((o, i) => {
    if (!listed(o)) return;
    const call: Entry = { op: i, isCall: true, time: o.invokeAt, prev: null, next: null, match: null };
    entries.push(call);
    if (o.returnAt !== Infinity) {
      const ret: Entry = { op: i, isCall: false, time: o.returnAt, prev: null, next: null, match: call };
      call.match = ret;
      entries.push(ret);
    }
  });
  // Equal times count as concurrent: a call at t sorts before a return at t.
  entries.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: Entry = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

/** Removes a call entry and its return entry from the list (dancing-links style). */
function unlink(call: Entry): void {
  remove(call);
  if (call.match !== null) remove(call.match);
}

/** Undoes `unlink`; only valid in reverse order of unlinking. */
function relink(call: Entry): void {
  if (call.match !== null) restore(call.match);
  restore(call);
}

function remove(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

function restore(e: Entry): void {
  e.prev!.next = e;
  if (e.next !== null) e.next.prev = e;
}
