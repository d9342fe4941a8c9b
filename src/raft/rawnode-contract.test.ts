// The RawNode contract (the application side of Raft §5 and Figure 2's "respond to RPCs
// only after updating stable storage"): Ready carries hard state only when it changed;
// whatever a message promises (a vote, a stored entry) is durable once that Ready is
// persisted; committed entries come once each, in order, and survive a restart with
// `applied`; soft state reports role and leader changes; step refuses local messages.

import t from 'tap';
import { MemoryStorage } from './storage.js';
import { seededRng } from '../util/rng.js';
import type { Message, NodeId, Ready } from './types.js';
import { drainMessages, MemNetwork, newTestNode, persistReady, storageWithLog } from './testing/mem-network.js';
import { enc } from '../../test/support/bytes.js';

t.test('Figure 2: hardState appears in a Ready only when term, vote or commit changed', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st);
  t.equal(n.hasReady(), false, 'a fresh node has nothing to do');
  n.campaign();
  t.same(persistReady(n, st).hardState, { term: 6, vote: 1, commit: 5 }, 'campaign: term and vote');
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: false });
  const won = persistReady(n, st);
  t.equal(won.hardState, undefined, 'winning changes no durable field');
  t.same(won.entries.map((e) => e.index), [6]);
  n.step({ type: 'MsgAppendResponse', from: 2, to: 1, term: 6, index: 6, reject: false, rejectHint: 0, logTerm: 0 });
  t.same(persistReady(n, st).hardState, { term: 6, vote: 1, commit: 6 }, 'commit advanced');
  n.tick();
  const beat = persistReady(n, st);
  t.equal(beat.hardState, undefined, 'a heartbeat changes nothing durable');
  t.ok(beat.messages.length > 0);
});

t.test('Figure 2: a follower\'s acknowledgement travels in the same Ready as the entries it acknowledges', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(2, st);
  n.step({
    type: 'MsgAppend', from: 1, to: 2, term: 6, index: 5, logTerm: 5, commit: 5,
    entries: [6, 7].map((index) => ({ index, term: 6, type: 'normal' as const, data: enc(`e${index}`) })),
  });
  const rd = n.ready();
  t.same(rd.entries.map((e) => e.index), [6, 7], 'the entries to persist');
  t.same(rd.hardState, { term: 6, vote: 0, commit: 5 });
  t.same(rd.messages.map((m) => m.type === 'MsgAppendResponse' && [m.to, m.index, m.reject]), [[1, 7, false]],
    'the ack is released with them, to be sent after they are durable');
  st.append(rd.entries);
  n.advance(rd);
  t.equal(n.hasReady(), false, 'no second copy of the ack or entries');
});

interface Counts { appends: number; acks: number; votes: number; requests: number }

/** Checks every Ready's messages against the storage state right after persisting it. */
function checkDurableBeforeSend(id: NodeId, rd: Ready, st: MemoryStorage, counts: Counts): string | undefined {
  const hs = st.initialState().hardState;
  const termAt = (i: number) => (i >= st.firstIndex() - 1 && i <= st.lastIndex() ? st.term(i) : -1);
  for (const m of rd.messages as Message[]) {
    if (m.type === 'MsgAppend') {
      counts.appends++;
      if (termAt(m.index) !== m.logTerm) return `${id}: append refers to (${m.index}, ${m.logTerm}) not in storage`;
      for (const e of m.entries) if (termAt(e.index) !== e.term) return `${id}: sends entry ${e.index} before persisting it`;
    } else if (m.type === 'MsgAppendResponse' && !m.reject && m.term === hs.term && m.index > 0) {
      counts.acks++;
      if (m.index > st.lastIndex()) return `${id}: acks ${m.index} but stored only up to ${st.lastIndex()}`;
    } else if (m.type === 'MsgRequestVoteResponse' && !m.reject) {
      counts.votes++;
      if (hs.term !== m.term || hs.vote !== m.to) return `${id}: grants ${m.to} in ${m.term} but stored vote ${hs.vote} in ${hs.term}`;
    } else if (m.type === 'MsgRequestVote') {
      counts.requests++;
      if (hs.term !== m.term || hs.vote !== id) return `${id}: asks for votes in ${m.term} before storing its self-vote`;
    }
  }
  return undefined;
}

t.test('Figure 2: no message goes out before what it promises is in stable storage (randomized)', async (t) => {
  const counts: Counts = { appends: 0, acks: 0, votes: 0, requests: 0 };
  for (let seed = 1; seed <= 10; seed++) {
    const rng = seededRng(seed);
    const net = new MemNetwork({ ids: [1, 2, 3, 4, 5], seed, preVote: seed % 2 === 0 });
    let problem: string | undefined;
    net.observeReady((id, rd, st) => { problem ??= checkDurableBeforeSend(id, rd, st, counts); });
    net.drop(() => rng.next() < 0.1);
    for (let step = 0; step < 300 && problem === undefined; step++) {
      const r = rng.next();
      if (r < 0.05) {
        net.heal();
        net.drop(() => rng.next() < 0.1);
        net.isolate(rng.intBetween(1, 6));
      } else if (r < 0.3) {
        const lead = net.leader();
        if (lead !== undefined) net.node(lead).proposeBatch([enc(`${step}a`), enc(`${step}b`)]);
      } else {
        net.tickAll();
      }
      net.stabilize();
    }
    if (problem !== undefined) {
      t.fail(`seed ${seed}: ${problem}`);
      return;
    }
  }
  t.ok(counts.appends > 100 && counts.acks > 100 && counts.votes > 5 && counts.requests > 5,
    `every kind of promise was checked: ${JSON.stringify(counts)}`);
});

