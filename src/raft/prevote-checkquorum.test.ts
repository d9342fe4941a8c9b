// PreVote and CheckQuorum (Raft thesis §9.6 and §6.2): a node cut off from the group
// must not inflate its term and depose a healthy leader when it returns; a leader that
// cannot hear a quorum steps down; followers that hear a leader ignore vote requests;
// and a node whose term ran ahead anyway is brought back by the stale-term response.

import t from 'tap';
import { MemoryStorage } from './storage.js';
import type { Message, MsgRequestVote, NodeId, Term } from './types.js';
import { drainMessages, groupLedBy1, MemNetwork, newTestNode, storageWithLog } from './testing/mem-network.js';
import type { MemNetworkOptions } from './testing/mem-network.js';
import { enc } from '../../test/support/bytes.js';

function rounds(net: MemNetwork, n: number, each?: () => void): void {
  for (let i = 0; i < n; i++) {
    net.tickAll();
    net.stabilize();
    each?.();
  }
}

const voteReq = (type: MsgRequestVote['type'], from: NodeId, to: NodeId, term: Term, index: number, logTerm: Term): Message =>
  ({ type, from, to, term, index, logTerm });

t.test('thesis §9.6: with PreVote an isolated node keeps its term and does not disrupt the leader on return', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: false });
  const term = net.node(1).status().term;
  net.isolate(3);
  let everCandidate = false;
  rounds(net, 100, () => { everCandidate ||= net.node(3).status().role === 'candidate'; });
  t.equal(net.node(3).status().term, term, 'pre-elections that cannot win leave the term alone');
  t.equal(everCandidate, false, 'it never became a real candidate');
  net.node(1).propose(enc('while-away'));
  net.stabilize();
  net.heal();
  rounds(net, 20);
  t.same([net.leader(), net.node(1).status().term], [1, term], 'the leader and its term survive the rejoin');
  t.same([net.node(3).status().role, net.node(3).status().lead], ['follower', 1]);
  t.equal(net.node(3).status().commit, net.node(1).status().commit, 'and node 3 catches up');
});

t.test('thesis §9.6: without PreVote the same isolation inflates the term and deposes the leader', async (t) => {
  // The contrast that shows what the test above guards against.
  const net = groupLedBy1({ preVote: false, checkQuorum: false });
  const term = net.node(1).status().term;
  net.isolate(3);
  rounds(net, 100);
  const inflated = net.node(3).status().term;
  t.ok(inflated >= term + 5, `node 3 went from term ${term} to ${inflated}`);
  net.heal();
  let deposed = false;
  rounds(net, 20, () => {
    const s = net.node(1).status();
    deposed ||= s.role !== 'leader' || s.term !== term;
  });
  t.ok(deposed, 'at node 3\'s next timeout the healthy leader is deposed');
  t.ok(net.node(1).status().term >= inflated, 'and the group moves to the inflated term');
});

t.test('thesis §9.6: granting or refusing a pre-vote changes neither term nor vote', async (t) => {
  const st = storageWithLog([1, 2, 3], [6, 6]); // last entry (7, 6), term 6
  const n = newTestNode(2, st, { preVote: true });
  n.step(voteReq('MsgRequestPreVote', 3, 2, 7, 7, 6));
  n.step(voteReq('MsgRequestPreVote', 1, 2, 7, 6, 6));
  const rds: Message[] = [];
  let hardStateChanged = false;
  while (n.hasReady()) {
    const rd = n.ready();
    hardStateChanged ||= rd.hardState !== undefined;
    rds.push(...rd.messages);
    n.advance(rd);
  }
  t.same(rds.map((m) => m.type === 'MsgRequestPreVoteResponse' && [m.to, m.term, m.reject]),
    [[3, 7, false], [1, 6, true]], 'up-to-date candidate granted (in its term), stale one refused');
  t.same([n.status().term, n.status().vote, hardStateChanged], [6, 0, false], 'no durable change');
  n.step(voteReq('MsgRequestVote', 1, 2, 7, 7, 6));
  t.same(drainMessages(n, st).map((m) => m.type === 'MsgRequestVoteResponse' && [m.to, m.reject]), [[1, false]],
    'the real vote is still free for any candidate');
});

t.test('thesis §6.2 CheckQuorum: a leader that hears from no quorum steps down within two election timeouts', async (t) => {
  const electionTick = 10;
  const net = groupLedBy1({ checkQuorum: true, electionTick });
  const term = net.node(1).status().term;
  net.isolate(1);
  let ticks = 0;
  while (net.node(1).status().role === 'leader' && ticks < 100) {
    net.tick(1);
    ticks++;
    net.stabilize();
  }
  t.ok(ticks > electionTick && ticks <= 2 * electionTick, `stepped down after ${ticks} ticks`);
  t.same([net.node(1).status().role, net.node(1).status().lead, net.node(1).status().term], ['follower', 0, term]);
});

