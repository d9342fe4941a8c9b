// Unit tests of RaftLog, the follower half of AppendEntries (Raft §5.3, Figure 2's
// receiver rules 2–5), the term lookups at the edges of the log, the §5.4.1 up-to-date
// comparison and the hint used for fast backtracking.

import t from 'tap';
import { silentLogger } from './logger.js';
import { RaftLog } from './raft-log.js';
import { MemoryStorage } from './storage.js';
import type { Entry, Snapshot } from './types.js';

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(data) });

/** A log after a snapshot at (5, 5) whose entries 6.. have `terms`; the last `unstable` are not yet persisted. */
function logWith(terms: number[], opts: { unstable?: number; committed?: number } = {}): RaftLog {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const ents = terms.map((term, i) => ent(6 + i, term));
  const cut = ents.length - (opts.unstable ?? 0);
  st.append(ents.slice(0, cut));
  const log = new RaftLog(st, silentLogger);
  log.append(ents.slice(cut));
  if (opts.committed !== undefined) log.commitTo(opts.committed);
  return log;
}

const terms = (log: RaftLog) => {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i));
  return out;
};

t.test('term() at the edges: the snapshot point answers, beyond either end throws', async (t) => {
  const log = logWith([6, 6, 7], { unstable: 1 });
  t.same([log.firstIndex(), log.lastIndex(), log.lastTerm()], [6, 8, 7]);
  t.equal(log.term(5), 5, 'the entry before the first one (the snapshot point) has a term');
  t.equal(log.term(8), 7, 'an unstable entry');
  t.throws(() => log.term(4), { code: 'COMPACTED' });
  t.throws(() => log.term(9), { code: 'UNAVAILABLE' });
  t.same([log.zeroTermOnOutOfBounds(4), log.zeroTermOnOutOfBounds(9), log.zeroTermOnOutOfBounds(7)], [0, 0, 6]);
  t.same([log.matchTerm(7, 6), log.matchTerm(7, 7), log.matchTerm(5, 5), log.matchTerm(9, 7)], [true, false, true, false]);
});

t.test('Figure 2 receiver rule 2: reject when the log has no entry at prevLogIndex with prevLogTerm', async (t) => {
  const log = logWith([6, 6, 7]);
  t.equal(log.maybeAppend(8, 6, 8, [ent(9, 8)]), undefined, 'term mismatch at 8');
  t.equal(log.maybeAppend(10, 7, 8, [ent(11, 8)]), undefined, 'no entry at 10');
  t.same([terms(log), log.committed], [[6, 6, 7], 5], 'nothing changed');
});

t.test('Figure 2 receiver rules 3–4: delete a conflicting suffix, append what is new, keep what matches', async (t) => {
  let log = logWith([6, 6, 7, 7, 7], { unstable: 2 });
  t.equal(log.maybeAppend(7, 6, 5, [ent(8, 8), ent(9, 8)]), 9, 'returns the last index the message covers');
  t.same(terms(log), [6, 6, 8, 8], 'the old 8..10 (term 7) are gone, replaced by 8..9 (term 8)');

  log = logWith([6, 6, 7]);
  t.equal(log.maybeAppend(6, 6, 5, [ent(7, 6), ent(8, 7), ent(9, 7)]), 9);
  t.same(terms(log), [6, 6, 7, 7], 'matching prefix kept, new entry appended');
  t.same(log.unstableEntries().map((e) => e.index), [9], 'only the new entry is left to persist');

  log = logWith([6, 6, 7, 7]);
  t.equal(log.maybeAppend(6, 6, 5, [ent(7, 6)]), 7, 'a stale, shorter append');
  t.same(terms(log), [6, 6, 7, 7], 'does not truncate matching entries after it');
});

t.test('Figure 2 receiver rule 5: commit = min(leaderCommit, index of last new entry), never backwards', async (t) => {
  const log = logWith([6, 6, 7, 7]);
  log.maybeAppend(7, 6, 100, [ent(8, 7)]);
  t.equal(log.committed, 8, 'capped at the last entry this message vouches for, not the log end (9)');
  log.maybeAppend(6, 6, 6, []);
  t.equal(log.committed, 8, 'an older leaderCommit does not lower it');
  t.throws(() => log.commitTo(10), { code: 'INVARIANT' }, 'commit beyond the log is an invariant violation');
});