t.test('committedEntries come once each and in log order', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3], seed: 9 });
  net.node(1).campaign();
  net.stabilize();
  for (let i = 0; i < 30; i++) {
    net.node(1).propose(enc(`p${i}`));
    if (i % 3 === 0) net.tickAll();
    if (i % 4 === 0) net.stabilize();
  }
  net.stabilize();
  for (const id of [1, 2, 3]) {
    const idx = net.applied.get(id)!.map((e) => e.index);
    t.same(idx, Array.from({ length: 31 }, (_, i) => 6 + i), `node ${id} applied 6..36 exactly once each`);
    t.equal(net.node(id).status().applied, 36);
  }
});

t.test('a restart with `applied` resumes applying after it, never before', async (t) => {
  const mk = () => storageWithLog([1, 2, 3], [6, 6, 6, 6], { commit: 9 });
  const first = (applied?: number) => {
    const st = mk();
    const n = newTestNode(2, st, applied === undefined ? {} : { applied });
    return { n, rd: n.hasReady() ? persistReady(n, st) : undefined };
  };
  t.same(first().rd?.committedEntries.map((e) => e.index), [6, 7, 8, 9], 'without applied: the whole committed log');
  const { n, rd } = first(7);
  t.same(rd?.committedEntries.map((e) => e.index), [8, 9], 'with applied 7: 8 and 9 only');
  t.same([n.status().applied, n.status().commit, n.status().term], [9, 9, 6]);
  t.equal(first(9).rd, undefined, 'with applied = commit: nothing to do');
  t.throws(() => first(10), 'applied beyond commit is refused');
});

t.test('softState reports each role and leader change, and only changes', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st);
  const soft: unknown[] = [];
  const pump = () => { while (n.hasReady()) soft.push(persistReady(n, st).softState ?? null); };
  n.campaign();
  pump();
  n.step({ type: 'MsgRequestVoteResponse', from: 3, to: 1, term: 6, reject: false });
  pump();
  n.tick();
  pump();
  n.step({ type: 'MsgHeartbeat', from: 3, to: 1, term: 8, commit: 5, context: new Uint8Array() });
  pump();
  t.same(soft, [
    { role: 'candidate', lead: 0 },
    { role: 'leader', lead: 1 },
    null,
    { role: 'follower', lead: 3 },
  ]);
});

t.test('step refuses local messages and messages for another node', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st);
  for (const type of ['MsgHup', 'MsgBeat', 'MsgCheckQuorum'] as const) {
    t.throws(() => n.step({ type, from: 2, to: 1, term: 6 }), { name: 'TypeError' }, `${type} cannot come from the network`);
  }
  t.throws(() => n.step({ type: 'MsgPropose', from: 2, to: 1, term: 6, entries: [{ type: 'normal', index: 0, term: 0, data: new Uint8Array([1]) }] }),
    { name: 'TypeError' }, 'MsgPropose cannot come from the network (propose() is the way in)');
  t.throws(() => n.step({ type: 'MsgHeartbeat', from: 2, to: 1, term: 0, commit: 5, context: new Uint8Array() }), { name: 'TypeError' },
    'a network message with term 0 would skip the term checks');
  t.throws(() => n.step({ type: 'MsgHeartbeat', from: 2, to: 3, term: 6, commit: 5, context: new Uint8Array() }), { name: 'TypeError' },
    'a message addressed to node 3');
  t.same([n.status().role, n.status().term, n.hasReady()], ['follower', 5, false], 'and nothing happened');
});

t.test('advance without an outstanding Ready is refused; ready/advance alternate', async (t) => {
  const st = new MemoryStorage([1], 5, 5);
  const n = newTestNode(1, st);
  t.throws(() => n.advance({ entries: [], committedEntries: [], messages: [], readStates: [] }));
  n.campaign();
  const rd = persistReady(n, st);
  t.same(rd.committedEntries.map((e) => e.index), [6], 'a single voter commits its entry at once');
  t.throws(() => n.advance(rd), 'the same Ready cannot be advanced twice');
  n.propose(enc('x'));
  const rd2 = persistReady(n, st);
  t.same([rd2.entries.map((e) => e.index), rd2.committedEntries.map((e) => e.index)], [[7], [7]]);
  t.equal(drainMessages(n, st).length, 0);
});
