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

t.test('an attempt that runs out of time is cancelled at the store, which was told its deadline', async (t) => {
  // A store that takes calls and never answers (a paused process): each attempt's stream
  // must be closed by the client when the attempt gives up, not left open on the store.
  const { createServer } = await import('node:http2');
  const { GrpcStoreConnection } = await import('./grpc-connection.js');
  const { UnknownOutcomeError } = await import('./errors.js');
  const timeouts: string[] = [];
  let open = 0;
  let opened = 0;
  const server = createServer();
  server.on('stream', (stream, headers) => {
    opened++;
    open++;
    timeouts.push(String(headers['grpc-timeout'] ?? 'none'));
    stream.on('close', () => open--);
    stream.on('data', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const conns: InstanceType<typeof GrpcStoreConnection>[] = [];
  t.teardown(() => {
    for (const c of conns) c.close();
    server.close();
  });
  const client = new KvClient({
    storeIds: [1], clientId: 7, timeoutMs: 700, attemptTimeoutMs: 200,
    connect: (id) => {
      const c = new GrpcStoreConnection(id, `127.0.0.1:${port}`);
      conns.push(c);
      return c;
    },
  });
  const err = await client.put(new Uint8Array([1]), new Uint8Array([2])).catch((e: Error) => e);
  t.ok(err instanceof UnknownOutcomeError, `the write's outcome is unknown (${(err as Error).message})`);
  t.ok(opened >= 2, `${opened} attempts reached the store`);
  t.ok(timeouts.every((x) => /^\d+m$/.test(x) && Number(x.slice(0, -1)) <= 200), `each carried its deadline (${timeouts.join(', ')})`);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(open, 0, 'no call is left open on the store');
});
