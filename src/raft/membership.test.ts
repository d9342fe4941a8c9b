// Membership changes in the Raft core (thesis §4.1, §4.2.1): one change at a time as a
// log entry that takes effect when applied; learners that get the log but never vote or
// count toward commit, ReadIndex or CheckQuorum; a removed leader steps down; a node
// that is not a voter never campaigns.

import t from 'tap';
import { ConfChangeError, ConfChangePendingError, decodeConfChange, encodeConfChange, isMember, nextConfState } from './conf-change.js';
import type { ConfChange } from './conf-change.js';
import type { NodeId } from './types.js';
import type { FaultInjection } from './config.js';
import type { Test } from 'tap';
import { drainMessages, groupLedBy1, MemNetwork, newTestNode } from './testing/mem-network.js';
import { MemoryStorage } from './storage.js';
import { enc } from '../../test/support/bytes.js';

const cc = (type: ConfChange['type'], nodeId: NodeId): ConfChange => ({ type, nodeId });

/** Proposes a conf change on `leader`, lets it commit and apply everywhere reachable. */
function change(net: MemNetwork, leader: NodeId, type: ConfChange['type'], nodeId: NodeId): void {
  net.node(leader).proposeConfChange(cc(type, nodeId));
  net.stabilize();
  // Followers learn the commit index on the next round.
  net.tick(leader);
  net.stabilize();
}

function write(net: MemNetwork, leader: NodeId, s: string): number {
  const at = net.node(leader).propose(enc(s));
  net.stabilize();
  return at.index;
}

t.test('the rules of one change', async (t) => {
  const cs = { voters: [1, 2, 3], learners: [4] };
  t.same(nextConfState(cs, { type: 'addLearner', nodeId: 5 }), { voters: [1, 2, 3], learners: [4, 5] });
  t.same(nextConfState(cs, { type: 'addVoter', nodeId: 4 }), { voters: [1, 2, 3, 4], learners: [] }, 'promotion');
  t.same(nextConfState(cs, { type: 'addVoter', nodeId: 6 }), { voters: [1, 2, 3, 6], learners: [4] });
  t.same(nextConfState(cs, { type: 'removeNode', nodeId: 2 }), { voters: [1, 3], learners: [4] });
  t.same(nextConfState(cs, { type: 'removeNode', nodeId: 4 }), { voters: [1, 2, 3], learners: [] });
  t.throws(() => nextConfState(cs, { type: 'addVoter', nodeId: 1 }), { name: 'ConfChangeError', message: /node 1 is already a voter/ });
  t.throws(() => nextConfState(cs, { type: 'addLearner', nodeId: 1 }), /demoting a voter is not supported/);
  t.throws(() => nextConfState(cs, { type: 'addLearner', nodeId: 4 }), /already a learner/);
  t.throws(() => nextConfState(cs, { type: 'removeNode', nodeId: 9 }), /not a member/);
  t.throws(() => nextConfState({ voters: [1] }, { type: 'removeNode', nodeId: 1 }), /last voter/);
  t.same(decodeConfChange(encodeConfChange({ type: 'removeNode', nodeId: 2 ** 40 })), { type: 'removeNode', nodeId: 2 ** 40 });
  t.throws(() => decodeConfChange(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 1])), { name: 'TypeError', message: /unknown type 9/ });
  t.throws(() => decodeConfChange(new Uint8Array(3)), TypeError);
  t.throws(() => encodeConfChange({ type: 'addVoter', nodeId: 0 }), { name: 'RangeError', message: /bad node id 0/ });
});

t.test('an encoded change is exactly 9 bytes: a shorter or longer one is refused, not read', async (t) => {
  const good = encodeConfChange(cc('addVoter', 7));
  t.equal(good.length, 9);
  // A valid type byte, so only the length check can refuse these.
  t.throws(() => decodeConfChange(good.subarray(0, 3)), { name: 'TypeError', message: /expected 9 bytes, got 3/ }, 'too short');
  const long = new Uint8Array(10);
  long.set(good);
  t.throws(() => decodeConfChange(long), { name: 'TypeError', message: /expected 9 bytes, got 10/ }, 'a trailing byte is not ignored');
});

