// Log replication (Raft §5.3): appending, committing by majority, learning the commit
// index, repairing divergent followers (with the fast backtracking of §5.3's closing
// paragraphs), never undoing committed entries, recovering lost appends, and refusing
// proposals away from the leader.

import t from 'tap';
import { ProposalDroppedError } from './errors.js';
import { MemoryStorage } from './storage.js';
import type { Message, MsgAppend, NodeId } from './types.js';
import { drainMessages, MemNetwork, newTestNode, storageWithLog } from './testing/mem-network.js';
import type { MemNetworkOptions } from './testing/mem-network.js';
import { enc, dec } from '../../test/support/bytes.js';

/** A group whose node 1 has won an election and replicated its first entry everywhere. */
function groupLedBy1(opts: Partial<MemNetworkOptions> & { ids: readonly NodeId[] }): MemNetwork {
  const net = new MemNetwork({ preVote: false, checkQuorum: false, ...opts });
  net.node(1).campaign();
  net.stabilize();
  if (net.leader() !== 1) throw new Error('setup: node 1 did not win');
  return net;
}

/** [index, term] of every entry in a storage after the bootstrap point. */
function logOf(st: MemoryStorage): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = st.firstIndex(); i <= st.lastIndex(); i++) out.push([i, st.term(i)]);
  return out;
}

const isAppendTo = (to: NodeId) => (m: Message) => m.type === 'MsgAppend' && m.to === to;

t.test('Raft §5.3: the leader commits an entry once a majority stores it, not before', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3, 4, 5] });
  const term = net.node(1).status().term;
  const { index } = net.node(1).propose(enc('x'));
  t.equal(index, 7, 'the entry goes after the leader\'s first entry (6)');
  const out = net.take();
  const apps = out.filter((m): m is MsgAppend => m.type === 'MsgAppend');
  t.same(apps.map((m) => [m.to, m.index, m.logTerm, m.entries.map((e) => [e.index, e.term, dec(e.data)])]),
    [2, 3, 4, 5].map((to) => [to, 6, term, [[7, term, 'x']]]), 'sent to every follower with the preceding index and term');
  t.same(net.storages.get(1)!.lastIndex(), 7, 'and stored by the leader itself');

  const deliverAndAnswer = (to: NodeId) => {
    net.deliver(apps.find((m) => m.to === to)!);
    for (const m of net.take()) if (m.from === to) net.deliver(m);
  };
  deliverAndAnswer(2);
  t.equal(net.node(1).status().commit, 6, 'two of five copies: not committed');
  deliverAndAnswer(3);
  t.equal(net.node(1).status().commit, 7, 'three of five copies: committed');
  net.take();
  t.same(net.applied.get(1)!.map((e) => e.index), [6, 7], 'and applied by the leader');
  t.equal(net.node(2).status().commit, 6, 'a follower learns the commit only from a later message');
});

t.test('Raft §5.3: followers learn the commit index from appends and from heartbeats', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  // Keep the commit-carrying follow-up appends from arriving: only the first append of
  // the proposal gets through to each follower.
  let firstRound = true;
  net.drop((m) => m.type === 'MsgAppend' && !firstRound);
  net.node(1).propose(enc('y'));
  for (const m of net.take()) net.deliver(m);
  firstRound = false;
  net.stabilize();
  t.equal(net.node(1).status().commit, 7);
  t.same([2, 3].map((id) => net.node(id).status().commit), [6, 6], 'followers hold index 7 but do not know it committed');
  net.tick(1);
  net.stabilize();
  t.same([2, 3].map((id) => net.node(id).status().commit), [7, 7], 'the next heartbeat carries the commit index');
  t.same(net.applied.get(2)!.map((e) => dec(e.data)), ['', 'y']);

  net.heal();
  net.node(1).propose(enc('z'));
  net.stabilize();
  t.same([1, 2, 3].map((id) => net.node(id).status().commit), [8, 8, 8], 'and the follow-up append after a commit carries it too');
});

t.test('Raft §5.3: a heartbeat never makes a follower commit past what it holds', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  net.drop(isAppendTo(3));
  net.node(1).propose(enc('a'));
  net.node(1).propose(enc('b'));
  net.stabilize();
  t.equal(net.node(1).status().commit, 8);
  net.drop((m) => m.type === 'MsgHeartbeatResponse'); // so the heartbeat does not trigger a resend
  net.tick(1);
  net.stabilize();
  const s3 = net.node(3).status();
  t.same([s3.lastIndex, s3.commit], [6, 6], 'node 3 commits only up to the entry it has');
});

