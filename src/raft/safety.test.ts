// Safety (Raft §5.4): the commitment rule of §5.4.2 in the exact Figure 8 situation,
// Leader Completeness (§5.4.1 and §5.4.3), and a small randomized run that checks
// Election Safety and State Machine Safety (Figure 3) under loss, partitions and crashes.
// Groups start at the bootstrap point (index 5, term 5), so the paper's index 1 is our 6
// and its term 2 is our 6.

import t from 'tap';
import type { Test } from 'tap';
import { seededRng } from '../util/rng.js';
import type { Message, NodeId } from './types.js';
import { MemNetwork } from './testing/mem-network.js';
import type { MemNetworkOptions } from './testing/mem-network.js';
import { enc, dec } from '../../test/support/bytes.js';

const IDS = [1, 2, 3, 4, 5];

/** Calls campaign() on `id` (each call is a new term) until it leads, at most `tries` times. */
function campaignUntilLeader(net: MemNetwork, id: NodeId, tries: number): number {
  for (let i = 1; i <= tries; i++) {
    net.node(id).campaign();
    net.stabilize();
    if (net.node(id).status().role === 'leader') return i;
  }
  return -1;
}

const appendFrom = (id: NodeId) => (m: Message) => m.type === 'MsgAppend' && m.from === id;

/**
 * Builds Figure 8 (a)–(c) and returns the group with S1 leading term 8, holding the
 * term-6 entry at index 7 on S1, S2 and S3 (a majority), and its own term-8 entry only
 * locally. `opts` may inject the deliberate commit-by-count fault.
 */
function figure8(t: Test, opts: Partial<MemNetworkOptions> = {}): MemNetwork {
  const net = new MemNetwork({ ids: IDS, preVote: false, checkQuorum: false, ...opts });
  // (a) S1 leads term 6 and replicates index 7 (term 6) to S2 only, then crashes.
  net.node(1).campaign();
  net.stabilize();
  for (const to of [3, 4, 5]) net.cutOneWay(1, to);
  net.node(1).propose(enc('from-term-6'));
  net.stabilize();
  t.same([1, 2, 3].map((id) => net.storages.get(id)!.lastIndex()), [7, 7, 6], '(a) index 7 is on S1 and S2 only');
  net.crash(1);
  net.heal();

  // (b) S5 wins term 7 with votes from S3, S4 and itself, appends index 7 (term 7), crashes.
  net.drop(appendFrom(5));
  t.equal(campaignUntilLeader(net, 5, 1), 1, '(b) S5 wins at once');
  t.same([net.node(5).status().term, net.storages.get(5)!.term(7)], [7, 7], '(b) S5 holds (7, term 7) alone');
  net.crash(5);
  net.heal();

  // (c) S1 restarts and wins term 8 (S3 and S4 already voted in term 7). It replicates
  // the old entry to S3 but its own term-8 entry gets nowhere, and S4 hears nothing.
  net.recover(1);
  net.drop((m) => appendFrom(1)(m) && m.to === 4);
  net.rewrite((m) => m.type === 'MsgAppend' && m.from === 1
    ? { ...m, entries: m.entries.filter((e) => e.term < 8) }
    : m);
  t.equal(campaignUntilLeader(net, 1, 2), 2, '(c) S1 loses term 7 and wins term 8');
  t.equal(net.node(1).status().term, 8);
  t.same([1, 2, 3].map((id) => net.storages.get(id)!.term(7)), [6, 6, 6], '(c) index 7 (term 6) is on a majority');
  t.same([net.node(1).progress(2)?.match, net.node(1).progress(3)?.match], [7, 7], '(c) and the leader knows it');
  t.equal(net.storages.get(1)!.term(8), 8, '(c) S1\'s own entry of term 8 is at index 8');
  return net;
}

t.test('Raft §5.4.2, Figure 8: an old-term entry on a majority is not committed by counting replicas', async (t) => {
  const net = figure8(t);
  t.equal(net.node(1).status().commit, 6, 'index 7 is NOT committed: S5 could still overwrite it');
  t.same(net.applied.get(1)!.map((e) => e.index), [6], 'and nothing past 6 is applied');

  // (e) Once S1's own term-8 entry reaches a majority, it and everything before it commit.
  net.heal();
  net.tick(1); // a heartbeat round lets S1 send its term-8 entry
  net.stabilize();
  t.equal(net.node(1).status().commit, 8, 'committing index 8 (term 8) commits index 7 indirectly');
  for (const id of [1, 2, 3, 4]) {
    t.same(net.applied.get(id)!.filter((e) => e.index >= 7).map((e) => [e.index, e.term, dec(e.data)]),
      [[7, 6, 'from-term-6'], [8, 8, '']], `S${id} applies 7 then 8`);
  }
  // S5 can no longer win: its last entry (7, term 7) is behind a majority's (8, term 8).
  net.recover(5);
  net.crash(1);
  t.equal(campaignUntilLeader(net, 5, 3), -1, 'S5 cannot be elected any more');
});

