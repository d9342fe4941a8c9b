// Leader election (Raft §5.2) and the election restriction (§5.4.1), tested on single
// nodes driven by hand-built messages and on small MemNetwork groups. Every group is
// bootstrapped at index 5, term 5 (see MemNetwork), so a first election is for term 6.

import t from 'tap';
import { MemoryStorage } from './storage.js';
import { seededRng } from '../util/rng.js';
import type { Message, MsgRequestVote, NodeId, Term } from './types.js';
import { drainMessages, MemNetwork, newTestNode, persistReady, storageWithLog } from './testing/mem-network.js';
import type { RawNode } from './raw-node.js';

const voteReq = (from: NodeId, to: NodeId, term: Term, index: number, logTerm: Term): MsgRequestVote =>
  ({ type: 'MsgRequestVote', from, to, term, index, logTerm });

const votesFrom = (msgs: readonly Message[], type: Message['type']) =>
  msgs.filter((m) => m.type === type).map((m) => ({ to: m.to, term: m.term, reject: 'reject' in m ? m.reject : undefined }));

/** Ticks a node until it leaves the follower role; returns how many ticks that took. */
function ticksUntilCampaign(n: RawNode, limit: number): number {
  for (let i = 1; i <= limit; i++) {
    n.tick();
    if (n.status().role !== 'follower') return i;
  }
  return -1;
}

/** Node 1 of voters [1, 2, 3] made leader of term 6 by hand; its Readies drained. */
function handMadeLeader(config = {}): { n: RawNode; st: MemoryStorage } {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st, config);
  n.campaign();
  drainMessages(n, st);
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: false });
  drainMessages(n, st);
  return { n, st };
}

t.test('Raft §5.2: the first election timeout is random in [electionTick, 2·electionTick)', async (t) => {
  const seen = new Map<number, number>();
  for (let seed = 1; seed <= 300; seed++) {
    const n = newTestNode(1, new MemoryStorage([1, 2, 3], 5, 5), { electionTick: 10, rng: seededRng(seed) });
    const ticks = ticksUntilCampaign(n, 100);
    if (ticks < 10 || ticks > 19) t.fail(`seed ${seed}: campaigned after ${ticks} ticks`);
    seen.set(ticks, (seen.get(ticks) ?? 0) + 1);
  }
  t.same([...seen.keys()].sort((a, b) => a - b), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    'over 300 seeds every timeout in range occurs, and nothing outside it');
});

t.test('Raft §5.2: each new election draws a fresh random timeout', async (t) => {
  // A lone candidate of a 3-voter group never wins; each timeout starts a new term.
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st, { electionTick: 10, rng: seededRng(42) });
  const gaps: number[] = [];
  let lastTerm = n.status().term;
  let since = 0;
  for (let i = 0; i < 2000 && gaps.length < 60; i++) {
    n.tick();
    since++;
    drainMessages(n, st);
    if (n.status().term !== lastTerm) {
      t.equal(n.status().term, lastTerm + 1, 'one term per election');
      gaps.push(since);
      lastTerm = n.status().term;
      since = 0;
    }
  }
  t.equal(gaps.length, 60);
  t.ok(gaps.every((g) => g >= 10 && g < 20), `gaps in range: ${gaps.join(',')}`);
  t.ok(new Set(gaps).size >= 5, 'the timeout varies from one election to the next');
});

t.test('Raft §5.2: at the timeout a follower becomes candidate, votes for itself and asks every peer', async (t) => {
  const st = storageWithLog([1, 2, 3], [6, 6, 7]); // last entry (8, 7)
  const n = newTestNode(1, st);
  t.equal(ticksUntilCampaign(n, 40) > 0, true);
  const rd = persistReady(n, st);
  t.same(rd.hardState, { term: 8, vote: 1, commit: 5 }, 'term incremented and self-vote persisted');
  t.same(rd.softState, { role: 'candidate', lead: 0 });
  t.same(rd.messages.map((m) => m.type === 'MsgRequestVote' && [m.to, m.term, m.index, m.logTerm]),
    [[2, 8, 8, 7], [3, 8, 8, 7]], 'vote requests carry the last log index and term');
});

