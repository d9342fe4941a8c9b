// Messages of one Ready to one peer travel joined: a leader's appends that continue each
// other leave as one append, a follower's acknowledgements as one. The transcript
// src/raft/testdata/append-merge.txt shows the joining, the append that backs up after a
// rejection and is not joined (and transcripts.test.ts that the planted bug
// mergeAppendsBlindly changes it), and the inflights slot a joined append takes. This file
// keeps the case no transcript can build: a follower handed, in one batch, a rejected
// append and then one the leader never sent as such.

import t from 'tap';
import type { Message, MsgAppend, MsgAppendResponse, NodeId } from './types.js';
import { groupLedBy1 } from './testing/mem-network.js';
import type { MemNetwork } from './testing/mem-network.js';
import { enc } from '../../test/support/bytes.js';

const appendsTo = (msgs: readonly Message[], to: NodeId) => msgs.filter((m): m is MsgAppend => m.type === 'MsgAppend' && m.to === to);

function deliverAll(net: MemNetwork, msgs: readonly Message[]): void {
  for (const m of msgs) net.deliver(m);
}

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
