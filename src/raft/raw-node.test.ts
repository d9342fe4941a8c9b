import t from 'tap';
import { MemNetwork } from './testing/mem-network.js';
import { enc, dec } from '../../test/support/bytes.js';

t.test('a 3-node group elects a leader and commits a proposal everywhere', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3] });
  net.node(1).campaign();
  net.stabilize();
  t.equal(net.leader(), 1);
  const { index, term } = net.node(1).propose(enc('hello'));
  net.stabilize();
  t.equal(term, net.node(1).status().term);
  for (const id of [1, 2, 3]) {
    const e = net.applied.get(id)!.find((x) => x.index === index);
    t.ok(e, `node ${id} applied index ${index}`);
    t.equal(dec(e!.data), 'hello');
  }
});

t.test('elections happen from ticks alone', async (t) => {
  const net = new MemNetwork({ ids: [1, 2, 3], seed: 7 });
  for (let i = 0; i < 40 && net.leader() === undefined; i++) {
    net.tickAll();
    net.stabilize();
  }
  t.ok(net.leader() !== undefined, 'a leader emerged');
});

t.test('ready() refuses a second Ready before advance', async (t) => {
  const net = new MemNetwork({ ids: [1] });
  net.node(1).campaign();
  const rd = net.node(1).ready();
  t.throws(() => net.node(1).ready());
  t.equal(net.node(1).hasReady(), false);
  net.node(1).advance(rd);
  t.equal(net.node(1).status().role, 'leader');
});
