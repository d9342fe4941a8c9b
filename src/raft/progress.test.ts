// Unit tests of the leader's per-follower bookkeeping (Raft §5.3: nextIndex/matchIndex)
// and of the inflights window that bounds optimistic replication.

import t from 'tap';
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';

t.test('Inflights: fills to capacity, frees by acknowledged index, resets', async (t) => {
  const w = new Inflights(3);
  t.same([w.count, w.full()], [0, false]);
  w.add(5);
  w.add(8);
  w.add(12);
  t.same([w.count, w.full()], [3, true]);
  t.throws(() => w.add(13), 'no slot beyond capacity');
  w.freeLE(7);
  t.same([w.count, w.full()], [2, false], 'ack of 7 frees the message ending at 5 only');
  w.freeLE(8);
  t.equal(w.count, 1, 'ack of exactly 8 frees the message ending at 8');
  w.freeLE(4);
  t.equal(w.count, 1, 'an old ack frees nothing');
  w.add(15);
  w.freeFirst();
  t.equal(w.count, 1, 'freeFirst drops the oldest slot');
  w.freeLE(14);
  t.equal(w.count, 1, 'which was 12: 15 is still in flight');
  w.freeLE(100);
  t.equal(w.count, 0);
  w.freeFirst();
  t.equal(w.count, 0, 'freeFirst on an empty window is harmless');
  w.add(1);
  w.reset();
  t.same([w.count, w.full()], [0, false]);
});

t.test('Progress: a probe sends one append at a time', async (t) => {
  const pr = new Progress(11, 4);
  t.same([pr.state, pr.match, pr.next, pr.isPaused()], ['probe', 0, 11, false]);
  pr.sentEntries(12, 2);
  t.same([pr.next, pr.isPaused()], [11, true], 'probe: next does not move; paused until an answer');
  t.equal(pr.maybeUpdate(12), true);
  t.same([pr.match, pr.next, pr.isPaused()], [12, 13, false], 'an ack sets match and next and unpauses');
  t.equal(pr.maybeUpdate(10), false, 'an older ack is not news');
  t.same([pr.match, pr.next], [12, 13], 'and moves nothing back');
});

t.test('Progress: replicate streams appends within the inflights window', async (t) => {
  const pr = new Progress(11, 2);
  pr.maybeUpdate(10);
  pr.becomeReplicate();
  t.same([pr.state, pr.next, pr.isPaused()], ['replicate', 11, false]);
  pr.sentEntries(13, 3);
  pr.sentEntries(15, 2);
  t.same([pr.next, pr.inflights.count, pr.isPaused()], [16, 2, true], 'next runs ahead; the full window pauses');
  pr.sentEntries(15, 0);
  t.same([pr.next, pr.inflights.count], [16, 2], 'an empty append takes no slot');
  pr.maybeUpdate(13);
  pr.inflights.freeLE(13);
  t.same([pr.match, pr.next, pr.isPaused()], [13, 16, false], 'an ack frees a slot without moving next back');
});

t.test('Progress: maybeDecrTo in replicate falls back to match + 1, ignoring stale rejections', async (t) => {
  const pr = new Progress(1, 8);
  pr.maybeUpdate(20);
  pr.becomeReplicate();
  pr.sentEntries(30, 10);
  t.equal(pr.maybeDecrTo(20, 5), 'stale', 'a rejection at or below match is stale');
  t.equal(pr.next, 31);
  t.equal(pr.maybeDecrTo(25, 5), 'backtrack');
  t.equal(pr.next, 21, 'replicate ignores the hint and restarts from match + 1');
});

t.test('Progress: maybeDecrTo in probe uses the hint, bounded by the rejected index and by match', async (t) => {
  const probeAt = (next: number, match: number) => {
    const pr = new Progress(next, 8);
    if (match > 0) { pr.maybeUpdate(match); pr.next = next; }
    pr.sentEntries(next, 1);
    return pr;
  };
  let pr = probeAt(31, 0);
  t.equal(pr.maybeDecrTo(29, 10), 'stale', 'only the rejection of the probed index (next - 1) counts');
  t.same([pr.next, pr.isPaused()], [31, true], 'a stale rejection sends nothing');
  t.equal(pr.maybeDecrTo(30, 10), 'backtrack');
  t.same([pr.next, pr.isPaused()], [11, false], 'jumps to hint + 1 and may probe again');

  pr = probeAt(31, 0);
  pr.maybeDecrTo(30, 40);
  t.equal(pr.next, 30, 'a hint above the rejected index cannot move next past it');

  pr = probeAt(31, 15);
  pr.maybeDecrTo(30, 3);
  t.equal(pr.next, 16, 'never below match + 1 while the rejection is above match');

  pr = probeAt(2, 0);
  pr.maybeDecrTo(1, 0);
  t.equal(pr.next, 1, 'never below 1');
});

t.test('Progress: a probe rejected at match means the follower lost its log: forget match, go to the hint', async (t) => {
  const pr = new Progress(1, 8);
  pr.maybeUpdate(93);
  pr.becomeProbe();
  pr.sentEntries(94, 1);
  t.equal(pr.maybeDecrTo(93, 5), 'lostLog');
  t.same([pr.match, pr.next, pr.isPaused()], [0, 6, false], 'probes again right after the hint');
  // Every rejection that is acted on moves next strictly back, so probing cannot loop.
  pr.sentEntries(6, 1);
  t.equal(pr.maybeDecrTo(93, 5), 'stale', 'the same rejection again is stale');

  const bug = new Progress(1, 8);
  bug.maybeUpdate(93);
  bug.becomeProbe();
  bug.sentEntries(94, 1);
  t.equal(bug.maybeDecrTo(93, 5, true), 'backtrack', 'unpacedProbes (the planted bug) resends');
  t.same([bug.match, bug.next], [93, 94], '... at the same index, for ever');
});

t.test('Progress: snapshot state pauses appends and ignores rejections; probing resumes after the snapshot', async (t) => {
  const pr = new Progress(1, 8);
  pr.maybeUpdate(10);
  pr.becomeSnapshot(50);
  t.same([pr.state, pr.pendingSnapshot, pr.isPaused()], ['snapshot', 50, true]);
  t.equal(pr.maybeDecrTo(pr.next - 1, 3), 'stale', 'a rejection does not end a snapshot');
  pr.becomeProbe();
  t.same([pr.state, pr.next, pr.pendingSnapshot], ['probe', 51, 0], 'probes from the snapshot on');
  pr.becomeSnapshot(50);
  pr.pendingSnapshot = 0; // a failed snapshot: the leader forgets it
  pr.becomeProbe();
  t.equal(pr.next, 11, 'after a failed snapshot, from match + 1');
});

t.test('Progress: becomeProbe and becomeReplicate restart from match + 1 with a clean window', async (t) => {
  const pr = new Progress(1, 2);
  pr.maybeUpdate(7);
  pr.becomeReplicate();
  pr.sentEntries(9, 2);
  pr.sentEntries(11, 2);
  t.equal(pr.isPaused(), true);
  pr.becomeProbe();
  t.same([pr.state, pr.next, pr.inflights.count, pr.isPaused()], ['probe', 8, 0, false]);
  pr.sentEntries(8, 1);
  pr.becomeReplicate();
  t.same([pr.state, pr.next, pr.probeSent, pr.isPaused()], ['replicate', 8, false, false]);
  pr.state = 'snapshot';
  t.equal(pr.isPaused(), true, 'a follower waiting for a snapshot gets no appends');
});