t.test('Raft §5.4: an append that would change a committed entry is refused', async (t) => {
  const log = logWith([6, 6, 6], { committed: 8 });
  t.throws(() => log.maybeAppend(6, 6, 8, [ent(7, 9), ent(8, 9)]), { code: 'INVARIANT' });
  t.same(terms(log), [6, 6, 6]);
  t.throws(() => log.append([ent(8, 9)]), { code: 'INVARIANT' }, 'and so is a raw append below the commit');
});

t.test('Raft §5.4.1: isUpToDate compares last terms first, then lengths', async (t) => {
  const log = logWith([6, 6, 7]); // last (8, 7)
  t.same(
    [[8, 7], [9, 7], [7, 7], [100, 6], [6, 8]].map(([i, tm]) => log.isUpToDate(i!, tm!)),
    [true, true, false, false, true],
  );
});

t.test('Raft §5.3 fast backtracking: findConflictByTerm finds the last index whose term is <= the given one', async (t) => {
  const log = logWith([6, 6, 7, 7, 9, 9]); // 6..11
  const q = (i: number, tm: number) => { const r = log.findConflictByTerm(i, tm); return [r.index, r.term]; };
  t.same(q(11, 9), [11, 9], 'a matching term stops at once');
  t.same(q(11, 8), [9, 7], 'skips the whole term-9 run');
  t.same(q(11, 6), [7, 6]);
  t.same(q(9, 7), [9, 7]);
  t.same(q(20, 7), [9, 7], 'an index past the end starts from the last entry');
  t.same(q(11, 5), [5, 5], 'nothing matches: the snapshot point');
  t.same(q(11, 1), [5, 5], 'the snapshot point is the floor even for lower terms');
});

t.test('slice spans storage and the unstable tail and honours maxSize', async (t) => {
  const st = new MemoryStorage([1], 5, 5);
  st.append([ent(6, 6, 'aaaa'), ent(7, 6, 'bbbb')]);
  const log = new RaftLog(st, silentLogger);
  log.append([ent(8, 6, 'cccc'), ent(9, 6, 'dddd')]);
  t.same(log.slice(6, 10).map((e) => e.index), [6, 7, 8, 9]);
  t.same(log.slice(7, 9).map((e) => e.index), [7, 8], 'across the boundary');
  t.same(log.slice(6, 10, 9).map((e) => e.index), [6, 7], 'stops before exceeding 9 bytes');
  t.same(log.slice(6, 10, 1).map((e) => e.index), [6], 'at least one entry');
  t.same(log.slice(7, 7), []);
  t.throws(() => log.slice(8, 7), { code: 'INVARIANT' }, 'an inverted range is a caller\'s bug, not an empty slice');
  t.throws(() => log.slice(5, 7), { code: 'COMPACTED' });
  t.throws(() => log.slice(8, 11), { code: 'UNAVAILABLE' });
  t.same(log.entriesFrom(9).map((e) => e.index), [9], 'the last entry itself');
  t.same(log.entriesFrom(10), [], 'nothing past the end');
  t.same(log.entriesFrom(20), [], 'nor far past it');
});

t.test('slice never leaves a gap: a stable part cut short by maxSize is not followed by unstable entries', async (t) => {
  const st = new MemoryStorage([1], 5, 5);
  st.append([ent(6, 6, 'aaaa'), ent(7, 6, 'bbbbbbbb')]);
  const log = new RaftLog(st, silentLogger);
  log.append([ent(8, 6, 'c')]);
  // Storage stops after 6 (6 and 7 would be 12 bytes); 6 and 8 would fit in 5, but 8 does not follow 6.
  t.same(log.slice(6, 9, 5).map((e) => e.index), [6]);
});

t.test('Raft §5.4.2: maybeCommit commits only an entry of the given term, and only forwards', async (t) => {
  const log = logWith([6, 6, 7, 7]); // 6..9, committed 5
  t.equal(log.maybeCommit(7, 7), false, 'a quorum holds 7, but it is of term 6: not committed by counting');
  t.equal(log.committed, 5);
  t.equal(log.maybeCommit(12, 7), false, 'an index beyond the log has no term');
  t.equal(log.maybeCommit(9, 7), true, 'an entry of the term commits, with everything before it');
  t.equal(log.committed, 9);
  t.equal(log.maybeCommit(9, 7), false, 'the same index again is no news (the caller would broadcast for nothing)');
  t.equal(log.maybeCommit(8, 7), false, 'an older index is no news either');
  t.equal(log.committed, 9, 'and never lowers the commit index');
});

t.test('Raft §5.3: entries right after the commit index may still be replaced', async (t) => {
  const log = logWith([6, 6, 7], { committed: 7 });
  t.equal(log.append([ent(8, 8)]), 8, 'the uncommitted 8 gives way to the new leader\'s');
  t.same(terms(log), [6, 6, 8]);
});

