// ReadIndex (Raft thesis §6.4): a linearizable read point is the leader's commit index
// at the time of the request, released only after a heartbeat round shows a quorum
// still follows this leader, and only once the leader has committed an entry of its own
// term. Followers forward reads to the leader and receive the read point back.

import t from 'tap';
import type { Message, MsgHeartbeat } from './types.js';
import { ReadOnly } from './read-only.js';
import { groupLedBy1, MemNetwork } from './testing/mem-network.js';
import type { MemNetworkOptions } from './testing/mem-network.js';
import { enc, dec } from '../../test/support/bytes.js';

const reads = (net: MemNetwork, id: number) => net.readStates.get(id)!.map((r) => [r.index, dec(r.context)]);
const isHeartbeat = (m: Message): m is MsgHeartbeat => m.type === 'MsgHeartbeat';

t.test('thesis §6.4: a leader\'s read waits for a heartbeat quorum and uses the commit index at request time', async (t) => {
  const net = groupLedBy1();
  net.node(1).propose(enc('a'));
  net.stabilize();
  net.node(1).propose(enc('b')); // appended (index 8) but not yet replicated
  const appends = net.take();
  const atRequest = net.node(1).status().commit;
  t.same([atRequest, net.node(1).status().lastIndex], [7, 8], 'the read arrives while 8 is uncommitted');
  net.node(1).readIndex(enc('r'));
  const held = net.take();
  t.same(held.filter(isHeartbeat).map((m) => [m.to, dec(m.context)]), [[2, 'r'], [3, 'r']], 'a heartbeat round carries the context');
  t.same(reads(net, 1), [], 'no read state on the leader\'s word alone');

  net.send(...appends); // the commit index moves on before the round completes
  net.stabilize();
  t.equal(net.node(1).status().commit, 8);
  t.same(reads(net, 1), [], 'unrelated traffic does not confirm the read');

  net.deliver(held.find((m) => isHeartbeat(m) && m.to === 2)!);
  net.stabilize();
  t.same(reads(net, 1), [[atRequest, 'r']], 'one follower plus the leader is a quorum; index is commit at request time');
});

t.test('thesis §6.4: a new leader serves no read until it has committed an entry of its term', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3] });
  net.drop((m) => m.from === 1 && (m.type === 'MsgAppend' || m.type === 'MsgHeartbeat'));
  net.node(1).campaign();
  net.stabilize();
  t.same([net.leader(), net.node(1).status().commit], [1, 5], 'leader whose first entry (6) is not committed');
  net.node(1).readIndex(enc('early'));
  const out = net.take();
  t.same(out, [], 'the read is held back: no heartbeat round yet');
  t.same(reads(net, 1), []);
  net.heal();
  net.tick(1);
  net.stabilize();
  t.equal(net.node(1).status().commit, 6);
  t.same(reads(net, 1), [[6, 'early']], 'served once the term\'s entry commits, at that commit index');
  net.node(1).propose(enc('later'));
  net.stabilize();
  t.same(reads(net, 1), [[6, 'early']], 'a later commit serves it no second time');
});

t.test('thesis §6.4: a leader cut off from the group never produces a read state', async (t) => {
  for (const checkQuorum of [true, false]) {
    const net = groupLedBy1({ checkQuorum, seed: 4 });
    net.isolate(1);
    net.node(1).readIndex(enc('stale'));
    for (let i = 0; i < 60; i++) {
      net.tickAll();
      net.stabilize();
    }
    // Without CheckQuorum node 1 still believes it leads; look for the majority's leader.
    const lead = [2, 3].find((id) => net.node(id).status().role === 'leader');
    t.ok(lead !== undefined, `checkQuorum=${checkQuorum}: the majority elected ${lead}`);
    t.equal(net.node(1).status().role === 'leader', !checkQuorum, 'the old leader stepped down only with CheckQuorum');
    net.node(lead!).propose(enc('newer'));
    net.stabilize();
    net.heal();
    for (let i = 0; i < 30; i++) {
      net.tickAll();
      net.stabilize();
    }
    t.same(reads(net, 1), [], `checkQuorum=${checkQuorum}: the old leader never answered the read`);
    t.not(net.node(1).status().role, 'leader', `checkQuorum=${checkQuorum}: and it rejoined as follower`);
  }
});

t.test('thesis §6.4: a follower forwards its read; the read state appears on the follower', async (t) => {
  const net = groupLedBy1();
  net.node(1).propose(enc('a'));
  net.stabilize();
  const seen: string[] = [];
  net.observe((m) => seen.push(`${m.type} ${m.from}>${m.to}`));
  net.node(3).readIndex(enc('f'));
  net.stabilize();
  t.same(reads(net, 3), [[7, 'f']]);
  t.same(reads(net, 1), [], 'not on the leader');
  t.ok(seen.includes('MsgReadIndex 3>1') && seen.includes('MsgReadIndexResponse 1>3'), 'forwarded and answered');
});

t.test('thesis §6.4: a follower with no known leader drops the read', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3] });
  net.node(2).readIndex(enc('x'));
  t.same(net.take(), []);
  t.same(reads(net, 2), []);
});

