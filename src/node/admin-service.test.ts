// How one FaultRequest (what `tinykv chaos` sends) changes a store's network filters.

import t from 'tap';
import { applyFaultRequest } from './admin-service.js';
import { linkCut, NO_FAULTS } from '../raftstore/index.js';

const ALL = [1, 2, 3, 4, 5];

t.test('drop rate: set, changed, and cleared by an explicit 0', async (t) => {
  let f = applyFaultRequest(NO_FAULTS, { drop_rate: 0.3, set_drop_rate: true }, 1, ALL);
  t.equal(f.dropRate, 0.3);
  f = applyFaultRequest(f, { drop_rate: 0.5, set_drop_rate: true }, 1, ALL);
  t.equal(f.dropRate, 0.5);
  f = applyFaultRequest(f, { drop_rate: 0, set_drop_rate: true }, 1, ALL);
  t.equal(f.dropRate, 0, '`chaos drop --rate 0` stops random loss');
});

t.test('a request that does not mention the drop rate keeps it', async (t) => {
  const lossy = applyFaultRequest(NO_FAULTS, { drop_rate: 0.2, set_drop_rate: true }, 1, ALL);
  const f = applyFaultRequest(lossy, { group_a: [1, 2], group_b: [3, 4, 5] }, 1, ALL);
  t.equal(f.dropRate, 0.2);
  t.ok(linkCut(f, 1, 3) && linkCut(f, 5, 2), 'the partition cuts across the groups');
  t.notOk(linkCut(f, 1, 2) || linkCut(f, 3, 5), 'and not within them');
});

t.test('a store named in neither group talks to nobody; heal removes everything', async (t) => {
  const f = applyFaultRequest(NO_FAULTS, { group_a: [1, 2], group_b: [3], drop_rate: 0.1, set_drop_rate: true }, 1, [1, 2, 3, 4]);
  t.ok(linkCut(f, 4, 1) && linkCut(f, 4, 3));
  t.same(applyFaultRequest(f, { heal: true }, 1, ALL), NO_FAULTS);
});

t.test('drop rates above 1 are clamped', async (t) => {
  t.equal(applyFaultRequest(NO_FAULTS, { drop_rate: 7, set_drop_rate: true }, 1, ALL).dropRate, 1);
});