t.test('Raft §5.3: a follower with a conflicting tail has it deleted and replaced', async (t) => {
  // Common prefix 6..7 (term 6); the future leader has 8..9 of term 8, follower 2 has an
  // uncommitted tail 8..11 of term 7 and follower 3 has only the prefix.
  const logs: Record<number, number[]> = { 1: [6, 6, 8, 8], 2: [6, 6, 7, 7, 7, 7], 3: [6, 6] };
  const net = groupLedBy1({ ids: [1, 2, 3], storage: (id, ids) => storageWithLog(ids, logs[id]!, { commit: 7 }) });
  const term = net.node(1).status().term;
  t.equal(term, 9);
  const want: Array<[number, number]> = [[6, 6], [7, 6], [8, 8], [9, 8], [10, 9]];
  for (const id of [1, 2, 3]) t.same(logOf(net.storages.get(id)!), want, `node ${id} holds the leader's log`);
  t.same(net.applied.get(2)!.map((e) => [e.index, e.term]), want, 'node 2 applies the leader\'s entries, not its old tail');
});

t.test('Raft §5.3: fast backtracking skips a whole divergent term in one round trip', async (t) => {
  const run = (followerLogs: Record<number, number[]>) => {
    const leaderLog = [...Array(5).fill(6), ...Array(20).fill(8)]; // 6..10 term 6, 11..30 term 8
    const logs: Record<number, number[]> = { 1: leaderLog, ...followerLogs };
    const rejects = new Map<NodeId, number>();
    const net = new MemNetwork({
      ids: [1, 2, 3], preVote: false, checkQuorum: false,
      storage: (id, ids) => storageWithLog(ids, logs[id]!, { commit: 10 }),
    });
    net.observe((m) => {
      if (m.type === 'MsgAppendResponse' && m.reject) rejects.set(m.from, (rejects.get(m.from) ?? 0) + 1);
    });
    net.node(1).campaign();
    net.stabilize();
    return { net, rejects };
  };
  // Follower 2: 6..10 term 6, then 40 entries of term 7. Follower 3: 6..10 only.
  const { net, rejects } = run({ 2: [...Array(5).fill(6), ...Array(40).fill(7)], 3: Array(5).fill(6) });
  t.equal(net.leader(), 1);
  t.same([rejects.get(2), rejects.get(3)], [1, 1], 'one rejection each, where one per entry would take 20');
  for (const id of [2, 3]) {
    t.same(logOf(net.storages.get(id)!), logOf(net.storages.get(1)!), `node ${id} converged`);
    t.equal(net.node(id).status().lastIndex, 31);
  }
});

t.test('Raft §5.3: a follower never truncates entries it knows are committed', async (t) => {
  const st = storageWithLog([1, 2, 3], [6, 6, 6], { term: 6, commit: 8 });
  const n = newTestNode(2, st);
  // A (misbehaving or reordered) append from a later term that would overwrite 7 and 8.
  n.step({
    type: 'MsgAppend', from: 1, to: 2, term: 7, index: 6, logTerm: 6, commit: 8,
    entries: [{ index: 7, term: 7, type: 'normal', data: enc('p') }, { index: 8, term: 7, type: 'normal', data: enc('q') }],
  });
  const out = drainMessages(n, st);
  t.same(logOf(st), [[6, 6], [7, 6], [8, 6]], 'committed entries untouched');
  t.same(out.map((m) => m.type === 'MsgAppendResponse' && [m.to, m.reject, m.index]), [[1, false, 8]],
    'the leader is told the follower already holds up to its commit index');
});

t.test('Raft §5.3: appends lost in the network are sent again after a heartbeat', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  net.drop(isAppendTo(3));
  for (const s of ['a', 'b', 'c']) net.node(1).propose(enc(s));
  net.stabilize();
  t.equal(net.node(1).status().commit, 9, 'committed with node 2');
  t.equal(net.node(3).status().lastIndex, 6, 'node 3 missed all three');
  net.heal();
  net.stabilize();
  t.equal(net.node(3).status().lastIndex, 6, 'nothing is resent without a trigger');
  net.tick(1);
  net.stabilize();
  t.same([net.node(3).status().lastIndex, net.node(3).status().commit], [9, 9], 'one heartbeat round repairs it');
  t.same(net.applied.get(3)!.map((e) => dec(e.data)), ['', 'a', 'b', 'c']);
  t.same(net.node(1).progress(3), { match: 9, next: 10, state: 'replicate' });
});

