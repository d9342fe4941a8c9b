// Leader transfer (thesis §3.10): the leader stops taking proposals, brings the transferee
// up to date, and sends MsgTimeoutNow; the transferee campaigns at once and wins even
// where CheckQuorum's lease would hold off an ordinary candidate. A transfer that cannot
// finish within an election timeout is given up.
//
// The transcript src/raft/testdata/leader-transfer.txt shows a transfer's messages: to an
// up-to-date follower, to one that lags (proposals refused meanwhile), and one given up
// after an election timeout; transcripts.test.ts shows that the planted bug
// transferHeldOffByLease changes it. This file keeps the rules about who may be a target
// and how a transfer under way ends when superseded or when its transferee is removed.

import t from 'tap';
import { groupLedBy1 } from './testing/mem-network.js';
import { enc } from '../../test/support/bytes.js';

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
