// A request the region cannot take is refused with what the client needs to route it
// again: EpochNotMatch carries the region as its leader has it now (range, epoch, peers),
// both for a request checked on arrival and for a write that went stale in the log.

import t from 'tap';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { EpochNotMatchError } from '../../src/raftstore/errors.js';
import type { RegionId } from '../../src/raftstore/ids.js';
import { eventually } from '../support/wait.js';

import { enc } from '../support/bytes.js';

t.test('a request with an old epoch gets EpochNotMatch with the current region', async (t) => {
  const cluster = await Cluster.start({ stores: 3, seed: 7, tickMs: 10, electionTick: 10, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  await eventually('a leader', () => cluster.leaderId() !== undefined);
  const leader = cluster.store(cluster.leaderId()!)!;
  const region = leader.region()!;
  const stale = { regionId: region.id as RegionId, epoch: { confVer: region.epoch.confVer - 1, version: region.epoch.version } };
  for (const [what, op] of [
    ['put', () => leader.put(stale, enc('k'), enc('v'))],
    ['get', () => leader.get(stale, enc('k'))],
  ] as const) {
    const err = await op().then(() => undefined, (e: unknown) => e as Error);
    t.ok(err instanceof EpochNotMatchError, `${what}: EpochNotMatch (got ${err?.constructor.name})`);
    const e = err as EpochNotMatchError;
    t.same(e.current, region.epoch, `${what}: the current epoch`);
    t.same(e.regions, [region], `${what}: the region as the leader has it (range, epoch, peers)`);
  }
});