t.test('Raft §9.6 PreVote: the timeout starts a pre-election; the term moves only once it succeeds', async (t) => {
  const st = storageWithLog([1, 2, 3], [6, 6, 7]);
  const n = newTestNode(1, st, { preVote: true });
  ticksUntilCampaign(n, 40);
  const rd = persistReady(n, st);
  t.equal(rd.hardState, undefined, 'a pre-election changes no durable state');
  t.same(n.status(), { ...n.status(), role: 'preCandidate', term: 7, vote: 0 });
  t.same(rd.messages.map((m) => m.type === 'MsgRequestPreVote' && [m.to, m.term, m.index, m.logTerm]),
    [[2, 8, 8, 7], [3, 8, 8, 7]], 'pre-vote requests name the term the node would stand in');
  n.step({ type: 'MsgRequestPreVoteResponse', from: 3, to: 1, term: 8, reject: false });
  const rd2 = persistReady(n, st);
  t.same(rd2.hardState, { term: 8, vote: 1, commit: 5 });
  t.equal(n.status().role, 'candidate');
  t.same(rd2.messages.map((m) => [m.type, m.to, m.term]), [['MsgRequestVote', 2, 8], ['MsgRequestVote', 3, 8]]);
});

t.test('Raft §5.2: a candidate wins with votes from a majority and then sends AppendEntries', async (t) => {
  const ids = [1, 2, 3, 4, 5];
  const st = new MemoryStorage(ids, 5, 5);
  const n = newTestNode(1, st);
  n.campaign();
  drainMessages(n, st);
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: false });
  n.step({ type: 'MsgRequestVoteResponse', from: 4, to: 1, term: 6, reject: true });
  t.equal(n.status().role, 'candidate', 'two of five votes is not a majority');
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: false });
  t.equal(n.status().role, 'candidate', 'a repeated vote is counted once');
  n.step({ type: 'MsgRequestVoteResponse', from: 3, to: 1, term: 6, reject: false });
  t.equal(n.status().role, 'leader', 'three of five wins');
  t.equal(n.status().lead, 1);
  const rd = persistReady(n, st);
  t.same(rd.entries.map((e) => [e.index, e.term, e.data.length]), [[6, 6, 0]], 'the new leader appends an empty entry of its term');
  const apps = rd.messages.filter((m) => m.type === 'MsgAppend');
  t.same(apps.map((m) => m.to), [2, 3, 4, 5], 'and sends it to every peer');
});

t.test('Raft §5.2: a candidate rejected by a majority goes back to follower in the same term', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st);
  n.campaign();
  drainMessages(n, st);
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: true });
  t.equal(n.status().role, 'candidate');
  n.step({ type: 'MsgRequestVoteResponse', from: 3, to: 1, term: 6, reject: true });
  t.same([n.status().role, n.status().term, n.status().vote], ['follower', 6, 1], 'keeps its own vote for the term');
});

t.test('Raft §5.2: a candidate that hears from a leader of its term or a higher term steps down', async (t) => {
  const cases: Array<{ name: string; m: (term: Term) => Message; term: (t: Term) => Term; lead: NodeId }> = [
    { name: 'append, same term', term: (x) => x, lead: 2,
      m: (x) => ({ type: 'MsgAppend', from: 2, to: 1, term: x, index: 5, logTerm: 5, entries: [], commit: 5 }) },
    { name: 'heartbeat, same term', term: (x) => x, lead: 2,
      m: (x) => ({ type: 'MsgHeartbeat', from: 2, to: 1, term: x, commit: 5, context: new Uint8Array() }) },
    { name: 'snapshot, same term', term: (x) => x, lead: 3,
      m: (x) => ({ type: 'MsgSnapshot', from: 3, to: 1, term: x, snapshot: { data: new Uint8Array(), metadata: { index: 5, term: 5, confState: { voters: [1, 2, 3] } } } }) },
    { name: 'heartbeat, higher term', term: (x) => x + 3, lead: 3,
      m: (x) => ({ type: 'MsgHeartbeat', from: 3, to: 1, term: x + 3, commit: 5, context: new Uint8Array() }) },
    { name: 'vote response, higher term', term: (x) => x + 1, lead: 0,
      m: (x) => ({ type: 'MsgRequestVoteResponse', from: 3, to: 1, term: x + 1, reject: true }) },
  ];
  for (const c of cases) {
    const st = new MemoryStorage([1, 2, 3], 5, 5);
    const n = newTestNode(1, st);
    n.campaign();
    drainMessages(n, st);
    const term = n.status().term;
    n.step(c.m(term));
    const s = n.status();
    t.same([s.role, s.term, s.lead], ['follower', c.term(term), c.lead], c.name);
  }
});

