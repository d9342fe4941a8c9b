// Unit tests of RaftLog, the follower half of AppendEntries (Raft §5.3, Figure 2's
// receiver rules 2–5), the term lookups at the edges of the log, the §5.4.1 up-to-date
// comparison and the hint used for fast backtracking.

import t from 'tap';
import { silentLogger } from './logger.js';
import { RaftLog } from './raft-log.js';
import { MemoryStorage } from './storage.js';
import type { Entry } from './types.js';

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
  t.throws(() => log.slice(5, 7), { code: 'COMPACTED' });
  t.throws(() => log.slice(8, 11), { code: 'UNAVAILABLE' });
  t.same(log.entriesFrom(10), [], 'nothing past the end');
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
