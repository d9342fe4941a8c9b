// How one FaultRequest (what `tinykv chaos` sends) changes a store's network filters.

import { GrpcServer } from './grpc-server.js';
import t, { type Test } from 'tap';
import { ChangePeerRefusedError, StoreStoppedError } from '../api/errors.js';
import { AdminClient } from '../client/index.js';
import type { Store } from '../raftstore/index.js';
import { AdminService } from '../rpc/services.js';
import { adminHandlers, type AdminDeps } from './admin-service.js';
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

/** An Admin server over `store` (undefined: a store not running); the client to it. */
async function serveAdmin(t: Test, store: Store | undefined): Promise<AdminClient> {
  const deps: AdminDeps = {
    storeId: 1, store: () => store, startedAt: 0, now: () => 0, allStoreIds: [1, 2, 3],
    getFaults: () => NO_FAULTS, setFaults: () => {},
    identity: async () => { throw new Error('not asked'); },
    dbBytes: async () => ({ raftdb: 0, kvdb: 0 }),
  };
  const server = new GrpcServer({ maxReceiveBytes: 1024 * 1024 });
  server.addService(AdminService, adminHandlers(deps));
  const { port } = await server.listen('127.0.0.1', 0);
  const client = new AdminClient(`127.0.0.1:${port}`);
  t.teardown(() => { client.close(); server.forceShutdown(); });
  return client;
}

t.test('a change-peer refusal arrives with its region and whether asking again may succeed', async (t) => {
  for (const retryable of [true, false]) {
    const refusal = new ChangePeerRefusedError(1, retryable ? 'an earlier change is not applied yet' : 'store 2 is already a voter', retryable);
    const store = { changePeer: () => Promise.reject(refusal) } as unknown as Store;
    const admin = await serveAdmin(t, store);
    const got = await admin.changePeer('addVoter', 2).catch((e: unknown) => e);
    t.ok(got instanceof ChangePeerRefusedError, String(got));
    t.same({ ...(got as ChangePeerRefusedError), message: (got as Error).message }, { ...refusal, message: refusal.message }, `retryable: ${retryable}`);
  }
});

t.test('a store that is not running answers STORE_STOPPED, not SERVER_IS_BUSY', async (t) => {
  const admin = await serveAdmin(t, undefined);
  for (const call of [() => admin.changePeer('addVoter', 2), () => admin.transferLeader(2)]) {
    const got = await call().catch((e: unknown) => e);
    t.ok(got instanceof StoreStoppedError && got.storeId === 1, String(got));
  }
});