t.test('Raft §5.2: split votes leave no leader; a later timeout elects one in a higher term', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3, 4], preVote: false, checkQuorum: false, seed: 3 });
  // 1 can reach only 2, 3 only 4: each gathers two of four votes.
  net.cutOneWay(1, 4);
  net.cutOneWay(3, 2);
  net.node(1).campaign();
  net.node(3).campaign();
  net.stabilize();
  t.equal(net.leader(), undefined, 'no candidate has a majority');
  t.same([1, 3].map((id) => [net.node(id).status().role, net.node(id).status().term]), [['candidate', 6], ['candidate', 6]]);
  net.heal();
  for (let i = 0; i < 100 && net.leader() === undefined; i++) {
    net.tickAll();
    net.stabilize();
  }
  const lead = net.leader();
  t.not(lead, undefined, 'a leader emerged');
  t.ok(net.node(lead!).status().term > 6, 'in a later term');
  for (const id of [1, 2, 3, 4]) t.equal(net.node(id).status().lead, lead, `node ${id} follows it`);
});

t.test('Raft §5.2: a node votes for at most one candidate per term, even across a restart', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  let n = newTestNode(2, st);
  n.step(voteReq(1, 2, 6, 5, 5));
  t.same(votesFrom(drainMessages(n, st), 'MsgRequestVoteResponse'), [{ to: 1, term: 6, reject: false }]);
  t.same(st.initialState().hardState, { term: 6, vote: 1, commit: 5 }, 'the vote is durable before the answer leaves');
  n.step(voteReq(3, 2, 6, 5, 5));
  t.same(votesFrom(drainMessages(n, st), 'MsgRequestVoteResponse'), [{ to: 3, term: 6, reject: true }], 'second candidate refused');
  n.step(voteReq(1, 2, 6, 5, 5));
  t.same(votesFrom(drainMessages(n, st), 'MsgRequestVoteResponse'), [{ to: 1, term: 6, reject: false }], 'a retransmit is answered again');

  const st2 = st.clone();
  n = newTestNode(2, st2); // crash and restart from durable state
  t.same([n.status().term, n.status().vote], [6, 1]);
  n.step(voteReq(3, 2, 6, 9, 6));
  t.same(votesFrom(drainMessages(n, st2), 'MsgRequestVoteResponse'), [{ to: 3, term: 6, reject: true }], 'still refused after restart');
  n.step(voteReq(3, 2, 7, 5, 5));
  t.same(votesFrom(drainMessages(n, st2), 'MsgRequestVoteResponse'), [{ to: 3, term: 7, reject: false }], 'a new term frees the vote');
});

t.test('Raft §5.4.1: votes go only to candidates whose log is at least as up to date', async (t) => {
  // The voter's log ends at index 8, term 7.
  const cases = [
    { lastIndex: 20, lastTerm: 6, grant: false, why: 'lower last term loses even with a longer log' },
    { lastIndex: 7, lastTerm: 7, grant: false, why: 'same last term, shorter log' },
    { lastIndex: 8, lastTerm: 7, grant: true, why: 'identical last entry' },
    { lastIndex: 9, lastTerm: 7, grant: true, why: 'same last term, longer log' },
    { lastIndex: 6, lastTerm: 8, grant: true, why: 'higher last term wins even with a shorter log' },
  ];
  for (const c of cases) {
    const st = storageWithLog([1, 2, 3], [6, 6, 7]);
    const n = newTestNode(2, st);
    n.step(voteReq(3, 2, 9, c.lastIndex, c.lastTerm));
    const got = votesFrom(drainMessages(n, st), 'MsgRequestVoteResponse');
    t.same(got, [{ to: 3, term: 9, reject: !c.grant }], c.why);
    t.equal(n.status().vote, c.grant ? 3 : 0, `${c.why}: vote recorded only when granted`);
    t.equal(n.status().term, 9, 'the higher term is adopted either way');
  }
});