t.test('thesis §6.2 CheckQuorum: a leader with a live quorum stays; without CheckQuorum an isolated one stays too', async (t) => {
  const net = groupLedBy1({ checkQuorum: true });
  net.isolate(3);
  for (let i = 0; i < 100; i++) {
    net.tick(1);
    net.tick(2);
    net.stabilize();
  }
  t.equal(net.node(1).status().role, 'leader', 'one live follower of two is enough');

  const off = groupLedBy1({ checkQuorum: false });
  off.isolate(1);
  off.tick(1, 100);
  off.stabilize();
  t.equal(off.node(1).status().role, 'leader', 'with CheckQuorum off nothing makes it step down');
});

t.test('thesis §6.2: a follower that recently heard from its leader ignores vote and pre-vote requests', async (t) => {
  const net = groupLedBy1({ checkQuorum: true, preVote: true, electionTick: 10 });
  const term = net.node(1).status().term;
  const last = net.node(2).status().lastIndex;
  for (const type of ['MsgRequestVote', 'MsgRequestPreVote'] as const) {
    net.deliver(voteReq(type, 3, 2, term + 1, last, term));
    const out = net.take();
    t.same(out, [], `${type}: no answer at all`);
    t.same([net.node(2).status().term, net.node(2).status().lead], [term, 1], `${type}: term and leader kept`);
  }
  // After an election timeout without the leader the lease has run out.
  net.isolate(1);
  net.tick(2, 10);
  net.take();
  net.deliver(voteReq('MsgRequestVote', 3, 2, term + 1, last, term));
  const out = net.take().filter((m) => m.type === 'MsgRequestVoteResponse');
  t.same(out.map((m) => m.type === 'MsgRequestVoteResponse' && [m.to, m.term, m.reject]), [[3, term + 1, false]],
    'once the lease expired the vote is granted');
});

t.test('thesis §9.6: a node whose term ran ahead (PreVote off on it) rejoins via the stale-term append response', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true, configFor: (id) => (id === 3 ? { preVote: false } : undefined), seed: 11 });
  const term = net.node(1).status().term;
  net.isolate(3);
  rounds(net, 60);
  net.node(1).propose(enc('missed'));
  net.stabilize();
  const ahead = net.node(3).status().term;
  t.ok(ahead > term + 2, `node 3 ran ahead to term ${ahead}`);

  net.heal();
  net.tick(1); // the leader's heartbeat reaches node 3, which answers with its term
  net.stabilize();
  t.ok(net.node(1).status().term >= ahead, 'the old leader adopted the higher term');
  t.not(net.node(1).status().role, 'leader', 'and stepped down');

  let converged = false;
  for (let i = 0; i < 300 && !converged; i++) {
    rounds(net, 1);
    const lead = net.leader();
    converged = lead !== undefined && [1, 2, 3].every((id) => {
      const s = net.node(id).status();
      return s.lead === lead && s.term === net.node(lead).status().term && s.commit === net.node(lead).status().commit;
    });
  }
  t.ok(converged, 'the group agrees on one leader and term again');
  t.not(net.leader(), 3, 'node 3, missing an entry, did not win');
  t.ok(net.applied.get(3)!.some((e) => new TextDecoder().decode(e.data) === 'missed'), 'node 3 has the entry it missed');
});

t.test('thesis §9.6: a pre-candidate refused by a majority returns to follower without a new term', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st, { preVote: true });
  n.campaign();
  drainMessages(n, st);
  t.equal(n.status().role, 'preCandidate');
  n.step({ type: 'MsgRequestPreVoteResponse', from: 2, to: 1, term: 5, reject: true });
  n.step({ type: 'MsgRequestPreVoteResponse', from: 3, to: 1, term: 5, reject: true });
  t.same([n.status().role, n.status().term, n.status().vote], ['follower', 5, 0]);
});

