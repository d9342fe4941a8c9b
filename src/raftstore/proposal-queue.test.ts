// ProposalQueue: every proposal is settled exactly once — resolved when its (index, term)
// applies, StaleCommand when another term's entry takes its index or a later index applies
// first, or the failAll error — and nothing is settled after that.

import t from 'tap';
import type { Proposal } from './proposal-queue.js';
import { ProposalQueue } from './proposal-queue.js';
import { StaleCommandError } from './errors.js';

interface Tracked {
  readonly proposal: Proposal<string>;
  /** Every settlement, in order; exactly-once means this ends with length 1. */
  readonly settled: Array<{ ok: true; value: string } | { ok: false; error: Error }>;
}

function track(index: number, term: number): Tracked {
  const settled: Tracked['settled'] = [];
  return {
    settled,
    proposal: {
      index, term,
      resolve: (value) => settled.push({ ok: true, value }),
      reject: (error) => settled.push({ ok: false, error }),
    },
  };
}

/** What the peer does with an applied entry: take its proposal and resolve it. */
function apply(q: ProposalQueue<string>, index: number, term: number): Proposal<string> | undefined {
  const p = q.take(index, term);
  p?.resolve(`applied ${index}/${term}`);
  return p;
}

t.test('a proposal is resolved when its (index, term) applies', async (t) => {
  const q = new ProposalQueue<string>();
  const a = track(6, 2);
  const b = track(7, 2);
  q.push(a.proposal);
  q.push(b.proposal);
  t.equal(q.size, 2);
  t.equal(apply(q, 6, 2), a.proposal, 'take returns the proposal for (6, 2)');
  t.same(a.settled, [{ ok: true, value: 'applied 6/2' }]);
  t.same(b.settled, [], 'the later proposal is still waiting');
  t.equal(q.size, 1);
  t.equal(apply(q, 7, 2), b.proposal);
  t.same(b.settled, [{ ok: true, value: 'applied 7/2' }]);
  t.equal(q.size, 0);
});

t.test('an entry applied below every proposal takes none of them', async (t) => {
  const q = new ProposalQueue<string>();
  const a = track(10, 3);
  q.push(a.proposal);
  t.equal(q.take(8, 3), undefined, 'index 8 belongs to no proposal');
  t.equal(q.take(9, 2), undefined, 'index 9 of another term belongs to no proposal');
  t.same(a.settled, [], 'the proposal at 10 is untouched');
  t.equal(q.size, 1);
});

t.test('StaleCommand when another term\'s entry takes the index', async (t) => {
  const q = new ProposalQueue<string>();
  const a = track(6, 2);
  const b = track(7, 2);
  q.push(a.proposal);
  q.push(b.proposal);
  t.equal(q.take(6, 3), undefined, 'no proposal waits for (6, 3)');
  t.equal(a.settled.length, 1);
  const s = a.settled[0]!;
  t.ok(!s.ok && s.error instanceof StaleCommandError, 'rejected with StaleCommandError');
  if (!s.ok) {
    t.equal((s.error as StaleCommandError).code, 'STALE_COMMAND');
    t.match(s.error.message, /entry 6 of term 2 was replaced by term 3/);
  }
  t.same(b.settled, [], 'the proposal after it is untouched');
  t.equal(q.size, 1);
});

t.test('StaleCommand when a later index applies while a proposal still waits', async (t) => {
  const q = new ProposalQueue<string>();
  const a = track(6, 2);
  const b = track(7, 2);
  const c = track(9, 2);
  q.push(a.proposal);
  q.push(b.proposal);
  q.push(c.proposal);
  t.equal(apply(q, 8, 4), undefined, 'index 8 of term 4 applies first');
  for (const x of [a, b]) {
    t.equal(x.settled.length, 1);
    t.ok(!x.settled[0]!.ok && x.settled[0]!.error instanceof StaleCommandError, `${x.proposal.index} is stale`);
  }
  t.same(c.settled, [], 'the proposal at 9 still waits');
  t.equal(apply(q, 9, 2), c.proposal);
  t.same(c.settled, [{ ok: true, value: 'applied 9/2' }]);
});

t.test('failAll rejects everything pending, and nothing is settled afterwards', async (t) => {
  const q = new ProposalQueue<string>();
  const done = track(6, 2);
  const ps = [track(7, 2), track(8, 2), track(9, 2)];
  q.push(done.proposal);
  for (const p of ps) q.push(p.proposal);
  apply(q, 6, 2);
  const reason = new Error('peer stopped');
  q.failAll(reason);
  t.equal(q.size, 0);
  for (const p of ps) t.same(p.settled, [{ ok: false, error: reason }], `proposal ${p.proposal.index} rejected once with the reason`);
  t.same(done.settled, [{ ok: true, value: 'applied 6/2' }], 'the applied proposal is not rejected again');

  // Later applies, a second failAll, and stale takes find nothing to settle.
  t.equal(apply(q, 7, 2), undefined);
  t.equal(apply(q, 9, 2), undefined);
  q.failAll(new Error('again'));
  for (const p of ps) t.equal(p.settled.length, 1, `proposal ${p.proposal.index} was settled exactly once`);
  t.equal(done.settled.length, 1);

  // The queue is usable again, e.g. by a new term's proposals at the same indexes.
  const fresh = track(7, 3);
  q.push(fresh.proposal);
  t.equal(apply(q, 7, 3), fresh.proposal);
  t.same(fresh.settled, [{ ok: true, value: 'applied 7/3' }]);
});

t.test('push refuses a proposal that is not after the last pending one', async (t) => {
  const q = new ProposalQueue<string>();
  q.push(track(7, 2).proposal);
  t.throws(() => q.push(track(7, 2).proposal), /not after 7/);
  t.throws(() => q.push(track(5, 2).proposal), /not after 7/);
  t.equal(q.size, 1);
});

t.test('randomized: every proposal settles exactly once, in the right way', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  let s = seed >>> 0 || 1;
  const rand = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };

  const q = new ProposalQueue<string>();
  const all: Tracked[] = [];
  /** What the log holds at each index once applied: the term of the entry there. */
  const logTerm = new Map<number, number>();
  let term = 1;
  let nextIndex = 1;
  let applied = 0;
  let wrong = 0;
  for (let step = 0; step < 5000; step++) {
    const r = rand();
    if (r < 0.45) {
      const p = track(nextIndex++, term);
      all.push(p);
      q.push(p.proposal);
      logTerm.set(p.proposal.index, rand() < 0.8 ? term : term + 1); // sometimes overwritten later
    } else if (r < 0.9 && applied + 1 < nextIndex) {
      applied++;
      const tm = logTerm.get(applied) ?? term;
      const got = apply(q, applied, tm);
      if (got && (got.index !== applied || got.term !== tm)) wrong++;
    } else if (r < 0.93) {
      q.failAll(new Error('stepped down'));
      term += 2;
      nextIndex = applied + 1;
      logTerm.clear();
    }
  }
  q.failAll(new Error('stopped'));
  const notOnce = all.filter((p) => p.settled.length !== 1).length;
  t.equal(notOnce, 0, `all ${all.length} proposals settled exactly once (seed ${seed})`);
  t.equal(wrong, 0, `no proposal was resolved by an entry other than its own (seed ${seed})`);
  t.ok(all.some((p) => p.settled[0]?.ok) && all.some((p) => p.settled[0] && !p.settled[0].ok), 'the run both resolved and rejected');
  t.equal(q.size, 0);
});