t.test('Raft §5.2: a leader sends heartbeats to every peer every heartbeatTick ticks', async (t) => {
  const { n, st } = handMadeLeader({ heartbeatTick: 3, electionTick: 10 });
  const beats: number[][] = [];
  for (let i = 1; i <= 9; i++) {
    n.tick();
    const hb = drainMessages(n, st).filter((m) => m.type === 'MsgHeartbeat');
    for (const m of hb) t.equal(m.term, 6);
    if (hb.length > 0) beats.push([i, ...hb.map((m) => m.to)]);
  }
  t.same(beats, [[3, 2, 3], [6, 2, 3], [9, 2, 3]]);
});

t.test('Raft §5.2: AppendEntries and heartbeats from the leader reset a follower\'s election timer', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(2, st, { electionTick: 10 });
  n.step({ type: 'MsgHeartbeat', from: 1, to: 2, term: 6, commit: 5, context: new Uint8Array() });
  drainMessages(n, st);
  // Nine ticks is below the smallest possible timeout; twenty rounds is far beyond the largest.
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 9; i++) n.tick();
    t.equal(n.status().role, 'follower', `round ${round}: no campaign while the leader is heard`);
    const m: Message = round % 2 === 0
      ? { type: 'MsgHeartbeat', from: 1, to: 2, term: 6, commit: 5, context: new Uint8Array() }
      : { type: 'MsgAppend', from: 1, to: 2, term: 6, index: 5, logTerm: 5, entries: [], commit: 5 };
    n.step(m);
    drainMessages(n, st);
  }
  t.equal(n.status().lead, 1);
  const ticks = ticksUntilCampaign(n, 40);
  t.ok(ticks >= 10 && ticks < 20, `once the leader is silent the follower campaigns (after ${ticks} ticks)`);
});

t.test('Raft §5.2: granting a vote also resets the election timer', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(2, st, { electionTick: 10 });
  // The same candidate retransmits in the same term, so no term change resets the timer.
  for (let round = 0; round < 10; round++) {
    n.step(voteReq(3, 2, 6, 5, 5));
    const got = votesFrom(drainMessages(n, st), 'MsgRequestVoteResponse');
    t.same(got, [{ to: 3, term: 6, reject: false }]);
    for (let i = 0; i < 9; i++) n.tick();
  }
  t.equal(n.status().role, 'follower', 'never timed out while granting votes');
});

t.test('Raft §5.2: a follower that knows the leader of its term refuses a vote in that term', async (t) => {
  // Node 2 learned term 6 from its leader's append without voting in it; a candidate of
  // term 6 that missed the election must not get a second leader elected in the term.
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(2, st);
  n.step({ type: 'MsgAppend', from: 1, to: 2, term: 6, index: 5, logTerm: 5, entries: [], commit: 5 });
  drainMessages(n, st);
  t.same([n.status().term, n.status().vote, n.status().lead], [6, 0, 1]);
  n.step(voteReq(3, 2, 6, 5, 5));
  t.same(votesFrom(drainMessages(n, st), 'MsgRequestVoteResponse'), [{ to: 3, term: 6, reject: true }]);
  t.equal(n.status().vote, 0);
});

t.test('Raft §5.2: each voter\'s answer is counted once; a later, different answer does not replace it', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st);
  n.campaign();
  drainMessages(n, st);
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: true });
  // A duplicated or reordered message: node 2 already answered this election.
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: false });
  t.equal(n.status().role, 'candidate', 'one vote of three (its own) is no majority');
  n.step({ type: 'MsgRequestVoteResponse', from: 3, to: 1, term: 6, reject: false });
  t.equal(n.status().role, 'leader', 'node 3\'s vote makes two');
});