/** Drops everything isAppendTo(3) matches; the count is of the appends that carried entries. */
function dropAppendsTo3(net: ReturnType<typeof groupLedBy1>): () => number {
  let lost = 0;
  net.drop((m) => {
    if (!isAppendTo(3)(m)) return false;
    if (m.type === 'MsgAppend' && m.entries.length > 0) lost++;
    return true;
  });
  return () => lost;
}

t.test('Raft §5.3: a full inflights window of lost appends does not wedge replication', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3], config: { maxInflightMsgs: 2 } });
  const lost = dropAppendsTo3(net);
  // One Ready each: proposals of one Ready would travel in one append.
  for (let i = 0; i < 5; i++) {
    net.node(1).propose(enc(`p${i}`));
    net.stabilize();
  }
  t.equal(lost(), 2, 'flow control stops sending entries to node 3 once two appends are unacknowledged');
  t.equal(net.node(1).status().commit, 11, 'the majority still commits');
  net.heal();
  net.node(1).propose(enc('more'));
  net.stabilize();
  t.equal(net.node(3).status().lastIndex, 6, 'a proposal alone cannot pass the full window');
  net.tick(1);
  net.stabilize();
  t.same([net.node(3).status().lastIndex, net.node(3).status().commit], [12, 12], 'a heartbeat round unwedges it');
  net.node(1).propose(enc('after'));
  net.stabilize();
  t.equal(net.node(3).status().commit, 13, 'and streaming resumes');
});

t.test('Raft §5.1: proposals off the leader fail with ProposalDroppedError and the leader hint', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  const err = t.throws(() => net.node(2).propose(enc('x')));
  t.ok(err instanceof ProposalDroppedError);
  t.match(err, { code: 'PROPOSAL_DROPPED', leader: 1 });
  t.throws(() => net.node(3).proposeBatch([enc('x'), enc('y')]), { code: 'PROPOSAL_DROPPED', leader: 1 });
  t.equal(net.node(2).status().lastIndex, 6, 'nothing was appended');

  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const cand = newTestNode(1, st);
  cand.campaign();
  t.throws(() => cand.propose(enc('x')), { code: 'PROPOSAL_DROPPED', leader: 0 }, 'a candidate knows no leader');
});

t.test('Raft §5.3: a batch proposal takes consecutive indexes in the leader\'s term', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  const { firstIndex, term } = net.node(1).proposeBatch([enc('a'), enc('b'), enc('c')]);
  t.same([firstIndex, term], [7, 6]);
  net.stabilize();
  for (const id of [1, 2, 3]) {
    t.same(net.applied.get(id)!.slice(1).map((e) => [e.index, e.term, dec(e.data)]),
      [[7, 6, 'a'], [8, 6, 'b'], [9, 6, 'c']], `node ${id}`);
  }
});

t.test('Raft §5.3: a late rejection of an index the follower has since acknowledged changes nothing', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  const term = net.node(1).status().term;
  net.node(1).propose(enc('a'));
  net.stabilize();
  t.same(net.node(1).progress(2), { match: 7, next: 8, state: 'replicate' });
  // The answer to an older probe, overtaken on the way by the acknowledgement of 7.
  net.deliver({ type: 'MsgAppendResponse', from: 2, to: 1, term, index: 6, reject: true, rejectHint: 5, logTerm: 5 });
  t.same(net.take(), [], 'no append is sent again');
  t.same(net.node(1).progress(2), { match: 7, next: 8, state: 'replicate' }, 'and the follower is not sent back to probing');
});

t.test('Raft §5.3: answers from a node that is not a member (e.g. one just removed) are ignored', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  const term = net.node(1).status().term;
  net.deliver({ type: 'MsgAppendResponse', from: 9, to: 1, term, index: 6, reject: false, rejectHint: 0, logTerm: 0 });
  net.deliver({ type: 'MsgHeartbeatResponse', from: 9, to: 1, term, context: new Uint8Array() });
  t.same(net.take(), []);
  t.same([net.leader(), net.node(1).status().commit], [1, 6]);
});