t.test('appliedTo: 0 means nothing applied, and the current applied index may be reported again', async (t) => {
  const log = logWith([6, 6, 7], { committed: 7 });
  log.appliedTo(0);
  t.equal(log.applied, 5, 'the snapshot point stays applied');
  // A restart reports the applied index the log already starts from (the snapshot point).
  log.appliedTo(5);
  t.equal(log.applied, 5);
  log.appliedTo(7);
  log.appliedTo(7);
  t.equal(log.applied, 7);
});

t.test('unstableEntries hands out a copy: the caller cannot edit what waits to be persisted', async (t) => {
  const log = logWith([6, 6, 7], { unstable: 2 });
  const got = log.unstableEntries();
  got.length = 0;
  t.same(log.unstableEntries().map((e) => e.index), [7, 8]);
});

const snap = (index: number, term: number): Snapshot =>
  ({ metadata: { index, term, confState: { voters: [1, 2, 3], learners: [] } }, data: new Uint8Array([9]) });

t.test('Raft §7: restore replaces the log with a snapshot that waits to be installed', async (t) => {
  const log = logWith([6, 6, 7], { committed: 7 });
  t.throws(() => log.restore(snap(7, 6)), { code: 'INVARIANT' }, 'a snapshot at the commit index would bring nothing new');
  t.throws(() => log.restore(snap(6, 6)), { code: 'INVARIANT' }, 'nor one below it (it would roll committed state back)');
  const s = snap(12, 9);
  log.restore(s);
  t.same([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.committed, log.applied], [13, 12, 9, 12, 5],
    'the log starts after the snapshot, which is committed but not yet applied');
  t.equal(log.term(12), 9, 'the snapshot point has its term');
  t.throws(() => log.term(11), { code: 'COMPACTED' }, 'the old entries are gone');
  t.throws(() => log.slice(12, 13), { code: 'COMPACTED' }, 'and cannot be sliced');
  t.equal(log.pendingSnapshot(), s);
  t.equal(log.snapshot(), s, 'the newest snapshot is the pending one, not the storage\'s');
  t.same([log.hasNextEntries(), log.nextEntries()], [false, []], 'no entry is applied before the snapshot is installed');

  // The leader goes on replicating after the snapshot before the application installs it.
  log.append([ent(13, 9, 'x'), ent(14, 9, 'y')]);
  t.same(log.slice(13, 15).map((e) => e.index), [13, 14], 'entries after the snapshot come from the unstable part alone');

  const st = log.storage as MemoryStorage;
  st.applySnapshot(s);
  log.stableSnapTo(12);
  t.same([log.pendingSnapshot(), log.applied], [undefined, 12], 'installed: stable, and applied');
  t.equal(log.snapshot(), st.snapshot(), 'now the storage holds the newest snapshot');
  log.stableSnapTo(7);
  t.equal(log.applied, 12, 'a late report of an older snapshot does not move applied back');
});

t.test('applied <= committed: nextEntries, appliedTo and stableTo', async (t) => {
  const log = logWith([6, 6, 7], { unstable: 2 });
  t.same([log.hasNextEntries(), log.nextEntries()], [false, []]);
  log.commitTo(7);
  t.same(log.nextEntries().map((e) => e.index), [6, 7]);
  log.appliedTo(7);
  t.same([log.applied, log.hasNextEntries()], [7, false]);
  t.throws(() => log.appliedTo(8), { code: 'INVARIANT' }, 'cannot apply past commit');
  t.throws(() => log.appliedTo(6), { code: 'INVARIANT' }, 'applied never goes back');
  log.stableTo(8, 6);
  t.equal(log.unstableEntries().length, 2, 'a stableTo with a term that no longer matches is ignored');
  log.stableTo(8, 7);
  t.same(log.unstableEntries(), []);
});

t.test('Raft §7: after a restore the log ends at the snapshot, whatever storage still holds past it', async (t) => {
  const log = logWith([6, 6, 7]); // storage holds 6..8 until the application installs the snapshot
  log.restore(snap(7, 6));
  t.same([log.firstIndex(), log.lastIndex(), log.committed], [8, 7, 7]);
  t.throws(() => log.term(8), { code: 'UNAVAILABLE' }, 'the stale stable entry 8 is not part of the log');
  t.throws(() => log.slice(8, 9), { code: 'UNAVAILABLE' });
  t.equal(log.zeroTermOnOutOfBounds(8), 0);
});
