// Memo keys for the linearizability search (wgl.ts): the set of decided operations as a
// bitset, and register states interned as small integers. A key names a configuration
// (decided set, state) exactly, and stays short: real time forces the decided operations
// with a return time to be a full prefix (in invocation order) plus a band about as wide as
// the concurrency, so only the words from the first one that is not all ones are spelled out.

import type { KeyOp } from './register.js';

/** Maps register states to small integers so memo keys stay short. */
export class Interner {
  private readonly ids = new Map<string, number>();
  id(state: string): number {
    let id = this.ids.get(state);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(state, id);
    }
    return id;
  }
}

const FULL = 0xffffffff;

/**
 * The set of decided (lifted or dropped) operations as a bitset. Operations with a return
 * time take words [0, split), numbered in invocation order; unknown ones take words from
 * `split` on, so that a long-lived unknown operation does not keep the first region from
 * filling up.
 */
export class LiftedSet {
  private readonly words: Uint32Array;
  /** Bit index of each sorted op. */
  private readonly bit: Int32Array;
  /** Number of words holding operations with a return time. */
  private readonly split: number;
  /** Invariant: every word below `base` is all ones, and words[base] is not (or base = split). */
  private base = 0;
  /** Upper bound (exclusive) on non-zero words below `split`. */
  private top = 0;

  constructor(sorted: readonly KeyOp[]) {
    const bounded = sorted.filter((o) => o.returnAt !== Infinity).length;
    this.split = Math.ceil(bounded / 32);
    this.words = new Uint32Array(this.split + Math.ceil((sorted.length - bounded) / 32));
    this.bit = new Int32Array(sorted.length);
    let b = 0;
    let u = this.split * 32;
    sorted.forEach((o, i) => (this.bit[i] = o.returnAt !== Infinity ? b++ : u++));
  }

  add(op: number): void {
    const b = this.bit[op]!;
    const w = b >>> 5;
    this.words[w] = this.words[w]! | (1 << (b & 31));
    if (w < this.split) {
      if (w >= this.top) this.top = w + 1;
      while (this.base < this.split && this.words[this.base] === FULL) this.base++;
    }
  }

  remove(op: number): void {
    const b = this.bit[op]!;
    const w = b >>> 5;
    this.words[w] = this.words[w]! & ~(1 << (b & 31));
    if (w < this.base) this.base = w;
  }

  /** A string naming exactly (this set, state): equal sets give equal keys and vice versa. */
  key(state: number): string {
    let end = this.top;
    while (end > this.base && this.words[end - 1] === 0) end--;
    let s = `${state},${this.base},${end - this.base},`;
    for (let w = this.base; w < end; w++) s += wordChars(this.words[w]!);
    let uend = this.words.length;
    while (uend > this.split && this.words[uend - 1] === 0) uend--;
    for (let w = this.split; w < uend; w++) s += wordChars(this.words[w]!);
    return s;
  }
}

function wordChars(w: number): string {
  return String.fromCharCode(w & 0xffff, w >>> 16);
}
