// Memoisation for the linearizability search (wgl.ts): the set of decided operations as a
// bitset, and a hash set of the configurations (decided set, register state) already seen.
//
// A configuration is stored compactly. Real time forces the decided operations that have a
// return time to be a full prefix (in invocation order) plus a band about as wide as the
// concurrency, so a configuration is recorded as (state, index of the first word that is
// not all ones, the words from there to the last non-zero one, the non-zero words of the
// region holding unknown operations). Records live in one growable Uint32Array; an
// open-addressing table of record offsets, keyed by a 32-bit hash, finds them. Memory per
// configuration is a few dozen bytes, and nothing is allocated per lookup.

import type { KeyOp } from './register.js';

/** Maps register states to small integers. */
export class Interner {
  private readonly ids = new Map<string, number>();
  /** Total length of the states held: with appends they grow long, so callers bound it. */
  chars = 0;
  id(state: string): number {
    let id = this.ids.get(state);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(state, id);
      this.chars += state.length;
    }
    return id;
  }
}

const FULL = 0xffffffff;
const HEADER = 4; // state, base, band length, unknown-region length

/**
 * The set of decided (lifted or dropped) operations, plus the memo of configurations.
 * Operations with a return time take words [0, split), numbered in invocation order; the
 * others take words from `split` on, so long-lived unknown operations do not keep the first
 * region from filling up.
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
  private arena = new Uint32Array(1 << 12);
  private used = 0;
  /** Open-addressing table of arena offsets + 1 (0 = empty), capacity a power of two. */
  private slots = new Int32Array(1 << 10);
  private hashes = new Uint32Array(1 << 10);
  private count = 0;

  constructor(sorted: readonly KeyOp[]) {
    const bounded = sorted.filter((o) => o.returnAt !== Infinity).length;
    this.split = Math.ceil(bounded / 32);
    this.words = new Uint32Array(this.split + Math.ceil((sorted.length - bounded) / 32));
    this.bit = new Int32Array(sorted.length);
    let b = 0;
    let u = this.split * 32;
    sorted.forEach((o, i) => (this.bit[i] = o.returnAt !== Infinity ? b++ : u++));
  }

  /** Number of configurations remembered. */
  get size(): number {
    return this.count;
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

  /** Records (this set, state); false if it was already recorded. */
  visit(state: number): boolean {
    const [bandEnd, unknownEnd] = this.extent();
    const hash = this.hash(state, bandEnd, unknownEnd);
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) break;
      if (this.hashes[i] === hash && this.matches(slot - 1, state, bandEnd, unknownEnd)) return false;
    }
    this.insert(this.record(state, bandEnd, unknownEnd), hash);
    return true;
  }

  /** Ends (exclusive) of the band and of the unknown region, trailing zero words trimmed. */
  private extent(): [number, number] {
    let end = this.top;
    while (end > this.base && this.words[end - 1] === 0) end--;
    let uend = this.words.length;
    while (uend > this.split && this.words[uend - 1] === 0) uend--;
    return [end, uend];
  }

  private hash(state: number, end: number, uend: number): number {
    let h = mix(0x9747b28c, state);
    h = mix(h, this.base);
    for (let w = this.base; w < end; w++) h = mix(h, this.words[w]!);
    h = mix(h, 0x5bd1e995);
    for (let w = this.split; w < uend; w++) h = mix(h, this.words[w]!);
    return h >>> 0;
  }

  private matches(at: number, state: number, end: number, uend: number): boolean {
    const a = this.arena;
    const header = a[at] === state && a[at + 1] === this.base;
    if (!header || a[at + 2] !== end - this.base || a[at + 3] !== uend - this.split) return false;
    let p = at + HEADER;
    for (let w = this.base; w < end; w++) if (a[p++] !== this.words[w]) return false;
    for (let w = this.split; w < uend; w++) if (a[p++] !== this.words[w]) return false;
    return true;
  }

  /** Appends the current configuration to the arena; returns its offset. */
  private record(state: number, end: number, uend: number): number {
    const need = HEADER + (end - this.base) + (uend - this.split);
    if (this.used + need > this.arena.length) {
      const bigger = new Uint32Array(Math.max(this.arena.length * 2, this.used + need));
      bigger.set(this.arena);
      this.arena = bigger;
    }
    const at = this.used;
    const a = this.arena;
    a[at] = state;
    a[at + 1] = this.base;
    a[at + 2] = end - this.base;
    a[at + 3] = uend - this.split;
    let p = at + HEADER;
    for (let w = this.base; w < end; w++) a[p++] = this.words[w]!;
    for (let w = this.split; w < uend; w++) a[p++] = this.words[w]!;
    this.used = p;
    return at;
  }

  private insert(at: number, hash: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    let i = hash & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = at + 1;
    this.hashes[i] = hash;
    this.count++;
  }

  private grow(): void {
    const [oldSlots, oldHashes] = [this.slots, this.hashes];
    this.slots = new Int32Array(oldSlots.length * 2);
    this.hashes = new Uint32Array(oldSlots.length * 2);
    const mask = this.slots.length - 1;
    for (let j = 0; j < oldSlots.length; j++) {
      if (oldSlots[j] === 0) continue;
      let i = oldHashes[j]! & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = oldSlots[j]!;
      this.hashes[i] = oldHashes[j]!;
    }
  }
}

/** One round of a multiply-rotate hash over 32-bit words. */
function mix(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