t.test('Raft §5.2, thesis §9.6: a single-voter group with PreVote leads a new term at once', async (t) => {
  const st = new MemoryStorage([1], 5, 5);
  const n = newTestNode(1, st, { preVote: true });
  n.campaign();
  const rd = persistReady(n, st);
  t.same([n.status().role, n.status().term], ['leader', 6], 'the pre-election won, then the real election, in term 6');
  t.same(rd.hardState, { term: 6, vote: 1, commit: 6 }, 'the new term and its self-vote are durable; its first entry commits alone');
  t.same(rd.entries.map((e) => [e.index, e.term]), [[6, 6]]);
});

t.test('thesis §9.6: a pre-vote for a term in which the voter already voted for another is refused', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(2, st, { preVote: true });
  n.step(voteReq(3, 2, 6, 5, 5));
  drainMessages(n, st);
  t.same([n.status().term, n.status().vote], [6, 3]);
  // Node 1 missed term 6 and asks whether it could win it: node 2 could not vote for it.
  n.step({ ...voteReq(1, 2, 6, 5, 5), type: 'MsgRequestPreVote' });
  const got = drainMessages(n, st).filter((m) => m.type === 'MsgRequestPreVoteResponse');
  t.same(got.map((m) => m.type === 'MsgRequestPreVoteResponse' && [m.to, m.term, m.reject]), [[1, 6, true]]);
  n.step({ ...voteReq(3, 2, 6, 5, 5), type: 'MsgRequestPreVote' });
  const again = drainMessages(n, st).filter((m) => m.type === 'MsgRequestPreVoteResponse');
  t.same(again.map((m) => m.type === 'MsgRequestPreVoteResponse' && m.reject), [false], 'the candidate it voted for may ask');
});

t.test('Raft §5.2: a leader asked to campaign stays leader of its term', async (t) => {
  // A second election would depose it for nothing and disrupt every follower.
  const { n, st } = handMadeLeader();
  n.campaign();
  const out = drainMessages(n, st);
  t.same([n.status().role, n.status().term], ['leader', 6]);
  t.same(out.filter((m) => m.type === 'MsgRequestVote'), [], 'and asks nobody for a vote');
});

t.test('Raft §5.2: vote requests of an election by timeout are not marked as a leader transfer\'s', async (t) => {
  // A transfer's vote request is the only one a voter grants while it still hears from a
  // leader (CheckQuorum); an ordinary election must not claim that right.
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st, { checkQuorum: true });
  n.campaign();
  const reqs = drainMessages(n, st).filter((m): m is MsgRequestVote => m.type === 'MsgRequestVote');
  t.equal(reqs.length, 2);
  t.same(reqs.map((m) => m.transfer), [undefined, undefined]);
});

t.test('thesis §9.6: a pre-vote for the next term is granted by a voter that voted for another in this one', async (t) => {
  // The pre-candidate asks whether it could win term 7; the voter's vote in term 6 says nothing about that.
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(2, st, { preVote: true });
  n.step(voteReq(3, 2, 6, 5, 5));
  drainMessages(n, st);
  t.same([n.status().term, n.status().vote], [6, 3]);
  n.step({ ...voteReq(1, 2, 7, 5, 5), type: 'MsgRequestPreVote' });
  const got = drainMessages(n, st).filter((m) => m.type === 'MsgRequestPreVoteResponse');
  t.same(got.map((m) => m.type === 'MsgRequestPreVoteResponse' && [m.to, m.term, m.reject]), [[1, 7, false]]);
  t.same([n.status().term, n.status().vote], [6, 3], 'and its own term and vote do not move');
});

t.test('thesis §9.6: a pre-candidate does not count answers to a real vote request', async (t) => {
  // Answers of an earlier election of this term (a vote, not a pre-vote) say nothing about
  // whether the pre-candidate could win the next term.
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st, { preVote: true });
  n.campaign();
  drainMessages(n, st);
  t.same([n.status().role, n.status().term], ['preCandidate', 5]);
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 5, reject: false });
  n.step({ type: 'MsgRequestVoteResponse', from: 3, to: 1, term: 5, reject: false });
  drainMessages(n, st);
  t.same([n.status().role, n.status().term], ['preCandidate', 5], 'still asking, term unchanged');
});