t.test('Raft §5.3: a heartbeat answer from a follower that holds the whole log draws no append', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  net.node(1).propose(enc('a'));
  net.stabilize();
  const seen: string[] = [];
  net.observe((m) => seen.push(`${m.type} ${m.from}>${m.to}`));
  net.tick(1);
  net.stabilize();
  t.same(seen.sort(), ['MsgHeartbeat 1>2', 'MsgHeartbeat 1>3', 'MsgHeartbeatResponse 2>1', 'MsgHeartbeatResponse 3>1']);
});

t.test('Raft thesis §4.2.1: a learner\'s acknowledgement does not count toward commit', async (t) => {
  // Voters 1 and 2 (a quorum is both), learner 3. The planted learnersCountInQuorum fault
  // shows what the rule guards: it lets the leader and the learner commit without node 2.
  const run = (faults: { learnersCountInQuorum?: boolean }) => {
    const net = groupLedBy1({
      ids: [1, 2, 3], config: { faults },
      storage: () => {
        const st = new MemoryStorage();
        st.applySnapshot({ metadata: { index: 5, term: 5, confState: { voters: [1, 2], learners: [3] } }, data: new Uint8Array() });
        return st;
      },
    });
    net.drop(isAppendTo(2));
    const { index } = net.node(1).propose(enc('x'));
    net.stabilize();
    return { index, net };
  };
  const { index, net } = run({});
  t.equal(net.node(3).status().lastIndex, index, 'the learner holds the entry');
  t.ok(net.node(1).status().commit < index, 'but without voter 2 it is not committed');
  const bug = run({ learnersCountInQuorum: true });
  t.equal(bug.net.node(1).status().commit, bug.index, 'with the fault, leader and learner commit it');
});

t.test('Raft §5.3: an acknowledgement that commits nothing draws no message to a follower that holds every entry', async (t) => {
  // Messages, not entries, are what a store pays for: an answer that tells the leader only
  // that the follower is up to date is the end of the exchange.
  const net = groupLedBy1({ ids: [1, 2, 3] });
  net.node(1).propose(enc('a'));
  for (const m of net.take()) net.deliver(m);
  const acks = net.take();
  const from = (id: NodeId) => acks.find((m) => m.type === 'MsgAppendResponse' && m.from === id)!;
  net.deliver(from(2));
  t.equal(net.node(1).status().commit, 7, 'node 2\'s answer commits 7');
  net.take();
  net.deliver(from(3));
  t.same(net.take(), [], 'node 3\'s answer, one more copy of a committed entry, draws nothing');
  net.deliver(from(3));
  t.same(net.take(), [], 'nor does a duplicate of it');
});

t.test('Raft §5.3: a duplicate acknowledgement draws no resend (the planted resendOnStaleAck fault resends)', async (t) => {
  // With the fault, a follower that acknowledges every append and the leader exchange
  // messages for ever; a network with it never quiesces, so the leader is driven by hand.
  for (const resendOnStaleAck of [false, true]) {
    const st = new MemoryStorage([1, 2, 3], 5, 5);
    const n = newTestNode(1, st, { faults: { resendOnStaleAck } });
    n.campaign();
    drainMessages(n, st);
    n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term: 6, reject: false });
    drainMessages(n, st);
    const ack: Message = { type: 'MsgAppendResponse', from: 2, to: 1, term: 6, index: 6, reject: false, rejectHint: 0, logTerm: 0 };
    n.step(ack);
    drainMessages(n, st);
    n.step(ack);
    const sent = drainMessages(n, st).map((m) => [m.type, m.to]);
    t.same(sent, resendOnStaleAck ? [['MsgAppend', 2]] : [], `resendOnStaleAck=${resendOnStaleAck}`);
  }
});

/** A leader of term 6 over [1, 2, 3], driven by hand: elected by node 2's vote, its messages drained. */
function handLeader(faults: Record<string, boolean> = {}, st = new MemoryStorage([1, 2, 3], 5, 5)) {
  const n = newTestNode(1, st, { faults });
  n.campaign();
  drainMessages(n, st);
  const term = n.status().term;
  n.step({ type: 'MsgRequestVoteResponse', from: 2, to: 1, term, reject: false });
  drainMessages(n, st);
  const ack = (from: NodeId, index: number): Message =>
    ({ type: 'MsgAppendResponse', from, to: 1, term, index, reject: false, rejectHint: 0, logTerm: 0 });
  return { n, st, term, ack };
}

