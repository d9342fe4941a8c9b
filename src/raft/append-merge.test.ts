// Messages of one Ready to one peer travel joined: a leader's appends that continue each
// other leave as one append, a follower's acknowledgements as one. What must not be joined:
// an append that backs up after a rejection (planted bug mergeAppendsBlindly), and a
// rejection (its hint is what the leader needs).

import t from 'tap';
import type { FaultInjection } from './config.js';
import type { Message, MsgAppend, MsgAppendResponse, NodeId } from './types.js';
import { groupLedBy1 } from './testing/mem-network.js';
import type { MemNetwork } from './testing/mem-network.js';

const enc = (s: string) => new TextEncoder().encode(s);
const appendsTo = (msgs: readonly Message[], to: NodeId) => msgs.filter((m): m is MsgAppend => m.type === 'MsgAppend' && m.to === to);
const indexes = (m: MsgAppend) => m.entries.map((e) => e.index);

function deliverAll(net: MemNetwork, msgs: readonly Message[]): void {
  for (const m of msgs) net.deliver(m);
}

t.test('the proposals of one Ready reach each follower in one append, answered once', async (t) => {
  const net = groupLedBy1({ preVote: false, checkQuorum: false });
  const last = net.node(1).status().lastIndex;
  for (let i = 0; i < 10; i++) net.node(1).propose(enc(`p${i}`));
  const out = net.take();
  for (const to of [2, 3]) {
    const apps = appendsTo(out, to);
    t.equal(apps.length, 1, `one append to node ${to}`);
    t.same(indexes(apps[0]!), Array.from({ length: 10 }, (_, i) => last + 1 + i), 'carrying all ten entries in order');
    t.equal(apps[0]!.index, last, 'after the entry the follower holds');
  }
  t.same(net.node(1).progress(2), { match: last, next: last + 11, state: 'replicate' });
  deliverAll(net, out);
  const answers = net.take().filter((m): m is MsgAppendResponse => m.type === 'MsgAppendResponse');
  t.same(answers.map((m) => [m.from, m.index, m.reject]), [[2, last + 10, false], [3, last + 10, false]], 'one acknowledgement from each');
  deliverAll(net, answers);
  net.stabilize();
  t.equal(net.node(3).status().commit, last + 10, 'all committed everywhere');
});

t.test('a follower that gets several appends at once acknowledges them once', async (t) => {
  const net = groupLedBy1({ preVote: false, checkQuorum: false });
  const last = net.node(1).status().lastIndex;
  const inFlight: Message[] = [];
  for (let i = 0; i < 3; i++) {
    net.node(1).propose(enc(`p${i}`));
    inFlight.push(...net.take()); // three Readies of the leader: three appends per follower
  }
  t.equal(appendsTo(inFlight, 2).length, 3);
  deliverAll(net, inFlight);
  const answers = net.take().filter((m) => m.type === 'MsgAppendResponse' && m.from === 2);
  t.same(answers.map((m) => (m as MsgAppendResponse).index), [last + 3], 'the last acknowledgement says all');
});

/**
 * Node 3 misses two entries, then in one of the leader's Readies: a new proposal's append
 * to node 3 is pending when node 3's rejection arrives and the leader backs up. Returns
 * the appends to node 3 of that Ready, and whether node 3 caught up in one more exchange.
 */
function backUpWhileAppendPending(faults: FaultInjection): { apps: MsgAppend[]; base: number; caughtUp: boolean } {
  const net = groupLedBy1({ preVote: false, checkQuorum: false, config: { faults } });
  const base = net.node(1).status().lastIndex;
  net.isolate(3);
  for (const s of ['a', 'b']) {
    net.node(1).propose(enc(s));
    net.stabilize();
  }
  net.heal();
  net.node(1).propose(enc('c'));
  const toThree = net.take().filter((m) => m.to === 3);
  deliverAll(net, toThree); // node 3 lacks a and b: it rejects
  const rejection = net.take().filter((m) => m.type === 'MsgAppendResponse' && m.to === 1);
  if (!rejection.some((m) => (m as MsgAppendResponse).reject)) throw new Error('setup: node 3 did not reject');
  net.node(1).propose(enc('d')); // its append to node 3 is pending...
  deliverAll(net, rejection); // ...when the rejection makes the leader back up
  const out = net.take();
  const apps = appendsTo(out, 3);
  deliverAll(net, out.filter((m) => m.to === 3));
  net.take();
  return { apps, base, caughtUp: net.node(3).status().lastIndex === base + 4 };
}

t.test('an append that backs up after a rejection is not joined to the pending one', async (t) => {
  const { apps, base, caughtUp } = backUpWhileAppendPending({});
  t.same(apps.map((m) => [m.index, indexes(m)]), [[base + 3, [base + 4]], [base, [base + 1, base + 2, base + 3, base + 4]]],
    'the pending append, then one from where node 3\'s log ends');
  t.ok(caughtUp, 'node 3 holds every entry after one exchange');

  const bug = backUpWhileAppendPending({ mergeAppendsBlindly: true });
  t.equal(bug.apps.length, 1, 'mergeAppendsBlindly (a planted bug): the two are joined');
  t.notOk(bug.caughtUp, 'and node 3, sent entries after an index it does not hold, is still behind');
});

t.test('a rejection is never replaced by a later acknowledgement', async (t) => {
  const net = groupLedBy1({ preVote: false, checkQuorum: false });
  const base = net.node(1).status().lastIndex;
  const lost: MsgAppend[] = [];
  net.drop((m) => {
    if (m.type !== 'MsgAppend' || m.to !== 3) return false;
    if (m.entries.length > 0) lost.push(m);
    return true;
  });
  net.node(1).propose(enc('a'));
  net.stabilize();
  net.heal();
  net.node(1).propose(enc('b'));
  const appendOfB = appendsTo(net.take(), 3)[0]!;
  // Node 3 gets, in one batch, the append of b (it lacks a: rejected), then one from its
  // own last index carrying a and b (acknowledged, further than the rejected index).
  const fromBase: MsgAppend = { ...lost[0]!, entries: [...lost[0]!.entries, ...appendOfB.entries] };
  deliverAll(net, [appendOfB, fromBase]);
  const answers = net.take().filter((m): m is MsgAppendResponse => m.type === 'MsgAppendResponse');
  t.same(answers.map((m) => [m.index, m.reject]), [[base + 1, true], [base + 2, false]], 'the rejection and the acknowledgement both leave');
});

t.test('a joined append takes one slot of the inflights window', async (t) => {
  const net = groupLedBy1({ preVote: false, checkQuorum: false, config: { maxInflightMsgs: 2 } });
  const sent: MsgAppend[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5; i++) net.node(1).propose(enc(`r${round}p${i}`));
    sent.push(...appendsTo(net.take(), 2)); // nothing delivered: every append stays unacknowledged
  }
  // Round 0: five entries joined in one append, one slot. Round 1: its first proposal takes
  // the second slot, and the window is full; the rest wait for an acknowledgement.
  t.same(sent.map((m) => m.entries.length), [5, 1], 'a window of two: five entries in the first slot, one in the second');
});
