// The search at the heart of the checker: can one key's operations be put in a sequential
// order that respects real time and that the register model (register.ts) accepts?
//
// In the manner of Wing & Gong and Lowe, operations become call and return entries in one
// time-ordered list (entry-list.ts). The operations that can go next are those whose call
// comes before the first return entry still listed (the real-time constraint). Choosing one
// "lifts" it: its entries are unlinked and the choice is pushed on a stack. When no
// candidate works, the operation owning that first return entry cannot be ordered, so the
// latest choice is undone and the next candidate of that configuration is tried.
// Candidates are tried in order of return time, which finds valid orders sooner than
// invocation order.
//
// Memoisation: a configuration is (set of decided operations, register state). A choice
// that reaches a configuration seen before is skipped: it failed then, so it fails now
// (lifted-set.ts stores them compactly).
//
// Operations (register.ts) are definite (must be lifted between call and return), optional
// (from window.ts: lifted before their return, or dropped when their return is reached) or
// unknown (lifted any time after their call, or never). Success: every definite one lifted.
//
// Pruning. Each rule below only skips orders when an equivalent or better one is explored:
// - A read that can go next and sees the current (known) state is lifted at once, with no
//   alternative: moving such a read to the front of any valid order keeps it valid.
// - With appends and no put or delete left, a read that can go next but could never see
//   the current value grown by appends rules the configuration out.
// Keys without appends also get these (none hold with appends):
// - A non-definite put or delete is lifted only just before a read that observes it (the
//   state carries a '!' mark until then): a write nobody reads before the next write can be
//   left out of any order. So unknown writes need no list entries: they wait in pools by the
//   state they produce and are lifted when a read needs them, earliest-invoked first
//   (unknown writes with equal effect are interchangeable).
// - A definite write whose result no read observes ("blind") leaves the register in one
//   dead state 'D', whatever it wrote. Such writes are not tried on their own: every write
//   lifted takes all the blind writes that can go next along, placed just before it (they
//   cannot be observed there, and lifting them sooner only removes constraints). A blind
//   write is lifted alone only when its own return is the first one listed.

import type { Entry } from './entry-list.js';
import { buildEntries, relink, unlink } from './entry-list.js';
import { Interner, LiftedSet } from './lifted-set.js';
import type { InitialState, KeyOp } from './register.js';
import { DEAD, Register } from './register.js';

export type SearchResult = { readonly kind: 'linearizable' | 'violation' | 'inconclusive'; readonly steps: number };

export interface SearchOptions {
  readonly initial: InitialState;
  /** Bound on search steps; exceeding it gives `inconclusive`. */
  readonly maxSteps: number;
}

/** Decides whether `ops` (one key) is linearizable from `opts.initial`. */
export function searchKey(ops: readonly KeyOp[], opts: SearchOptions): SearchResult {
  return new Search(ops, opts.initial).run(opts.maxSteps);
}

/** The options at one configuration. */
interface Frame {
  /** Calls that can go next (before the first return entry), blind writes excluded, by return time. */
  readonly cands: Entry[];
  /** Blind writes that can go next. */
  readonly blind: Entry[];
  /** The first return entry; null when only unknown operations remain. */
  readonly deadline: Entry | null;
  /** Index of the next candidate to try. */
  next: number;
}

/** One decision on the stack. */
interface Choice {
  /** The frame to resume when this choice is undone; null when no alternative is left. */
  readonly frame: Frame | null;
  /** List entries (calls) unlinked by this choice, in order. */
  readonly calls: readonly Entry[];
  /** A pooled write lifted by this choice, or -1. */
  readonly pooled: number;
  /** Number of definite operations lifted by this choice. */
  readonly definite: number;
  /** Register state before the choice. */
  readonly state: string;
}

const MARK = '!';
/** Bound on the total length of remembered states (long only with appends): about 128 MB. */
const MAX_STATE_CHARS = 64 * 1024 * 1024;