t.test('leaseAfterStart: a freshly started voter ignores vote requests for one election timeout', async (t) => {
  // A voter that restarted forgot the leader it acknowledged; with leader leases it must
  // not help elect another one before that leader's lease can have run out.
  const granted = (config: Parameters<typeof newTestNode>[2], ticksBefore: number): boolean[] => {
    const st = storageWithLog([1, 2, 3], [6, 6]);
    const n = newTestNode(2, st, { preVote: true, checkQuorum: true, ...config });
    const out: boolean[] = [];
    for (let tick = 0; tick <= 10; tick++) {
      if (tick >= ticksBefore) {
        n.step(voteReq('MsgRequestPreVote', 3, 2, 7 + tick, 7, 6));
        out.push(drainMessages(n, st).some((m) => m.type === 'MsgRequestPreVoteResponse' && !m.reject));
      }
      // Only ticks short of the node's own election (at 10 or more ticks) are taken.
      if (tick < 9) n.tick();
    }
    return out;
  };
  const quiet = granted({ leaseAfterStart: true }, 0);
  t.same(quiet.slice(0, 9), Array(9).fill(false), 'ignored through the first nine ticks');
  const without = granted({}, 0);
  t.same(without.slice(0, 9), Array(9).fill(true), 'without it, granted at once (the node has heard of no leader)');
  const st = storageWithLog([1, 2, 3], [6, 6]);
  const n = newTestNode(2, st, { preVote: true, checkQuorum: true, leaseAfterStart: true });
  for (let i = 0; i < 10; i++) n.tick();
  n.step(voteReq('MsgRequestPreVote', 3, 2, 8, 7, 6));
  t.ok(drainMessages(n, st).some((m) => m.type === 'MsgRequestPreVoteResponse' && !m.reject), 'granted once an election timeout has passed');
  const trSt = storageWithLog([1, 2, 3], [6, 6]);
  const tr = newTestNode(2, trSt, { preVote: true, checkQuorum: true, leaseAfterStart: true });
  tr.step({ ...voteReq('MsgRequestVote', 3, 2, 7, 7, 6), transfer: true } as Message);
  t.ok(drainMessages(tr, trSt).some((m) => m.type === 'MsgRequestVoteResponse' && !m.reject), 'a leader transfer\'s election is not held off');
});

t.test('thesis §9.6: a stale leader\'s append or heartbeat is answered with our term when PreVote or CheckQuorum is on', async (t) => {
  // Either option can leave a node at a higher term that no election will bring the
  // others up to; the answer lets the stale leader learn it. Without both, raft as in the
  // paper ignores a stale message.
  const configs = [
    { preVote: true, checkQuorum: false, answered: true },
    { preVote: false, checkQuorum: true, answered: true },
    { preVote: false, checkQuorum: false, answered: false },
  ];
  for (const c of configs) {
    const st = storageWithLog([1, 2, 3], [6, 6], { term: 8 });
    const n = newTestNode(2, st, { preVote: c.preVote, checkQuorum: c.checkQuorum });
    const why = `preVote=${c.preVote} checkQuorum=${c.checkQuorum}`;
    const answer = c.answered ? [['MsgAppendResponse', 1, 8]] : [];
    n.step({ type: 'MsgHeartbeat', from: 1, to: 2, term: 6, commit: 5, context: new Uint8Array() });
    t.same(drainMessages(n, st).map((m) => [m.type, m.to, m.term]), answer, `${why}: heartbeat`);
    n.step({ type: 'MsgAppend', from: 1, to: 2, term: 6, index: 7, logTerm: 6, entries: [], commit: 5 });
    t.same(drainMessages(n, st).map((m) => [m.type, m.to, m.term]), answer, `${why}: append`);
    t.same([n.status().term, n.status().lead], [8, 0], `${why}: our term stays, the stale sender is not our leader`);
  }
});

t.test('thesis §9.6: a pre-vote request of an older term is refused with our term; an old vote request is ignored', async (t) => {
  const st = storageWithLog([1, 2, 3], [6, 6], { term: 8 });
  const n = newTestNode(2, st, { preVote: true, checkQuorum: true });
  n.step(voteReq('MsgRequestPreVote', 3, 2, 7, 7, 6));
  n.step(voteReq('MsgRequestVote', 3, 2, 7, 7, 6));
  t.same(drainMessages(n, st).map((m) => m.type === 'MsgRequestPreVoteResponse' && [m.to, m.term, m.reject]), [[3, 8, true]],
    'the pre-candidate learns it is behind; the stale vote request gets no answer');
});

t.test('thesis §9.6: a pre-candidate refused by a node of a higher term adopts that term', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  const n = newTestNode(1, st, { preVote: true });
  n.campaign();
  drainMessages(n, st);
  t.same([n.status().role, n.status().term], ['preCandidate', 5]);
  n.step({ type: 'MsgRequestPreVoteResponse', from: 2, to: 1, term: 8, reject: true });
  t.same([n.status().role, n.status().term, n.status().vote], ['follower', 8, 0], 'it cannot win term 6; it joins term 8');
});
