// Unit tests of majority arithmetic (Raft §5.2 elections, §5.3/§5.4.2 commitment):
// quorum sizes, the index acknowledged by a quorum, and election outcomes.

import t from 'tap';
import { MajorityConfig } from './quorum.js';

const votes = (entries: Array<[number, boolean]>) => new Map(entries);

t.test('Raft §5.2: a quorum is a strict majority of the voters', async (t) => {
  const sizes = [1, 2, 3, 4, 5, 6, 7].map((n) => new MajorityConfig(Array.from({ length: n }, (_, i) => i + 1)).quorum());
  t.same(sizes, [1, 2, 2, 3, 3, 4, 4]);
  t.same(new MajorityConfig([3, 1, 3, 2, 1]).voters, [1, 2, 3], 'voters are deduplicated and sorted');
});

t.test('Raft §5.3: committedIndex is the highest index a quorum has acknowledged', async (t) => {
  const cases: Array<{ voters: number[]; acked: Record<number, number>; want: number; why: string }> = [
    { voters: [1], acked: { 1: 9 }, want: 9, why: 'a single voter' },
    { voters: [1, 2, 3], acked: { 1: 9, 2: 4, 3: 7 }, want: 7, why: 'middle of three' },
    { voters: [1, 2, 3], acked: { 1: 9 }, want: 0, why: 'missing acks count as 0' },
    { voters: [1, 2, 3, 4], acked: { 1: 10, 2: 8, 3: 5, 4: 1 }, want: 5, why: 'four voters need three' },
    { voters: [1, 2, 3, 4, 5], acked: { 1: 12, 2: 12, 3: 3, 4: 11, 5: 2 }, want: 11, why: 'third highest of five' },
    { voters: [1, 2, 3], acked: { 1: 9, 2: 9, 7: 20, 8: 20 }, want: 9, why: 'non-voters do not count' },
    // Not the index of no one's acknowledgement (undefined): an empty config limits nothing.
    { voters: [], acked: { 1: 9 }, want: Number.MAX_SAFE_INTEGER, why: 'no voters: nothing constrains commit' },
  ];
  for (const c of cases) {
    const cfg = new MajorityConfig(c.voters);
    t.equal(cfg.committedIndex((id) => c.acked[id]), c.want, c.why);
  }
});

t.test('Raft §5.2: voteResult is won, lost or pending', async (t) => {
  const five = new MajorityConfig([1, 2, 3, 4, 5]);
  t.equal(five.voteResult(votes([[1, true], [2, true]])), 'pending', '2 yes, 3 unknown');
  t.equal(five.voteResult(votes([[1, true], [2, true], [3, true]])), 'won');
  t.equal(five.voteResult(votes([[1, true], [2, false], [3, false]])), 'pending', 'could still reach 3');
  t.equal(five.voteResult(votes([[1, true], [2, false], [3, false], [4, false]])), 'lost');
  t.equal(five.voteResult(votes([[1, true], [6, true], [7, true]])), 'pending', 'votes of non-voters are ignored');
  const four = new MajorityConfig([1, 2, 3, 4]);
  t.equal(four.voteResult(votes([[1, true], [2, true], [3, false], [4, false]])), 'lost', 'a 2-2 split loses');
  t.equal(new MajorityConfig([1]).voteResult(votes([[1, true]])), 'won');
  t.equal(new MajorityConfig([]).voteResult(votes([])), 'won', 'an empty config constrains nothing');
});

t.test('the deliberate minority-quorum fault is confined to its flag', async (t) => {
  const broken = new MajorityConfig([1, 2, 3, 4, 5], true);
  t.equal(broken.quorum(), 2);
  t.equal(broken.voteResult(votes([[1, true], [2, true]])), 'won', 'the fault lets two of five win');
  t.equal(new MajorityConfig([1, 2, 3, 4, 5], false).voteResult(votes([[1, true], [2, true]])), 'pending');
});
