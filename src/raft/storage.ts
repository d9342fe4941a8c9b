// The stable-storage contract Raft reads its durable log from, and MemoryStorage, an
// in-memory implementation for tests. The application appends to storage when it
// persists a Ready; Raft only reads. Reads are synchronous: an implementation over a
// disk engine keeps the live part of the log in memory.

import { CompactedError, RaftInvariantError, SnapshotTemporarilyUnavailableError, UnavailableError } from './errors.js';
import type { ConfState, Entry, HardState, Index, Snapshot, Term } from './types.js';
import { EMPTY_HARD_STATE } from './types.js';

/** The durable state a node starts from: its last hard state and its configuration. */
export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/**
 * The log positions available are firstIndex()..lastIndex(); term() also answers for
 * firstIndex() - 1 (the last compacted or snapshotted entry), so the entry before the
 * first stored one can still be matched. An empty log has lastIndex() = firstIndex() - 1.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries [lo, hi), cut after `maxSize` payload bytes but always at least one. */
  entries(lo: Index, hi: Index, maxSize?: number): Entry[];
  /** Throws CompactedError below firstIndex()-1, UnavailableError above lastIndex(). */
  term(i: Index): Term;
  firstIndex(): Index;
  lastIndex(): Index;
  /**
   * The latest snapshot, for a follower that needs compacted entries. Its index is at
   * least firstIndex() - 1, so it always reaches the log. May throw
   * SnapshotTemporarilyUnavailableError while one is being made; Raft asks again later.
   */
  snapshot(): Snapshot;
}

/** Total payload bytes of `entries`, used for message size limits. */
export function entriesSize(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.data.length;
  return n;
}

/** Keeps a prefix of `entries` whose payload fits `maxSize`; never fewer than one entry. */
export function limitSize(entries: Entry[], maxSize: number | undefined): Entry[] {
  if (maxSize === undefined || entries.length === 0) return entries;
  let size = entries[0]!.data.length;
  let n = 1;
  while (n < entries.length) {
    size += entries[n]!.data.length;
    if (size > maxSize) break;
    n++;
  }
  return entries.slice(0, n);
}

/**
 * In-memory storage. `ents[0]` is a dummy whose index and term are those of the last
 * compacted entry (the snapshot point), so term() works one below the first entry.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private ents: Entry[];

  constructor(voters: readonly number[] = [], snapshotIndex: Index = 0, snapshotTerm: Term = 0) {
    this.snap = {
      metadata: { index: snapshotIndex, term: snapshotTerm, confState: { voters: [...voters], learners: [] } },
      data: new Uint8Array(0),
    };
    this.ents = [{ index: snapshotIndex, term: snapshotTerm, type: 'normal', data: new Uint8Array(0) }];
    // A group bootstrapped at a snapshot point starts with that point committed.
    this.hardState = { term: snapshotTerm, vote: 0, commit: snapshotIndex };
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  private get offset(): Index {
    return this.ents[0]!.index;
  }

  firstIndex(): Index {
    return this.offset + 1;
  }

  lastIndex(): Index {
    return this.offset + this.ents.length - 1;
  }

  term(i: Index): Term {
    if (i < this.offset) throw new CompactedError(i);
    if (i > this.lastIndex()) throw new UnavailableError(i);
    return this.ents[i - this.offset]!.term;
  }

  entries(lo: Index, hi: Index, maxSize?: number): Entry[] {
    if (lo <= this.offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    if (lo >= hi) return [];
    return limitSize(this.ents.slice(lo - this.offset, hi - this.offset), maxSize);
  }

  /** Tests only: while true, snapshot() answers "temporarily unavailable". */
  snapshotUnavailable = false;

  snapshot(): Snapshot {
    if (this.snapshotUnavailable) throw new SnapshotTemporarilyUnavailableError();
    return this.snap;
  }

  /** The stored snapshot, whatever snapshotUnavailable says (for the application's own use). */
  get storedSnapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Records a snapshot of the application's state at applied index `index` (which must be
   * in the log), replacing the previous one. Compact separately.
   */
  createSnapshot(index: Index, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) return this.snap;
    if (index > this.lastIndex()) throw new UnavailableError(index);
    if (index < this.offset) throw new CompactedError(index);
    this.snap = { metadata: { index, term: this.term(index), confState: { voters: [...confState.voters], learners: [...(confState.learners ?? [])] } }, data };
    return this.snap;
  }

  /**
   * Installs a snapshot received from the leader: the whole log is replaced by its point,
   * as the application does when it persists a Ready's snapshot.
   */
  applySnapshot(s: Snapshot): void {
    const { index, term } = s.metadata;
    if (index <= this.snap.metadata.index) {
      throw new RaftInvariantError(`applySnapshot: ${index} is not newer than the stored snapshot ${this.snap.metadata.index}`);
    }
    this.snap = s;
    this.ents = [{ index, term, type: 'normal', data: new Uint8Array(0) }];
    if (this.hardState.commit < index) this.hardState = { ...this.hardState, commit: index };
  }

  /**
   * Appends entries as the application does when persisting a Ready: entries that
   * conflict with (or extend past) the stored tail replace it.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first > this.lastIndex() + 1) {
      throw new RaftInvariantError(`append leaves a gap: last ${this.lastIndex()}, first new ${first}`);
    }
    // Entries at or below the snapshot point are already covered by it.
    const skip = Math.max(0, this.offset + 1 - first);
    const fresh = entries.slice(skip);
    if (fresh.length === 0) return;
    const at = fresh[0]!.index - this.offset;
    this.ents = this.ents.slice(0, at).concat(fresh);
  }

  /** Discards entries up to and including `index`, keeping it as the dummy entry. */
  compact(index: Index): void {
    if (index <= this.offset) return;
    if (index > this.lastIndex()) throw new UnavailableError(index);
    const dummy = this.ents[index - this.offset]!;
    this.ents = [{ ...dummy, data: new Uint8Array(0) }, ...this.ents.slice(index - this.offset + 1)];
  }

  /** A copy holding the same durable state, used to model a crash and restart. */
  clone(): MemoryStorage {
    const c = new MemoryStorage();
    c.hardState = this.hardState;
    c.snap = this.snap;
    c.ents = this.ents.slice();
    return c;
  }
}