/** A search that can be run in slices (see key-check.ts), with progress visible in between. */
export class Search {
  /** Steps (options tried) so far. */
  steps = 0;
  /**
   * The latest return at which the search got stuck. No order gets past the earliest
   * violation, so after a while this tends to point at it.
   */
  frontier = -Infinity;
  /** When the operation whose return is the frontier was invoked. */
  frontierInvoke = -Infinity;
  private verdict: 'linearizable' | 'violation' | undefined;
  private readonly sorted: KeyOp[];
  private readonly model: Register;
  /** Whether the rules for keys without appends apply. */
  private readonly shaped: boolean;
  /** Per sorted op: 1 if it is a blind write. */
  private readonly blind: Uint8Array;
  private readonly head: Entry;
  private readonly pools: WritePools;
  private readonly lifted: LiftedSet;
  private readonly states = new Interner();
  private readonly stack: Choice[] = [];
  private readonly definite: number;
  private liftedDefinite = 0;
  /** Puts and deletes not yet decided (maintained when the key has appends). */
  private resetsLeft: number;
  private state: string;
  /** The current configuration's options; undefined until it is first looked at. */
  private frame: Frame | undefined;

  constructor(ops: readonly KeyOp[], initial: InitialState) {
    if (ops.some((o) => o.kind === 'get' && !o.definite)) throw new TypeError('wgl: reads must be definite');
    this.sorted = [...ops].sort((a, b) => a.invokeAt - b.invokeAt);
    this.model = new Register(initial);
    this.shaped = !this.sorted.some((o) => o.kind === 'append');
    const model = this.model;
    const seen = new Set(this.sorted.filter((o) => o.kind === 'get').map((o) => model.produces(o)));
    const isBlind = (o: KeyOp): boolean => this.shaped && o.definite && o.kind !== 'get' && !seen.has(model.produces(o));
    this.blind = Uint8Array.from(this.sorted, (o) => Number(isBlind(o)));
    const pooled = (o: KeyOp): boolean => this.shaped && !o.definite && o.returnAt === Infinity;
    this.definite = this.sorted.filter((o) => o.definite).length;
    this.resetsLeft = this.sorted.filter(isReset).length;
    this.head = buildEntries(this.sorted, (o) => !pooled(o));
    this.pools = new WritePools(this.sorted, pooled, model);
    this.lifted = new LiftedSet(this.sorted);
    this.state = model.start();
  }

  /** Whether the states remembered grew past MAX_STATE_CHARS: the search cannot go on. */
  get exhausted(): boolean {
    return this.states.chars >= MAX_STATE_CHARS;
  }

  /** Runs up to `steps` more steps; `inconclusive` means it can be resumed unless `exhausted`. */
  run(steps: number): SearchResult {
    const limit = this.steps + steps;
    while (this.verdict === undefined && this.steps < limit && !this.exhausted) {
      if (this.liftedDefinite === this.definite) this.verdict = 'linearizable';
      else if (!this.step()) this.verdict = 'violation';
      else this.steps++;
    }
    return { kind: this.verdict ?? 'inconclusive', steps: this.steps };
  }

  /** Tries one option of the current configuration; false when every order is ruled out. */
  private step(): boolean {
    if (this.frame === undefined) {
      const forced = this.forceRead();
      if (forced !== undefined) return forced || this.backtrack();
      this.frame = this.openFrame();
    }
    const f = this.frame;
    if (f.next < f.cands.length) {
      this.tryCandidate(f, f.cands[f.next++]!);
      return true;
    }
    // Nothing fitted before the first return: its operation must go next. A blind write
    // can; an optional operation can be dropped instead; otherwise undo the latest choice.
    const d = f.deadline;
    if (d !== null) {
      const op = this.sorted[d.op]!;
      if (this.blind[d.op] === 1 && !this.state.startsWith(MARK)) {
        if (this.choose(null, [d.match!], -1, DEAD)) return true;
      } else if (!op.definite && this.choose(null, [d.match!], -1, this.state)) return true;
      if (d.time > this.frontier) [this.frontier, this.frontierInvoke] = [d.time, op.invokeAt];
    }
    return this.backtrack();
  }

  private openFrame(): Frame {
    const cands: Entry[] = [];
    const blind: Entry[] = [];
    let e = this.head.next;
    for (; e !== null && e.isCall; e = e.next) (this.blind[e.op] === 1 ? blind : cands).push(e);
    if (this.doomed(cands)) return { cands: [], blind: [], deadline: null, next: 0 };
    const due = (x: Entry): number => this.sorted[x.op]!.returnAt;
    cands.sort((a, b) => (due(a) < due(b) ? -1 : due(a) > due(b) ? 1 : a.op - b.op));
    return { cands, blind, deadline: e, next: 0 };
  }

