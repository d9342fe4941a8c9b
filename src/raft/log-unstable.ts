// The unstable part of the log: a snapshot and entries Raft has accepted but the
// application has not yet persisted. Entry i lives at entries[i - offset]. Once persisted
// (stableTo, stableSnapTo), they are dropped here and read from Storage instead.
// Invariant: if snapshot is set, offset = snapshot.metadata.index + 1 until entries that
// replace the snapshot's tail arrive (they never reach below it: the snapshot is committed).

import type { Entry, Index, Snapshot, Term } from './types.js';

export class Unstable {
  /** Index of entries[0]; equals storage.lastIndex() + 1 when nothing is pending. */
  offset: Index;
  entries: Entry[] = [];
  /** An incoming snapshot the application has not yet installed. */
  snapshot: Snapshot | undefined;

  constructor(offset: Index) {
    this.offset = offset;
  }

  /** The first index after a pending snapshot, if there is one. */
  maybeFirstIndex(): Index | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  /** The last index held here (an entry, or the pending snapshot's point), if any. */
  maybeLastIndex(): Index | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  maybeTerm(i: Index): Term | undefined {
    if (i < this.offset) {
      const m = this.snapshot?.metadata;
      return m && m.index === i ? m.term : undefined;
    }
    const e = this.entries[i - this.offset];
    return e?.term;
  }

  /** The application persisted entries up to (i, t); forget them unless since replaced. */
  stableTo(i: Index, t: Term): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
  }

  /** The application installed the snapshot at index i. */
  stableSnapTo(i: Index): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot: the log now begins right after it. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
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
