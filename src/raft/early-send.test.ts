// Which messages of a Ready may go out before the Ready is persisted (sendableBeforePersist):
// a leader's appends and heartbeats, as long as their commit index covers none of the
// entries the Ready appends. A lone voter commits its own entries at once, so its appends
// to learners must wait: a learner would otherwise apply an entry the leader could lose.

import t from 'tap';
import { MemoryStorage } from './storage.js';
import { groupLedBy1, MemNetwork } from './testing/mem-network.js';
import { sendableBeforePersist } from './types.js';

const enc = (s: string) => new TextEncoder().encode(s);

t.test('a leader of three sends its appends while it writes them', async (t) => {
  const net = groupLedBy1();
  const n = net.node(1);
  const term = net.storages.get(1)!.initialState().hardState.term;
  n.propose(enc('x'));
  const rd = n.ready();
  const apps = rd.messages.filter((m) => m.type === 'MsgAppend');
  t.equal(apps.length, 2, 'an append to each follower');
  t.ok(apps.every((m) => sendableBeforePersist(m, rd, term)), 'both may go before the entry is written');
  t.notOk(sendableBeforePersist(apps[0]!, rd, term - 1), 'not in a term that is not yet durable');
});

t.test('a lone voter with a learner holds its appends until they are written', async (t) => {
  // Both start from a snapshot in which 1 is the only voter and 2 a learner.
  const net = new MemNetwork({
    ids: [1, 2],
    storage: () => {
      const st = new MemoryStorage([1], 4, 5);
      const snap = st.snapshot();
      st.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 5, confState: { voters: [1], learners: [2] } } });
      return st;
    },
  });
  net.node(1).campaign();
  net.stabilize();
  net.tick(1);
  net.stabilize();
  t.same(net.confState(1), { voters: [1], learners: [2] });
  t.equal(net.node(1).progress(2)?.state, 'replicate', 'the learner caught up');
  const n = net.node(1);
  const term = net.storages.get(1)!.initialState().hardState.term;
  n.propose(enc('y'));
  const rd = n.ready();
  const last = rd.entries.at(-1)!.index;
  const app = rd.messages.find((m) => m.type === 'MsgAppend' && m.to === 2);
  t.ok(app && app.type === 'MsgAppend' && app.commit === last, 'the append already carries the commit of its own entry');
  t.notOk(sendableBeforePersist(app!, rd, term), 'so it waits for the write');
  t.ok(rd.messages.filter((m) => m.type === 'MsgRequestVote' || m.type === 'MsgAppendResponse').every((m) => !sendableBeforePersist(m, rd, term)));
});

t.test('only appends and heartbeats', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3] });
  net.node(1).campaign();
  const rd = net.node(1).ready();
  const votes = rd.messages.filter((m) => m.type === 'MsgRequestPreVote' || m.type === 'MsgRequestVote');
  t.ok(votes.length > 0);
  t.ok(votes.every((m) => !sendableBeforePersist(m, rd, m.term)), 'votes wait, whatever the term');
});