t.test('thesis §6.4: one quorum round releases every earlier read, but not later ones', async (t) => {
  const net = groupLedBy1();
  const held: MsgHeartbeat[] = [];
  for (const ctx of ['r1', 'r2', 'r3']) {
    net.node(1).readIndex(enc(ctx));
    held.push(...net.take().filter(isHeartbeat));
    net.node(1).propose(enc(`w-${ctx}`)); // each read sees a different commit index
    net.stabilize();
  }
  const beat = (ctx: string, to: number) => held.find((m) => dec(m.context) === ctx && m.to === to)!;
  net.deliver(beat('r1', 2));
  net.stabilize();
  t.same(reads(net, 1), [[6, 'r1']], 'an ack for r1 releases r1 only');
  net.deliver(beat('r3', 3));
  net.stabilize();
  t.same(reads(net, 1), [[6, 'r1'], [7, 'r2'], [8, 'r3']], 'an ack for r3 also releases r2, in order');
  net.deliver(beat('r2', 2));
  net.stabilize();
  t.equal(reads(net, 1).length, 3, 'a late ack releases nothing twice');
});

t.test('thesis §6.4: the heartbeat tick re-sends the newest pending context', async (t) => {
  const net = groupLedBy1();
  net.drop(isHeartbeat);
  net.node(1).readIndex(enc('lost'));
  net.stabilize();
  t.same(reads(net, 1), []);
  net.heal();
  net.tick(1);
  net.stabilize();
  t.same(reads(net, 1), [[6, 'lost']], 'the next heartbeat round confirms it');
});

t.test('thesis §6.4: a single-node group answers at once', async (t) => {
  const net = new MemNetwork({ ids: [1] });
  net.node(1).campaign();
  net.stabilize();
  net.node(1).propose(enc('a'));
  net.stabilize();
  net.node(1).readIndex(enc('solo'));
  const out = net.take();
  t.same(out, [], 'no messages needed');
  t.same(reads(net, 1), [[7, 'solo']]);
});

t.test('thesis §6.4: a read whose context is already pending is not queued twice', async (t) => {
  const net = groupLedBy1();
  net.node(1).readIndex(enc('dup'));
  net.node(1).readIndex(enc('dup'));
  const held = net.take().filter(isHeartbeat);
  t.same(held.map((m) => [m.to, dec(m.context)]), [[2, 'dup'], [3, 'dup']], 'one heartbeat round, not two');
  net.send(...held);
  net.stabilize();
  t.same(reads(net, 1), [[6, 'dup']], 'and one read state');
});

// The leader's queue itself (read-only.ts), for the cases the protocol above reaches only
// through other guards.
t.test('thesis §6.4: the read queue tells contexts apart byte for byte', async (t) => {
  const ro = new ReadOnly();
  // As hex without padding both would read "123".
  t.equal(ro.add(new Uint8Array([0x1, 0x23]), 1, 7, 1), true);
  t.equal(ro.add(new Uint8Array([0x12, 0x3]), 1, 8, 1), true, 'a different context is a different read');
  t.equal(ro.add(new Uint8Array([0x1, 0x23]), 1, 9, 1), false, 'the same bytes again are a duplicate');
  t.equal(ro.pendingCount, 2);
});

t.test('thesis §6.4: acks and releases of a context that is not pending change nothing', async (t) => {
  const ro = new ReadOnly();
  ro.add(enc('a'), 1, 7, 1);
  t.equal(ro.recvAck(2, enc('b')), undefined);
  t.same(ro.advance(enc('b')), [], 'nothing released');
  t.equal(ro.pendingCount, 1, 'the pending read stays');
  t.same([...ro.recvAck(2, enc('a'))!].sort(), [1, 2], 'the leader counts itself, plus each follower that answered');
});

t.test('thesis §6.4: after a reset (leadership lost) the same context can be asked again', async (t) => {
  const ro = new ReadOnly();
  ro.add(enc('a'), 1, 7, 1);
  ro.reset();
  t.equal(ro.pendingCount, 0);
  t.equal(ro.lastPendingContext(), undefined);
  t.equal(ro.add(enc('a'), 1, 9, 1), true, 'a retried read is queued, not taken for a duplicate of the dropped one');
  t.same(ro.advance(enc('a')).map((r) => r.index), [9]);
});

t.test('thesis §6.4: a leader that has applied its own removal serves no read, not even with the new voters\' heartbeats', async (t) => {
  // Handing over, it is no longer one of the voters: a newer leader may already serve writes,
  // and a quorum of the new configuration answering its heartbeats says nothing about that.
  const net = groupLedBy1();
  net.node(1).propose(enc('a'));
  net.stabilize();
  net.node(1).applyConfChange({ type: 'removeNode', nodeId: 1 });
  net.take();
  net.node(1).readIndex(enc('r'));
  const out = net.take();
  t.same(out.filter((m) => isHeartbeat(m) && dec(m.context) === 'r'), [], 'no heartbeat round for the read');
  net.send(...out);
  net.stabilize();
  t.same(reads(net, 1), [], 'and no read state');
});
