// Leader transfer (thesis §3.10): the leader stops taking proposals, brings the transferee
// up to date, and sends MsgTimeoutNow; the transferee campaigns at once and wins even
// where CheckQuorum's lease would hold off an ordinary candidate. A transfer that cannot
// finish within an election timeout is given up.

import t from 'tap';
import type { Message } from './types.js';
import { groupLedBy1 } from './testing/mem-network.js';

const enc = (s: string) => new TextEncoder().encode(s);

t.test('to an up-to-date follower: it leads the next term at once', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true });
  const term = net.node(1).status().term;
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  net.node(1).transferLeader(2);
  net.stabilize();
  t.equal(net.node(2).status().role, 'leader', 'node 2 leads');
  t.equal(net.node(2).status().term, term + 1, 'in the next term');
  t.equal(net.node(1).status().role, 'follower');
  t.equal(seen.filter((m) => m.type === 'MsgTimeoutNow').length, 1, 'one MsgTimeoutNow');
  t.equal(seen.filter((m) => m.type === 'MsgRequestPreVote').length, 0, 'no pre-vote: the leader asked for it');
  net.node(2).propose(enc('x'));
  net.stabilize();
  t.equal(net.node(3).status().lastIndex, net.node(2).status().lastIndex, 'and replicates');
});

t.test('transferHeldOffByLease (a planted bug): with CheckQuorum on, the transfer never wins', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true, config: { faults: { transferHeldOffByLease: true } } });
  net.node(1).transferLeader(2);
  net.stabilize();
  t.not(net.node(2).status().role, 'leader', 'the voters in the lease ignore the transferee');
});

t.test('to a follower that lags: the leader brings it up to date first, taking no proposals meanwhile', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true });
  net.isolate(3);
  for (let i = 0; i < 5; i++) net.node(1).propose(enc(`w${i}`));
  net.stabilize();
  net.heal();
  net.cutOneWay(1, 3); // node 3 cannot catch up yet
  net.node(1).transferLeader(3);
  net.stabilize();
  t.equal(net.node(1).leadTransferee(), 3, 'the transfer is under way');
  t.throws(() => net.node(1).propose(enc('during')), /proposal dropped/, 'proposals are refused during the transfer');
  net.heal();
  net.tick(1); // the heartbeat answer lets the leader resend the missing entries
  net.stabilize();
  t.equal(net.node(3).status().role, 'leader', 'node 3 leads once it caught up');
  t.equal(net.node(3).status().lastIndex >= 11, true, 'with every entry');
});

t.test('a transfer that cannot finish is given up after an election timeout', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true, electionTick: 10 });
  net.isolate(3);
  net.node(1).propose(enc('3 misses this'));
  net.stabilize();
  net.node(1).transferLeader(3);
  net.stabilize();
  t.equal(net.node(1).leadTransferee(), 3);
  for (let i = 0; i < 9; i++) {
    net.tick(1);
    net.stabilize();
  }
  t.equal(net.node(1).leadTransferee(), 3, 'still trying before the timeout');
  net.tick(1);
  net.stabilize();
  t.equal(net.node(1).leadTransferee(), 0, 'given up after one election timeout');
  t.equal(net.node(1).status().role, 'leader', 'node 1 still leads');
  t.doesNotThrow(() => net.node(1).propose(enc('after')), 'and takes proposals again');
});

t.test('a request through a follower is forwarded; a learner, a stranger or the leader itself is not a target', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true });
  net.node(3).transferLeader(2);
  net.stabilize();
  t.equal(net.node(2).status().role, 'leader', 'forwarded by node 3 to the leader, which handed over to node 2');

  net.addNode(4);
  net.node(2).proposeConfChange({ type: 'addLearner', nodeId: 4 });
  net.stabilize();
  net.tick(2);
  net.stabilize();
  net.node(2).transferLeader(4);
  t.equal(net.node(2).leadTransferee(), 0, 'not to a learner');
  net.node(2).transferLeader(9);
  t.equal(net.node(2).leadTransferee(), 0, 'not to a stranger');
  net.node(2).transferLeader(2);
  t.equal(net.node(2).leadTransferee(), 0, 'not to itself');
  t.equal(net.node(2).status().role, 'leader');
});

t.test('a new transfer supersedes one under way; removing the transferee gives it up', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true });
  net.isolate(2);
  net.isolate(3);
  net.node(1).propose(enc('nobody has this'));
  net.stabilize();
  net.node(1).transferLeader(2);
  net.node(1).transferLeader(3);
  t.equal(net.node(1).leadTransferee(), 3, 'the later request wins');

  // A removal of node 3 already in the log applies while the transfer to it is under way.
  const net2 = groupLedBy1({ preVote: true, checkQuorum: true });
  net2.isolate(2);
  net2.isolate(3);
  net2.node(1).proposeConfChange({ type: 'removeNode', nodeId: 3 });
  net2.stabilize();
  net2.node(1).transferLeader(3);
  t.equal(net2.node(1).leadTransferee(), 3);
  net2.heal();
  net2.isolate(3);
  net2.tick(1);
  net2.stabilize();
  t.same(net2.confState(1).voters, [1, 2], 'the removal applied');
  t.equal(net2.node(1).leadTransferee(), 0, 'and the transfer to the removed node was given up');
  t.equal(net2.node(1).status().role, 'leader');
});
