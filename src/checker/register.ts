// The sequential model the checker holds a single key's history against: a register.
//
// The register starts absent (null). put sets it, delete makes it absent again, append adds
// to the end of the current value (absent counts as ''), and get must observe the current
// value. When the checker examines a window cut out of the middle of a history
// (window.ts), the register starts in an *unknown* state instead: the first read pins it
// down, restricted to the values the writes before the window could have left.
//
// States are short strings, so the search can intern and memoise them cheaply:
//   'N'            absent
//   'V' + b + ':' + s   holds base b followed by the appended suffix s, where b numbers a
//                  value taken from the history (a put's value, a read's result, or '')
//                  so that long values are never copied; s is '' without appends
//   'U' + s        unknown initial value x followed by the appended suffix s
//   'D'            holds a value no read in the history observes (wgl.ts uses it, without
//                  appends, so that all such values count as one state)

/** A single-key operation as the search sees it (scans already split per key). */
export interface KeyOp {
  /** Index of the originating operation in the history passed to the checker. */
  readonly src: number;
  readonly kind: 'put' | 'delete' | 'append' | 'get';
  /** put/append: the value written; get: the value read (null = absent); delete: null. */
  readonly value: string | null;
  readonly invokeAt: number;
  /** Infinity for an unknown operation; always finite for a definite one. */
  readonly returnAt: number;
  /**
   * True: took effect once, between invokeAt and returnAt. False: may take effect once
   * after invokeAt, or never: with returnAt Infinity this is an unknown outcome; with a finite
   * returnAt (only inside windows, see window.ts) it can only take effect before returnAt.
   */
  readonly definite: boolean;
}

/**
 * Where the register starts. `empty`: absent, as at the start of every history. `unknown`:
 * absent or any value in `candidates`; or, for keys with appends, absent or any value
 * built by one of `pieces.puts` (or nothing) followed by any of `pieces.appends`.
 */
export type InitialState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'unknown'; readonly candidates: ReadonlySet<string | null> }
  | { readonly kind: 'unknown'; readonly pieces: Pieces };

/** Values written before a window, to bound what the register can hold when it starts. */
export interface Pieces {
  readonly puts: readonly string[];
  readonly appends: readonly string[];
}

export const ABSENT = 'N';
export const DEAD = 'D';

/** The register model for one search: state encoding and transitions. */
export class Register {
  private readonly bases = new Map<string, number>();
  private readonly baseValues: string[] = [];
  private readonly built = new Map<string, boolean>();

  constructor(private readonly initial: InitialState) {}

  start(): string {
    return this.initial.kind === 'empty' ? ABSENT : 'U';
  }

  /** The state a put or delete leaves, which is also the state in which a read sees `o.value`. */
  produces(o: KeyOp): string {
    return o.value === null ? ABSENT : this.holding(o.value, '');
  }

  /** Whether reads can be explained in `state` without it changing (not an unknown start). */
  isKnown(state: string): boolean {
    return state === ABSENT || state.startsWith('V');
  }

  /** The state after `op` runs in `state`, or undefined when a get observed something else. */
  apply(state: string, op: KeyOp): string | undefined {
    switch (op.kind) {
      case 'put':
        return this.holding(op.value!, '');
      case 'delete':
        return ABSENT;
      case 'append':
        if (state === ABSENT) return this.holding('', op.value!);
        if (state === DEAD) throw new TypeError('register: the dead state is for keys without appends');
        return state + op.value!; // extends the suffix of a 'V' or 'U' state
      case 'get':
        return this.observe(state, op.value);
      default: {
        const never: never = op.kind;
        throw new TypeError(`unknown kind ${String(never)}`);
      }
    }
  }

  /**
   * Whether `state` can still become `seen` through appends alone: with no put or delete
   * left, a read that cannot is unexplainable. True when it cannot be told.
   */
  canGrowInto(state: string, seen: string | null): boolean {
    if (state.startsWith('V')) {
      if (seen === null) return false;
      const [base, suffix] = this.parts(state);
      return seen.startsWith(base) && seen.startsWith(suffix, base.length);
    }
    if (state.startsWith('U') && state.length > 1) return seen !== null && seen.includes(state.slice(1));
    return true;
  }

  private observe(state: string, seen: string | null): string | undefined {
    if (state === ABSENT) return seen === null ? state : undefined;
    if (state === DEAD) return undefined;
    if (seen === null) return state === 'U' ? ABSENT : undefined; // an unknown start may be absent
    if (state.startsWith('V')) {
      const [base, suffix] = this.parts(state);
      const same = seen.length === base.length + suffix.length && seen.startsWith(base) && seen.endsWith(suffix);
      return !same ? undefined : suffix === '' ? state : this.holding(seen, '');
    }
    // Unknown initial value x followed by suffix s: seen must be x + s, for an x allowed.
    const suffix = state.slice(1);
    if (!seen.endsWith(suffix)) return undefined;
    const x = seen.slice(0, seen.length - suffix.length);
    // With a suffix, x may also have been absent (appending to nothing starts from '').
    return this.allowed(x) || (suffix !== '' && x === '') ? this.holding(seen, '') : undefined;
  }

  private allowed(x: string): boolean {
    const initial = this.initial;
    if (initial.kind === 'empty') throw new TypeError('register: unknown state with an empty start');
    if ('candidates' in initial) return initial.candidates.has(x);
    let ok = this.built.get(x);
    if (ok === undefined) this.built.set(x, (ok = buildable(x, initial.pieces)));
    return ok;
  }

  private holding(base: string, suffix: string): string {
    let b = this.bases.get(base);
    if (b === undefined) {
      b = this.baseValues.length;
      this.bases.set(base, b);
      this.baseValues.push(base);
    }
    return `V${b}:${suffix}`;
  }

  private parts(state: string): [string, string] {
    const colon = state.indexOf(':');
    return [this.baseValues[Number(state.slice(1, colon))]!, state.slice(colon + 1)];
  }
}

/** Whether x = p + a1 + ... + ak, p one of `puts` or '', each ai one of `appends` (reuse allowed). */
function buildable(x: string, pieces: Pieces): boolean {
  // reach[i]: some split reaches position i, i.e. x.slice(0, i) is buildable.
  const reach = new Uint8Array(x.length + 1);
  reach[0] = 1;
  for (const p of pieces.puts) if (x.startsWith(p)) reach[p.length] = 1;
  for (let i = 0; i < x.length; i++) {
    if (reach[i] === 0) continue;
    for (const a of pieces.appends) if (a.length > 0 && x.startsWith(a, i)) reach[i + a.length] = 1;
  }
  return reach[x.length] === 1;
}
