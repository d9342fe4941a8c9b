// Inflights: the flow-control window of append messages a leader has sent to one
// follower and not yet seen acknowledged. Each slot holds the last index a message
// carried; acknowledging index i frees every slot <= i.

import type { Index } from './types.js';

export class Inflights {
  private readonly buffer: Index[] = [];

  constructor(readonly capacity: number) {}

  get count(): number {
    return this.buffer.length;
  }

  full(): boolean {
    return this.buffer.length >= this.capacity;
  }

  /** Records a sent message whose last entry is `last`; indexes must increase. */
  add(last: Index): void {
    if (this.full()) throw new Error('inflights: add on a full window');
    this.buffer.push(last);
  }

  /** The message sent last now carries entries up to `last`. */
  extendLast(last: Index): void {
    const n = this.buffer.length;
    if (n === 0) throw new Error('inflights: no message to extend');
    if (last < this.buffer[n - 1]!) throw new Error(`inflights: extending ${this.buffer[n - 1]} back to ${last}`);
    this.buffer[n - 1] = last;
  }

  /** Frees every message whose last index is <= `to`. */
  freeLE(to: Index): void {
    let n = 0;
    while (n < this.buffer.length && this.buffer[n]! <= to) n++;
    if (n > 0) this.buffer.splice(0, n);
  }

  /** Frees the oldest slot (used when acknowledgements may have been lost). */
  freeFirst(): void {
    this.buffer.shift();
  }

  reset(): void {
    this.buffer.length = 0;
  }
}
