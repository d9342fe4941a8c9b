// KvClient's choice of the first store to ask: the one it was told led last (firstStore),
// else the first of its stores; the leader it then knows is the store that answered.

import t from 'tap';
import { NotLeaderError } from '../api/errors.js';
import type { StoreConnection } from './connection.js';
import { KvClient } from './kv-client.js';

/** Three stores where store 3 leads; the others answer NotLeader naming it. Records who was asked. */
function cluster(): { asked: number[]; connect: (id: number) => StoreConnection } {
  const asked: number[] = [];
  const connect = (id: number): StoreConnection => {
    const answer = async <T>(v: T): Promise<T> => {
      asked.push(id);
      if (id !== 3) throw new NotLeaderError(1, { id: 30, storeId: 3 });
      return v;
    };
    return {
      storeId: id,
      get: () => answer(new Uint8Array([1])),
      scan: () => answer([]),
      put: () => answer(undefined),
      delete: () => answer(undefined),
      deleteRange: () => answer(0),
    };
  };
  return { asked, connect };
}

t.test('without a hint the client starts at the first store and follows NotLeader', async (t) => {
  const c = cluster();
  const client = new KvClient({ storeIds: [1, 2, 3], connect: c.connect, clientId: 1 });
  t.equal(client.knownLeader, undefined);
  await client.get(new Uint8Array([0]));
  t.same(c.asked, [1, 3]);
  t.equal(client.knownLeader, 3);
});

t.test('firstStore is asked first: one request when it leads', async (t) => {
  const c = cluster();
  const client = new KvClient({ storeIds: [1, 2, 3], connect: c.connect, clientId: 1, firstStore: 3 });
  t.equal(client.knownLeader, 3);
  await client.get(new Uint8Array([0]));
  t.same(c.asked, [3]);
});

t.test('a stale firstStore costs one redirect; an unknown one is ignored', async (t) => {
  const stale = cluster();
  await new KvClient({ storeIds: [1, 2, 3], connect: stale.connect, clientId: 1, firstStore: 2 }).put(new Uint8Array([0]), new Uint8Array([1]));
  t.same(stale.asked, [2, 3]);
  const unknown = cluster();
  const client = new KvClient({ storeIds: [1, 2, 3], connect: unknown.connect, clientId: 1, firstStore: 9 });
  t.equal(client.knownLeader, undefined);
  await client.get(new Uint8Array([0]));
  t.same(unknown.asked, [1, 3]);
});