t.test('a change of a type nextConfState does not know is refused, not ignored', async (t) => {
  // Only an untyped caller can make one (the decoder refuses unknown types); ignoring it
  // would report a change as applied that changed nothing.
  const bogus = { type: 'demoteVoter', nodeId: 2 } as unknown as ConfChange;
  t.throws(() => nextConfState({ voters: [1, 2, 3] }, bogus), { name: 'ConfChangeError', message: /unknown conf change demoteVoter/ });
});

t.test('the configuration after a change lists voters and learners in id order, and a missing learner list means none', async (t) => {
  // Every node derives the same lists whatever order the members joined in.
  t.same(nextConfState({ voters: [2, 3], learners: [6] }, cc('addVoter', 1)), { voters: [1, 2, 3], learners: [6] });
  t.same(nextConfState({ voters: [2, 3], learners: [6] }, cc('addLearner', 5)), { voters: [2, 3], learners: [5, 6] });
  t.same(nextConfState({ voters: [1] }, cc('addVoter', 2)), { voters: [1, 2], learners: [] }, 'no learners in, none out');
});

t.test('the members are the voters and the learners, nobody else', async (t) => {
  const cs = { voters: [1, 2], learners: [3] };
  t.ok(isMember(cs, 1), 'a voter');
  t.ok(isMember(cs, 3), 'a learner');
  t.notOk(isMember(cs, 4), 'anyone else is not');
  t.notOk(isMember({ voters: [1] }, 4), 'nor with no learner list');
});

t.test('a learner gets the log but neither counts toward commit nor campaigns', async (t) => {
  const net = groupLedBy1({ preVote: true, checkQuorum: true });
  net.addNode(4);
  net.compact(1, net.node(1).status().applied); // a new node catches up by snapshot
  change(net, 1, 'addLearner', 4);
  t.same(net.confState(1), { voters: [1, 2, 3], learners: [4] });
  net.compact(1, net.node(1).status().applied);
  write(net, 1, 'x');
  net.tick(1);
  net.stabilize();
  t.equal(net.node(4).status().lastIndex, net.node(1).status().lastIndex, 'the learner holds the whole log');
  t.same(net.confState(4), { voters: [1, 2, 3], learners: [4] }, 'and knows it is a learner');

  // Two voters cut off: the leader and the learner alone are no quorum.
  net.isolate(2);
  net.isolate(3);
  const idx = write(net, 1, 'needs a voter');
  t.ok(net.node(4).status().lastIndex >= idx, 'the learner acknowledged it');
  t.ok(net.node(1).status().commit < idx, 'not committed on the learner\'s acknowledgement');
  net.heal();
  net.tick(1);
  net.stabilize();
  t.ok(net.node(1).status().commit >= idx, 'committed once a voter answers');

  // A learner never campaigns, whatever its timer says.
  net.isolate(1);
  net.tick(4, 100);
  net.stabilize();
  t.equal(net.node(4).status().role, 'follower', 'the learner stays a follower');
  t.equal(net.node(4).status().term, net.node(2).status().term, 'and bumps no term');
});

/** The state of a store's first peer before its snapshot: no log, and only itself in its configuration, as a learner. */
class PlaceholderStorage extends MemoryStorage {
  constructor(private readonly self: NodeId) {
    super([]);
  }

  override initialState() {
    return { hardState: super.initialState().hardState, confState: { voters: [], learners: [this.self] } };
  }
}

