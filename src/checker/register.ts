// The sequential model the checker holds a single key's history against: a register.
//
// The register starts absent (null). put sets it, delete makes it absent again, append adds
// to the end of the current value (absent counts as ''), and get must observe the current
// value. When the checker examines a window cut out of the middle of a history
// (window.ts), the register starts in an *unknown* state instead: the first read pins it down,
// restricted to a set of candidate values when one is given.
//
// States are encoded as strings so they can be interned and memoised cheaply:
//   'N'      absent
//   'V' + v  holds v
//   'U' + s  unknown initial value followed by the appended suffix s ('U' alone: unknown)

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
 * any value in `candidates` (which should include null), or any value at all when omitted.
 */
export type InitialState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'unknown'; readonly candidates?: ReadonlySet<string | null> };

export const ABSENT = 'N';

export function initialEncoding(initial: InitialState): string {
  return initial.kind === 'empty' ? ABSENT : 'U';
}

/** The state after `op` runs in `state`, or undefined when a get observed something else. */
export function applyOp(state: string, op: KeyOp, initial: InitialState): string | undefined {
  switch (op.kind) {
    case 'put':
      return 'V' + op.value!;
    case 'delete':
      return ABSENT;
    case 'append':
      return state === ABSENT ? 'V' + op.value! : state + op.value!;
    case 'get':
      return observe(state, op.value, initial);
    default: {
      const never: never = op.kind;
      throw new TypeError(`unknown kind ${String(never)}`);
    }
  }
}

function observe(state: string, seen: string | null, initial: InitialState): string | undefined {
  const tag = state.charCodeAt(0);
  if (tag === 0x4e /* N */) return seen === null ? state : undefined;
  if (tag === 0x56 /* V */) return seen !== null && state.length === seen.length + 1 && state.endsWith(seen) ? state : undefined;
  // Unknown initial value, possibly followed by appends.
  const suffix = state.slice(1);
  if (suffix === '') {
    const candidates = initial.kind === 'unknown' ? initial.candidates : undefined;
    if (candidates !== undefined && !candidates.has(seen)) return undefined;
    return seen === null ? ABSENT : 'V' + seen;
  }
  return seen !== null && seen.endsWith(suffix) ? 'V' + seen : undefined;
}

/** Reads and writes as a human would say them, for explanations. */
export function describeState(state: string): string {
  if (state === ABSENT) return 'absent';
  if (state.startsWith('V')) return JSON.stringify(state.slice(1));
  return state === 'U' ? 'unknown' : `unknown + ${JSON.stringify(state.slice(1))}`;
}
