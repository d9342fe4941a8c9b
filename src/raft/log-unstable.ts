// The unstable tail of the log: entries Raft has accepted but the application has not
// yet persisted. Entry i lives at entries[i - offset]. Once persisted (stableTo), they
// are dropped here and read from Storage instead.

import type { Entry, Index, Term } from './types.js';

export class Unstable {
  /** Index of entries[0]; equals storage.lastIndex() + 1 when nothing is pending. */
  offset: Index;
  entries: Entry[] = [];

  constructor(offset: Index) {
    this.offset = offset;
  }

  /** The last index held here, if any. */
  maybeLastIndex(): Index | undefined {
    return this.entries.length > 0 ? this.offset + this.entries.length - 1 : undefined;
  }

  maybeTerm(i: Index): Term | undefined {
    if (i < this.offset) return undefined;
    const e = this.entries[i - this.offset];
    return e?.term;
  }

  /** The application persisted entries up to (i, t); forget them unless since replaced. */
  stableTo(i: Index, t: Term): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
  }

  /** Appends, truncating any conflicting suffix (entries at or after ents[0].index). */
  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      // Replaces everything unstable, and shadows stable entries from `after` on.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  slice(lo: Index, hi: Index): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