t.test('a joining node that names itself only as a learner never campaigns: not on timeouts, not when asked to', async (t) => {
  // The raftstore's placeholder peer, created by the leader's first message before the
  // snapshot tells it the group. Counted as a voter it would be a group of one: it would
  // win at once and could acknowledge writes the snapshot then wipes.
  const st = new PlaceholderStorage(4);
  const n = newTestNode(4, st, { preVote: true, checkQuorum: true });
  n.step({ type: 'MsgHeartbeat', from: 1, to: 4, term: 6, commit: 0, context: new Uint8Array(0) });
  drainMessages(n, st);
  const asks = (ms: readonly { type: string }[]) => ms.filter((m) => m.type === 'MsgRequestVote' || m.type === 'MsgRequestPreVote').length;
  let asked = 0;
  const roles = new Set<string>();
  for (let i = 0; i < 200; i++) {
    n.tick();
    roles.add(n.status().role);
    asked += asks(drainMessages(n, st));
  }
  t.same([...roles], ['follower'], 'a follower through ten election timeouts');
  n.campaign();
  roles.add(n.status().role);
  asked += asks(drainMessages(n, st));
  t.same([...roles], ['follower'], 'and when the application asks it to campaign');
  n.step({ type: 'MsgTimeoutNow', from: 1, to: 4, term: 6 });
  roles.add(n.status().role);
  asked += asks(drainMessages(n, st));
  t.same([...roles], ['follower'], 'and when a leader hands it leadership');
  t.equal(asked, 0, 'no vote or pre-vote request went out');
  t.equal(n.status().term, 6, 'nor did its term move');

  // The same ticks make a voter campaign: here, promoted, it is the only voter and wins.
  n.applyConfChange(cc('addVoter', 4));
  for (let i = 0; i < 200 && n.status().role !== 'leader'; i++) {
    n.tick();
    drainMessages(n, st);
  }
  t.equal(n.status().role, 'leader', 'promoted, it campaigns at its next timeout');
});

t.test('promoting a learner makes it count', async (t) => {
  const net = groupLedBy1();
  net.addNode(4);
  change(net, 1, 'addLearner', 4);
  net.compact(1, net.node(1).status().applied);
  net.tick(1);
  net.stabilize();
  change(net, 1, 'addVoter', 4);
  t.same(net.confState(1), { voters: [1, 2, 3, 4], learners: [] });
  // Four voters: a quorum is three. With 2 and 3 cut off, 1 and 4 cannot commit.
  net.isolate(2);
  net.isolate(3);
  const idx = write(net, 1, 'two of four');
  t.ok(net.node(1).status().commit < idx, 'two of four voters do not commit');
  net.heal();
  net.isolate(3);
  const idx2 = write(net, 1, 'three of four');
  t.ok(net.node(1).status().commit >= idx2, 'three of four (1, 2, 4) do');
});

t.test('one change at a time: another is refused until the first is applied', async (t) => {
  const net = groupLedBy1();
  net.addNode(4);
  net.addNode(5);
  net.isolate(2);
  net.isolate(3); // the change cannot commit
  net.node(1).proposeConfChange(cc('addLearner', 4));
  net.stabilize();
  t.throws(() => net.node(1).proposeConfChange(cc('addLearner', 5)), ConfChangePendingError, 'refused while the first is pending');
  t.doesNotThrow(() => net.node(1).propose(enc('ordinary writes still go')), 'ordinary proposals are not held up');
  net.heal();
  net.tick(1);
  net.stabilize();
  t.same(net.confState(1).learners, [4], 'the first applied');
  t.doesNotThrow(() => net.node(1).proposeConfChange(cc('addLearner', 5)), 'and now the next is taken');
});

t.test('a new leader takes no change until everything in its log is applied', async (t) => {
  const net = groupLedBy1({ preVote: false, checkQuorum: false });
  net.addNode(5);
  net.addNode(4);
  // The change reaches node 2's log but does not commit before node 1 is cut off.
  net.cutOneWay(1, 3);
  net.drop((m) => m.type === 'MsgAppendResponse' && m.to === 1);
  net.node(1).proposeConfChange(cc('addLearner', 4));
  net.stabilize();
  net.heal();
  net.isolate(1);
  net.drop((m) => m.type === 'MsgAppend' && m.from === 2); // node 2 wins, but commits nothing yet
  net.node(2).campaign();
  net.stabilize();
  t.equal(net.node(2).status().role, 'leader', 'node 2 leads (node 1 is cut off)');
  t.throws(() => net.node(2).proposeConfChange(cc('addLearner', 5)), ConfChangePendingError,
    'its log may hold an unapplied change (it does): no new change yet');
  net.heal();
  net.isolate(1);
  net.tick(2);
  net.stabilize();
  t.ok(net.confState(2).learners?.includes(4), 'node 2 applied the old leader\'s change once its no-op committed');
  t.doesNotThrow(() => net.node(2).proposeConfChange(cc('addLearner', 5)), 'then it takes a new one');
});