t.test('Raft §5.3: the planted commitPreviousTermByCount fault still commits only an index past the commit index that the leader holds', async (t) => {
  const { n, st, ack } = handLeader({ commitPreviousTermByCount: true });
  n.step(ack(2, 6));
  t.equal(n.status().commit, 6, 'two of three copies of the leader\'s last entry commit it');
  drainMessages(n, st);
  n.step(ack(3, 6));
  t.same(drainMessages(n, st).map((m) => [m.type, m.to]), [['MsgAppend', 3]],
    'a third copy commits nothing new: no broadcast, only the append that resumes node 3\'s paused probe');
  n.propose(enc('x'));
  drainMessages(n, st);
  n.step(ack(2, 7));
  t.equal(n.status().commit, 7, 'the new last entry commits on a majority too');
});

t.test('Raft §5.3: a rejection without a term (logTerm 0) backs up to the follower\'s hint itself, not to the term search\'s floor', async (t) => {
  // Leader log 6..10 of term 6; the follower rejects the probe at 10 with hint 8 but no term for it.
  const { n, st, term } = handLeader({}, storageWithLog([1, 2, 3], [6, 6, 6, 6, 6], { term: 6, commit: 10 }));
  t.equal(term, 7);
  n.step({ type: 'MsgAppendResponse', from: 3, to: 1, term, index: 10, reject: true, rejectHint: 8, logTerm: 0 });
  const apps = drainMessages(n, st).filter((m): m is MsgAppend => m.type === 'MsgAppend' && m.to === 3);
  t.same(apps.map((m) => [m.index, m.entries.map((e) => e.index)]), [[8, [9, 10, 11]]], 'the next probe follows index 8');
  t.same(n.progress(3), { match: 0, next: 9, state: 'probe' });
});

t.test('Raft §5.3: an acknowledgement of the first of two appends in flight resends nothing (the window keeps the second)', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3, 4, 5] });
  net.node(1).propose(enc('a'));
  const first = net.take();
  net.node(1).propose(enc('b'));
  net.take();
  net.deliver(first.find(isAppendTo(2))!);
  const [ack] = net.take();
  t.match(ack, { type: 'MsgAppendResponse', from: 2, index: 7, reject: false });
  net.deliver(ack!);
  t.same(net.take(), [], 'entry 8 is still on its way: not sent again');
  t.same(net.node(1).progress(2), { match: 7, next: 9, state: 'replicate' });
  t.equal(net.node(1).status().commit, 6, 'two of five copies commit nothing');
});

t.test('Raft §7: a late acknowledgement below the leader\'s first index, while a snapshot is on its way, sends nothing (the snapshot\'s outcome decides)', async (t) => {
  const st = storageWithLog([1, 2, 3], [6, 6, 6, 6, 6], { term: 6, commit: 10 });
  st.createSnapshot(10, { voters: [1, 2, 3] }, enc('state at 10'));
  st.compact(10);
  const { n, term } = handLeader({}, st);
  n.step({ type: 'MsgAppendResponse', from: 3, to: 1, term, index: 10, reject: true, rejectHint: 7, logTerm: 6 });
  t.same(drainMessages(n, st).map((m) => [m.type, m.to]), [['MsgSnapshot', 3]], 'node 3 needs compacted entries');
  t.same(n.progress(3), { match: 0, next: 10, state: 'snapshot' });
  n.step({ type: 'MsgAppendResponse', from: 3, to: 1, term, index: 7, reject: false, rejectHint: 0, logTerm: 0 });
  t.same(drainMessages(n, st), [], 'no second snapshot, no append from below the first index');
  t.equal(n.progress(3)!.state, 'snapshot');
});

t.test('Raft §5.3: an acknowledgement that frees the window streams as many appends as it now allows', async (t) => {
  // One entry per message (maxSizePerMsg 1), two messages in flight at most.
  const net = groupLedBy1({ ids: [1, 2, 3], config: { maxSizePerMsg: 1, maxInflightMsgs: 2 } });
  const held: Message[] = [];
  let holding = true;
  net.drop((m) => {
    if (!holding || !isAppendTo(3)(m)) return false;
    held.push(m);
    return true;
  });
  for (const s of ['a', 'b', 'c', 'd', 'e']) {
    net.node(1).propose(enc(s));
    net.stabilize();
  }
  const withEntries = held.filter((m) => (m as MsgAppend).entries.length > 0);
  t.same(withEntries.map((m) => (m as MsgAppend).entries.map((e) => e.index)), [[7], [8]], 'the window stops at two');
  holding = false;
  for (const m of withEntries) net.deliver(m);
  const acks = net.take().filter((m) => m.type === 'MsgAppendResponse' && m.from === 3);
  const last = acks[acks.length - 1]!;
  t.match(last, { index: 8, reject: false }, 'node 3 acknowledges both');
  net.deliver(last);
  const sent = net.take().filter(isAppendTo(3)).map((m) => (m as MsgAppend).entries.map((e) => e.index));
  t.same(sent, [[9], [10]], 'both freed slots are used at once');
});