  /**
   * With appends and no put or delete left to decide, the value can only grow, so a read
   * that can go next must see it extended: starting with the current value, or for an
   * unknown start x followed by appends s, containing s. If one cannot, neither can any order.
   */
  private doomed(cands: readonly Entry[]): boolean {
    if (this.shaped || this.resetsLeft > 0) return false;
    return cands.some((c) => {
      const op = this.sorted[c.op]!;
      return op.kind === 'get' && !this.model.canGrowInto(this.state, op.value);
    });
  }

  /** Lifts `e`'s operation, or for a read the state cannot explain, a pooled write first. */
  private tryCandidate(f: Frame, e: Entry): void {
    const op = this.sorted[e.op]!;
    const marked = this.state.startsWith(MARK);
    if (marked && op.kind !== 'get') return;
    const next = this.model.apply(marked ? this.state.slice(1) : this.state, op);
    if (next !== undefined) {
      if (op.kind === 'get') this.choose(f, [e], -1, next);
      else this.choose(f, [...f.blind, e], -1, (this.shaped && !op.definite ? MARK : '') + next);
    } else if (op.kind === 'get' && !marked) {
      const seen = this.model.produces(op);
      const w = this.pools.peek(seen, f.deadline?.time ?? Infinity);
      if (w !== undefined) this.choose(f, f.blind, w, MARK + seen);
    }
  }

  /**
   * Lifts a read that can go next and sees the current state, if there is one (see the
   * module comment). Returns undefined if there is none, else whether that reached a new
   * configuration.
   */
  private forceRead(): boolean | undefined {
    const current = this.state.startsWith(MARK) ? this.state.slice(1) : this.state;
    if (!this.model.isKnown(current)) return undefined;
    for (let e = this.head.next; e !== null && e.isCall; e = e.next) {
      const op = this.sorted[e.op]!;
      if (op.kind !== 'get') continue;
      const next = this.model.apply(current, op);
      if (next !== undefined) return this.choose(null, [e], -1, next);
    }
    return undefined;
  }

  /** Decides the operations of `calls` (and `pooled`) unless that reaches a known configuration. */
  private choose(frame: Frame | null, calls: readonly Entry[], pooled: number, next: string): boolean {
    for (const c of calls) this.lifted.add(c.op);
    if (pooled >= 0) this.lifted.add(pooled);
    if (!this.lifted.visit(this.states.id(next))) {
      for (const c of calls) this.lifted.remove(c.op);
      if (pooled >= 0) this.lifted.remove(pooled);
      return false;
    }
    // A dropped optional op is not definite, so counting definite ops covers lifts only.
    const definite = calls.filter((c) => this.sorted[c.op]!.definite).length;
    this.stack.push({ frame, calls, pooled, definite, state: this.state });
    this.state = next;
    this.liftedDefinite += definite;
    for (const c of calls) {
      unlink(c);
      if (isReset(this.sorted[c.op]!)) this.resetsLeft--;
    }
    if (pooled >= 0) this.pools.take(next.slice(1));
    this.frame = undefined;
    return true;
  }

  /** Undoes choices up to and including the latest one with an alternative left. */
  private backtrack(): boolean {
    for (;;) {
      const top = this.stack.pop();
      if (top === undefined) return false;
      if (top.pooled >= 0) {
        this.pools.untake(this.state.slice(1));
        this.lifted.remove(top.pooled);
      }
      for (let i = top.calls.length - 1; i >= 0; i--) {
        const c = top.calls[i]!;
        relink(c);
        this.lifted.remove(c.op);
        if (isReset(this.sorted[c.op]!)) this.resetsLeft++;
      }
      this.state = top.state;
      this.liftedDefinite -= top.definite;
      if (top.frame !== null) {
        this.frame = top.frame;
        return true;
      }
    }
  }
}

function isReset(o: KeyOp): boolean {
  return o.kind === 'put' || o.kind === 'delete';
}

/** Unknown puts and deletes by the state they produce, each group in invocation order. */
class WritePools {
  private readonly groups = new Map<string, { readonly ops: number[]; readonly times: number[]; used: number }>();

  constructor(sorted: readonly KeyOp[], pooled: (o: KeyOp) => boolean, model: Register) {
    sorted.forEach((o, i) => {
      if (!pooled(o)) return;
      if (o.kind === 'get' || o.kind === 'append') throw new TypeError(`wgl: cannot pool a ${o.kind}`);
      const state = model.produces(o);
      let g = this.groups.get(state);
      if (g === undefined) this.groups.set(state, (g = { ops: [], times: [], used: 0 }));
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