t.test('removing a follower shrinks the quorum', async (t) => {
  const net = groupLedBy1();
  change(net, 1, 'removeNode', 3);
  t.same(net.confState(1), { voters: [1, 2], learners: [] });
  t.equal(net.node(1).progress(3), undefined, 'the leader no longer tracks the removed node');
  net.isolate(3);
  const idx = write(net, 1, 'two of two');
  t.ok(net.node(1).status().commit >= idx, 'commits with 1 and 2');
  net.isolate(2);
  const idx2 = write(net, 1, 'one of two');
  t.ok(net.node(1).status().commit < idx2, 'but not with 1 alone');
});

t.test('a leader refuses to remove itself: leadership is transferred first', async (t) => {
  const net = groupLedBy1();
  t.throws(() => net.node(1).proposeConfChange(cc('removeNode', 1)), /transfer leadership before removing it/);
  t.throws(() => net.node(1).proposeConfChange(cc('removeNode', 9)), ConfChangeError, 'nor a change that cannot apply');
  net.node(1).transferLeader(2);
  net.stabilize();
  t.equal(net.leader(), 2);
  change(net, 2, 'removeNode', 1);
  t.same(net.confState(2).voters, [2, 3], 'the new leader removes the old one');
});

t.test('a leader that applies its own removal (proposed by an earlier leader) hands over, and never campaigns again', async (t) => {
  const net = groupLedBy1({ preVote: false, checkQuorum: false });
  // Leader 1 proposes removing node 2; only node 2 gets the entry, and 1 never hears back.
  net.cutOneWay(1, 3);
  net.drop((m) => m.from === 2 && m.to === 1);
  net.node(1).proposeConfChange(cc('removeNode', 2));
  net.stabilize();
  net.heal();
  net.isolate(1);
  // Node 2 (its log the longest) wins, commits the removal of itself with node 3, applies
  // it and hands over to node 3; voters {1, 3} then need node 1 back.
  net.node(2).campaign();
  net.stabilize();
  t.same(net.confState(2).voters, [1, 3], 'node 2 applied its removal');
  t.ok(net.node(3).status().term > net.node(2).status().term - 1 && net.node(2).status().role !== 'leader', 'and gave up leading');
  net.heal();
  for (let i = 0; i < 40 && !(net.leader() === 1 || net.leader() === 3); i++) {
    net.tickAll();
    net.stabilize();
  }
  t.ok(net.leader() === 1 || net.leader() === 3, `node ${net.leader()} leads voters {1, 3}`);
  t.not(net.node(2).status().role, 'leader');
  const lead = net.leader()!;
  const term = net.node(2).status().term;
  net.isolate(lead);
  net.tick(2, 200);
  net.stabilize();
  t.not(net.node(2).status().role, 'candidate', 'the removed node never campaigns');
  t.equal(net.node(2).status().term, term, 'nor raises its term');
});

/** Voters {1, 2}; leader 1 removes itself while node 2 misses the commit; returns who leads after 30 rounds. */
function removeLeaderUnheard(t: Test, faults: FaultInjection): NodeId | undefined {
  const net = groupLedBy1({ preVote: false, checkQuorum: true, config: { faults } });
  change(net, 1, 'removeNode', 3);
  net.isolate(3);
  // Node 2 acknowledges the removal, but gets neither the news that it committed nor the
  // write node 1 takes right after it, until node 1 has applied the removal.
  let blocking = true;
  let removalAt = Infinity;
  net.drop((m) => blocking && m.from === 1 && m.to === 2 &&
    ((m.type === 'MsgAppend' && (m.commit >= removalAt || m.entries.some((e) => e.index > removalAt))) ||
      (m.type === 'MsgHeartbeat' && m.commit >= removalAt)));
  removalAt = net.node(1).proposeConfChange(cc('removeNode', 1)).index;
  // Its own Ready first: proposals of one Ready travel in one append.
  net.processReadies();
  net.node(1).propose(enc('node 2 lacks this'));
  net.stabilize();
  blocking = false;
  t.notOk(net.confState(1).voters.includes(1), 'node 1 applied its removal');
  t.ok(net.confState(2).voters.includes(1), 'node 2 does not know it committed');
  t.ok(net.node(1).status().lastIndex > net.node(2).status().lastIndex, 'and lacks an entry node 1 has');
  for (let i = 0; i < 30 && net.leader() !== 2; i++) {
    net.tickAll();
    net.stabilize();
  }
  if (net.leader() === 2) {
    t.same(net.confState(2).voters, [2], 'node 2 knows it is the only voter');
    const at = net.node(2).propose(enc('alone'));
    net.stabilize();
    t.ok(net.node(2).status().commit >= at.index, 'and commits alone');
  }
  return net.leader();
}