t.test('Raft §5.4.2, Figure 8: counting old-term replicas (a deliberate fault) loses a committed entry', async (t) => {
  // The same scenario with the commitment rule broken shows what the check above guards.
  const net = figure8(t, { config: { faults: { commitPreviousTermByCount: true } } });
  t.equal(net.node(1).status().commit, 7, 'the faulty leader commits index 7 by counting');
  t.same(net.applied.get(2)!.map((e) => [e.index, e.term]), [[6, 6], [7, 6]], 'S2 applies (7, term 6)');
  net.crash(1);
  net.heal();
  net.recover(5);
  net.drop(appendFrom(5));
  // S5's last entry (7, term 7) beats the (7, term 6) that S2, S3 and S4 hold, so S5 wins
  // term 9: a leader without the "committed" entry, which its appends would overwrite.
  t.equal(campaignUntilLeader(net, 5, 2), 2, 'S5 wins term 9');
  t.same([net.node(5).status().term, net.storages.get(5)!.term(7)], [9, 7], 'Leader Completeness is broken');
});

t.test('Raft §5.4.1: a node missing a committed entry cannot win an election', async (t) => {
  const net = new MemNetwork({ ids: IDS, preVote: false, checkQuorum: false, seed: 5 });
  net.node(1).campaign();
  net.stabilize();
  net.drop((m) => appendFrom(1)(m) && (m.to === 4 || m.to === 5));
  const { index, term } = net.node(1).propose(enc('committed'));
  net.stabilize();
  t.equal(net.node(1).status().commit, index, 'committed on S1, S2, S3');
  net.crash(1);
  net.heal();
  for (const id of [4, 5]) t.equal(campaignUntilLeader(net, id, 4), -1, `S${id} (missing index ${index}) never wins`);

  for (let i = 0; i < 300 && net.leader() === undefined; i++) {
    net.tickAll();
    net.stabilize();
  }
  const lead = net.leader();
  t.ok(lead === 2 || lead === 3, `the new leader (${lead}) is one that holds the entry`);
  for (const id of [2, 3, 4, 5]) {
    const e = net.applied.get(id)!.find((x) => x.index === index);
    t.same(e && [e.term, dec(e.data)], [term, 'committed'], `S${id} applies the committed entry`);
  }
});

t.test('Raft §5.2/§5.4, Figure 3: Election Safety and State Machine Safety under faults (randomized)', async (t) => {
  for (let seed = 1; seed <= 25; seed++) {
    const failure = randomRun(seed, 400);
    if (failure) {
      t.fail(`seed ${seed}: ${failure}`);
      return;
    }
  }
  t.pass('25 seeds, no violation');
});

/** One randomized run; returns a description of the first violation, if any. */
function randomRun(seed: number, steps: number): string | undefined {
  const rng = seededRng(seed);
  const net = new MemNetwork({ ids: IDS, seed, preVote: seed % 2 === 0, checkQuorum: seed % 3 !== 0 });
  let lossy = false;
  net.drop(() => lossy && rng.next() < 0.2);
  const leaderOfTerm = new Map<number, NodeId>();
  const appliedAt = new Map<number, string>();
  const down = new Set<NodeId>();
  let proposals = 0;
  for (let step = 0; step < steps; step++) {
    const r = rng.next();
    if (r < 0.05) {
      net.heal();
      net.drop(() => lossy && rng.next() < 0.2);
      net.isolate(IDS[rng.intBetween(0, 5)]!);
    } else if (r < 0.1) {
      net.heal();
      lossy = rng.next() < 0.5;
      net.drop(() => lossy && rng.next() < 0.2);
    } else if (r < 0.13 && down.size < 2) {
      const id = IDS[rng.intBetween(0, 5)]!;
      if (!down.has(id)) { net.crash(id); down.add(id); }
    } else if (r < 0.18 && down.size > 0) {
      const id = [...down][0]!;
      net.recover(id);
      down.delete(id);
    } else if (r < 0.4) {
      const lead = net.leader();
      if (lead !== undefined) net.node(lead).propose(enc(`s${seed}-p${proposals++}`));
    } else {
      net.tickAll();
    }
    net.stabilize();
    for (const [id, n] of net.nodes) {
      const s = n.status();
      if (s.role !== 'leader') continue;
      const prev = leaderOfTerm.get(s.term);
      if (prev !== undefined && prev !== id) return `step ${step}: two leaders (${prev}, ${id}) in term ${s.term}`;
      leaderOfTerm.set(s.term, id);
    }
    for (const [id, ents] of net.applied) {
      for (let i = 0; i < ents.length; i++) {
        const e = ents[i]!;
        if (i > 0 && e.index !== ents[i - 1]!.index + 1) return `step ${step}: node ${id} applied out of order`;
        const key = `${e.term}:${dec(e.data)}`;
        const had = appliedAt.get(e.index);
        if (had !== undefined && had !== key) return `step ${step}: index ${e.index} applied as ${had} and ${key}`;
        appliedAt.set(e.index, key);
      }
    }
  }
  if (leaderOfTerm.size === 0 || appliedAt.size < 20) return `the run made too little progress (${appliedAt.size} applied)`;
  return undefined;
}
