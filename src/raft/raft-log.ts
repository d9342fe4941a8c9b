// RaftLog: the node's view of the whole log — stable entries in Storage plus the
// unstable part (an incoming snapshot and new entries) — together with the commit and
// apply cursors.
// Invariant: applied <= committed <= lastIndex(); firstIndex() - 1 <= committed.

import { CompactedError, RaftInvariantError, UnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { limitSize } from './storage.js';
import type { Storage } from './storage.js';
import { Unstable } from './log-unstable.js';
import type { Entry, Index, Snapshot, Term } from './types.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: Index;
  /** Highest index handed to the application as committed (applied once advanced). */
  applied: Index;

  constructor(storage: Storage, private readonly logger: Logger) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot point is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): Index {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): Index {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): Term {
    return this.term(this.lastIndex());
  }

  /** Term of entry i; throws CompactedError / UnavailableError outside the log. */
  term(i: Index): Term {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError(i);
    if (i > this.lastIndex()) throw new UnavailableError(i);
    return this.unstable.maybeTerm(i) ?? this.storage.term(i);
  }

  /** Term of entry i, or 0 if outside the log (never matches a real term). */
  zeroTermOnOutOfBounds(i: Index): Term {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return 0;
    return this.term(i);
  }

  matchTerm(i: Index, t: Term): boolean {
    return this.zeroTermOnOutOfBounds(i) === t;
  }

  /** §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: Index, lastTerm: Term): boolean {
    const ours = this.lastTerm();
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex());
  }

  /** Entries [lo, hi), bounded by maxSize payload bytes (at least one entry). */
  slice(lo: Index, hi: Index, maxSize?: number): Entry[] {
    // Stryker disable next-line StringLiteral: error message text only
    if (lo > hi) throw new RaftInvariantError(`invalid slice ${lo} > ${hi}`);
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    // Stryker disable next-line ArithmeticOperator: the index only goes into the error's message
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    // Stryker disable next-line ConditionalExpression: a shortcut: for lo = hi both storages and the unstable part return [] anyway
    if (lo === hi) return [];
    let out: Entry[] = [];
    const uOff = this.unstable.offset;
    if (lo < uOff) out = this.storage.entries(lo, Math.min(hi, uOff), maxSize);
    // Stryker disable next-line EqualityOperator, ConditionalExpression: for hi <= uOff the unstable part adds [] (hi >= uOff, hi > uOff -> true); at lo = uOff out is [] and passes the length test (lo > uOff); the other variants are killed
    if (hi > uOff && (lo >= uOff || out.length === Math.min(hi, uOff) - lo)) {
      out = out.concat(this.unstable.slice(Math.max(lo, uOff), hi));
    }
    return limitSize(out, maxSize);
  }

  entriesFrom(i: Index, maxSize?: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** Appends entries after the current tail (or over a conflicting suffix). */
  append(ents: readonly Entry[]): Index {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      // Stryker disable next-line StringLiteral, ArithmeticOperator: error message text only
      throw new RaftInvariantError(`append at ${after + 1} would overwrite committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The follower side of AppendEntries: if our log has (index, logTerm), append the
   * entries (skipping ones we already hold, truncating at the first conflict) and
   * advance commit. Returns the last index the leader's message covers, or undefined
   * if the logs do not match at `index`.
   */
  maybeAppend(index: Index, logTerm: Term, committed: Index, ents: readonly Entry[]): Index | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      // The append below refuses the same case (after = conflict - 1 < committed); this says why.
      // Stryker disable next-line ConditionalExpression, EqualityOperator, BlockStatement: append() throws the same RaftInvariantError without it
      if (conflict <= this.committed) {
        // Stryker disable next-line StringLiteral: error message text only
        throw new RaftInvariantError(`entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** First index in ents whose term differs from ours, or that we lack; 0 if none. */
  private findConflict(ents: readonly Entry[]): Index {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        // Stryker disable next-line ConditionalExpression, EqualityOperator, BlockStatement: decides only whether to log
        if (e.index <= this.lastIndex()) {
          // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
          this.logger.debug('found conflicting entry', { index: e.index, ours: this.zeroTermOnOutOfBounds(e.index), theirs: e.term });
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a log holding `term`
   * at some position could first agree with ours. Used for fast backtracking.
   */
  findConflictByTerm(index: Index, term: Term): { index: Index; term: Term } {
    let i = Math.min(index, this.lastIndex());
    const floor = this.firstIndex() - 1;
    // Stryker disable next-line EqualityOperator: at i = floor the loop returns what the line after it returns
    for (; i > floor; i--) {
      const t = this.term(i);
      if (t <= term) return { index: i, term: t };
    }
    return { index: floor, term: this.zeroTermOnOutOfBounds(floor) };
  }

  commitTo(c: Index): void {
    // Stryker disable next-line EqualityOperator: c = committed would assign the same value (committed <= lastIndex() always)
    if (c <= this.committed) return;
    if (c > this.lastIndex()) {
      // Stryker disable next-line StringLiteral: error message text only
      throw new RaftInvariantError(`commit ${c} is beyond the last index ${this.lastIndex()}`);
    }
    this.committed = c;
  }

  /** Commits `maxIndex` if it is ours in `term` (only current-term entries count, §5.4.2). */
  maybeCommit(maxIndex: Index, term: Term): boolean {
    if (maxIndex > this.committed && this.zeroTermOnOutOfBounds(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: Index): void {
    if (i === 0) return;
    if (i > this.committed || i < this.applied) {
      // Stryker disable next-line StringLiteral: error message text only
      throw new RaftInvariantError(`applied ${i} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = i;
  }

  /**
   * Whether committed entries wait to be applied. None are handed out while a snapshot
   * waits to be installed: the application installs it first, then applies what follows.
   */
  hasNextEntries(): boolean {
    return this.unstable.snapshot === undefined && this.committed > this.applied;
  }

  /** Committed, not yet applied entries. */
  nextEntries(maxSize?: number): Entry[] {
    if (!this.hasNextEntries()) return [];
    return this.slice(this.applied + 1, this.committed + 1, maxSize);
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  stableTo(i: Index, t: Term): void {
    this.unstable.stableTo(i, t);
  }

  /** The latest snapshot: one waiting to be installed here, or the storage's own. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  pendingSnapshot(): Snapshot | undefined {
    return this.unstable.snapshot;
  }

  /** The application installed the snapshot at `i`: it is stable, and applied. */
  stableSnapTo(i: Index): void {
    this.unstable.stableSnapTo(i);
    // Stryker disable next-line EqualityOperator: appliedTo(applied) changes nothing
    if (i > this.applied) this.appliedTo(i);
  }

  /**
   * Replaces the whole log with a snapshot of committed state. Callers check first that
   * it is news (beyond our commit index) and that our log does not already hold it.
   */
  restore(s: Snapshot): void {
    const { index, term } = s.metadata;
    if (index <= this.committed) {
      // Stryker disable next-line StringLiteral: error message text only
      throw new RaftInvariantError(`restore of snapshot ${index}/t${term} at or below commit ${this.committed}`);
    }
    // Stryker disable next-line StringLiteral, ObjectLiteral: log text only
    this.logger.info('log restored from snapshot', { index, term, lastIndex: this.lastIndex(), committed: this.committed });
    this.committed = index;
    this.unstable.restore(s);
  }
}