t.test('removedLeaderStepsDownAtOnce (a planted bug, which also lets a leader remove itself): the group is left without a leader', async (t) => {
  // Why a leader never removes itself: stepping down at once leaves node 2 needing node
  // 1's vote, which node 1 refuses (its log is longer, and node 2 does not know the
  // removal committed). Handing over first would need node 2 to be brought up to date.
  t.equal(removeLeaderUnheard(t, { removedLeaderStepsDownAtOnce: true }), undefined, 'nobody leads after 30 election rounds');
});

t.test('a conf change that does not apply is refused by applyConfChange and changes nothing', async (t) => {
  const net = groupLedBy1();
  t.throws(() => net.node(1).applyConfChange({ type: 'removeNode', nodeId: 9 }), ConfChangeError);
  t.same(net.confState(1), { voters: [1, 2, 3], learners: [] });
});

t.test('a node does not campaign while a committed conf change waits to be applied', async (t) => {
  // Its configuration lags the group's: counting votes by it could elect a second leader.
  const run = (faults: FaultInjection) => {
    const st = new MemoryStorage([1, 2, 3], 5, 5);
    st.append([
      { term: 5, index: 6, type: 'confChange', data: encodeConfChange(cc('addVoter', 4)) },
      { term: 5, index: 7, type: 'normal', data: enc('x') },
    ]);
    st.setHardState({ term: 5, vote: 0, commit: 7 });
    const n = newTestNode(1, st, { applied: 5, faults, preVote: true });
    // The first Ready hands out entries 6 and 7, and the application has not applied them
    // yet (a slow apply): the Ready stays outstanding while the node ticks.
    t.same(n.ready().committedEntries.map((e) => e.index), [6, 7]);
    let campaigned = 0;
    for (let i = 0; i < 25; i++) {
      n.tick();
      if (n.status().role !== 'follower') campaigned++;
    }
    return { n, st, campaigned };
  };
  const held = run({});
  t.equal(held.campaigned, 0, 'a follower through 25 ticks (over two election timeouts)');
  const planted = run({ campaignWithUnappliedConfChange: true });
  t.ok(planted.campaigned > 0, `with the planted bug it campaigns (a pre-candidate after ${25 - planted.campaigned} ticks)`);
});

t.test('once the conf change is applied the node campaigns again', async (t) => {
  const st = new MemoryStorage([1, 2, 3], 5, 5);
  st.append([{ term: 5, index: 6, type: 'confChange', data: encodeConfChange(cc('addVoter', 4)) }]);
  st.setHardState({ term: 5, vote: 0, commit: 6 });
  const n = newTestNode(1, st, { applied: 5, preVote: true });
  const rd = n.ready();
  t.same(rd.committedEntries.map((e) => e.index), [6]);
  n.applyConfChange(cc('addVoter', 4));
  n.advance(rd);
  let asked = 0;
  for (let i = 0; i < 25 && asked === 0; i++) {
    n.tick();
    while (n.hasReady()) {
      const r = n.ready();
      asked += r.messages.filter((m) => m.type === 'MsgRequestPreVote').length;
      n.advance(r);
    }
  }
  t.equal(asked, 3, 'asks the three other voters of the new configuration');
});