t.test('Raft thesis §3.10: the leader tells the transferee to campaign only once it holds the whole log', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  const term = net.node(1).status().term;
  net.drop(isAppendTo(3));
  for (const s of ['a', 'b', 'c']) net.node(1).propose(enc(s));
  net.stabilize();
  net.node(1).transferLeader(3);
  net.take();
  const ack = (index: number): Message => ({ type: 'MsgAppendResponse', from: 3, to: 1, term, index, reject: false, rejectHint: 0, logTerm: 0 });
  net.deliver(ack(7));
  t.same(net.take().filter((m) => m.type === 'MsgTimeoutNow'), [], 'at 7 of 9, not yet');
  net.deliver(ack(9));
  t.same(net.take().filter((m) => m.type === 'MsgTimeoutNow').map((m) => m.to), [3], 'at 9 of 9, now');
});

t.test('Raft §5.3: only the first heartbeat answer of an interval resends; a read-index round\'s answers do not', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3] });
  let toThree = 0;
  net.drop((m) => {
    if (!isAppendTo(3)(m)) return false;
    toThree++;
    return true;
  });
  net.node(1).propose(enc('a'));
  net.stabilize();
  net.tick(1);
  net.stabilize();
  const before = toThree;
  t.ok(before >= 2, 'the proposal\'s append and the heartbeat answer\'s resend (lost)');
  net.node(1).readIndex(enc('r1'));
  net.stabilize();
  t.same(net.readStates.get(1)!.map((r) => dec(r.context)), ['r1'], 'the read is confirmed');
  t.equal(toThree, before, 'and its heartbeat answers resend nothing');
});

t.test('Raft §5.3: a heartbeat answer frees an in-flight slot only when the window is full', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3], config: { maxInflightMsgs: 2 } });
  const lost = dropAppendsTo3(net);
  net.node(1).propose(enc('a'));
  net.stabilize();
  net.tick(1);
  net.stabilize();
  t.equal(lost(), 1, 'one append of entries lost; the window (one of two) is not full');
  for (const s of ['b', 'c']) {
    net.node(1).propose(enc(s));
    net.stabilize();
  }
  t.equal(lost(), 2, 'so after the heartbeat only one more append fits');
});

t.test('Raft §6.4 (ReadIndex): a read is confirmed only once a majority has answered its heartbeat', async (t) => {
  const net = groupLedBy1({ ids: [1, 2, 3, 4, 5] });
  net.node(1).readIndex(enc('r'));
  const beats = net.take();
  t.equal(beats.filter((m) => m.type === 'MsgHeartbeat').length, 4);
  for (const m of beats) net.deliver(m);
  const answers = net.take().filter((m) => m.type === 'MsgHeartbeatResponse');
  net.deliver(answers[0]!);
  net.take();
  t.same(net.readStates.get(1) ?? [], [], 'the leader and one follower are two of five');
  net.deliver(answers[1]!);
  net.take();
  t.same((net.readStates.get(1) ?? []).map((r) => [r.index, dec(r.context)]), [[6, 'r']], 'three of five confirm it');
});

t.test('Raft thesis §6.4: answers to heartbeats sent before a read arrived do not confirm it, even a read with an empty context', async (t) => {
  // A periodic heartbeat carries an empty context when no read is pending, so its answers
  // must never count for a read with an empty context that arrived in the meantime.
  const net = groupLedBy1({ ids: [1, 2, 3] });
  net.tick(1);
  const early = net.take();
  t.same(early.map((m) => m.type === 'MsgHeartbeat' && m.context.length), [0, 0], 'two plain heartbeats');
  net.node(1).readIndex(new Uint8Array());
  net.take(); // the read's own heartbeats are lost
  for (const m of early) net.deliver(m);
  const answers = net.take();
  t.same(answers.map((m) => m.type), ['MsgHeartbeatResponse', 'MsgHeartbeatResponse']);
  for (const m of answers) net.deliver(m);
  net.take();
  t.same(net.readStates.get(1) ?? [], [], 'no read state from answers that predate the read');
});
