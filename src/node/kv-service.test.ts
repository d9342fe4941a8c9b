// The store's BatchCommands handler, driven by the client's batch connection: each request
// ends as its unary call would (answer, region error, invalid request, UNAVAILABLE), and a
// stopping store refuses new requests, answers the ones it took, then ends the stream.

import { GrpcServer } from './grpc-server.js';
import { GrpcStatus } from '../api/wire-errors.js';
import t, { type Test } from 'tap';
import { EpochNotMatchError, InvalidRequestError, NotLeaderError, StoreStoppedError } from '../api/errors.js';
import { BatchChannel } from '../client/index.js';
import { GrpcStoreConnection } from '../client/index.js';
import { StatusError, UnaryChannel } from '../client/index.js';
import type { Store } from '../raftstore/index.js';
import { TinyKvService } from '../rpc/services.js';
import { InFlight, kvHandlers } from './kv-service.js';
import { enc as b } from '../../test/support/bytes.js';
import { eventually } from '../../test/support/wait.js';

const H = { regionId: 1 };
const SESSION = { clientId: 9, sequence: 1, sentAtMs: 0 };

interface Fixture {
  readonly addr: string;
  readonly inflight: InFlight;
  readonly data: Map<string, string>;
  /** Puts of keys starting "slow" wait here until released. */
  readonly slow: Array<() => void>;
  /** Batch streams the server ended. */
  ended: number;
}

async function start(t: Test): Promise<Fixture> {
  const data = new Map<string, string>();
  const slow: Array<() => void> = [];
  const store = {
    async get(_h: unknown, key: Uint8Array) {
      const v = data.get(Buffer.from(key).toString());
      return v === undefined ? undefined : b(v);
    },
    async put(_h: unknown, key: Uint8Array, value: Uint8Array) {
      const k = Buffer.from(key).toString();
      if (k === 'not-leader') throw new NotLeaderError(1, { id: 2, storeId: 2 });
      if (k === 'invalid') throw new InvalidRequestError('key too large');
      if (k === 'crash') throw new Error('engine on fire');
      if (k === 'stopping') throw new StoreStoppedError(1);
      if (k === 'old-epoch') throw new EpochNotMatchError(1, { confVer: 3, version: 2 });
      if (k.startsWith('slow')) await new Promise<void>((r) => slow.push(r));
      data.set(k, Buffer.from(value).toString());
    },
    async delete(_h: unknown, key: Uint8Array) {
      data.delete(Buffer.from(key).toString());
    },
    async deleteRange() {
      return { deleted: 0 };
    },
    async scan(_h: unknown, start: Uint8Array) {
      const from = Buffer.from(start).toString();
      // "big:N": one pair with an N-byte value.
      if (from.startsWith('big:')) return [[b(from), Buffer.alloc(Number(from.slice(4)), 1)] as const];
      return [...data].sort().map(([k, v]) => [b(k), b(v)] as const);
    },
  } as unknown as Store;
  const inflight = new InFlight();
  const handlers = kvHandlers(() => store, inflight);
  const f: Fixture = { addr: '', inflight, data, slow, ended: 0 };
  const server = new GrpcServer({ maxReceiveBytes: 64 * 1024 * 1024 });
  server.addService(TinyKvService, {
    ...handlers,
    batchCommands: (call: Parameters<typeof handlers.batchCommands>[0]) => {
      const end = call.end.bind(call);
      call.end = () => {
        f.ended++;
        end();
      };
      handlers.batchCommands(call);
    },
  });
  const { port } = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.forceShutdown());
  return Object.assign(f, { addr: `127.0.0.1:${port}` });
}

t.test('each batched request ends as its unary call would', async (t) => {
  const f = await start(t);
  const conn = new GrpcStoreConnection(1, f.addr, { batch: true });
  t.teardown(() => conn.close());
  const outcomes = await Promise.allSettled([
    conn.put(H, b('a'), b('1'), SESSION),
    conn.put(H, b('not-leader'), b('x'), SESSION),
    conn.put(H, b('invalid'), b('x'), SESSION),
    conn.put(H, b('crash'), b('x'), SESSION),
    conn.get(H, b('missing')),
  ]);
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
  const reason = (i: number) => (outcomes[i] as PromiseRejectedResult).reason as Error;
  t.ok(reason(1) instanceof NotLeaderError && (reason(1) as NotLeaderError).leader?.storeId === 2, `region error: ${reason(1).message}`);
  t.ok(reason(2) instanceof InvalidRequestError && reason(2).message === 'key too large', `invalid: ${reason(2).message}`);
  t.match(reason(3).message, /^store 1 \(127\.0\.0\.1:\d+\): unavailable$/, 'any other failure: UNAVAILABLE');
  t.equal((outcomes[4] as PromiseFulfilledResult<unknown>).value, undefined, 'not found');
  t.equal(Buffer.from((await conn.get(H, b('a')))!).toString(), '1');
  t.same((await conn.scan(H, b(''), b(''), 10)).map(([k]) => Buffer.from(k).toString()), ['a']);
  t.equal(f.inflight.count, 0, 'nothing left in flight');
});

t.test('a request naming no command is refused with INVALID_ARGUMENT', async (t) => {
  const f = await start(t);
  const unary = new UnaryChannel(f.addr);
  const ch = new BatchChannel(unary);
  t.teardown(() => { ch.close(); unary.close(); });
  const err = await ch.invoke('no_such' as 'raw_get', { key: b('k') }).catch((e: unknown) => e);
  t.ok(err instanceof StatusError && err.status === GrpcStatus.INVALID_ARGUMENT, String(err));
});

t.test('a stopping store refuses new requests, answers the ones it took, then ends the stream', async (t) => {
  const f = await start(t);
  const conn = new GrpcStoreConnection(1, f.addr, { batch: true });
  t.teardown(() => conn.close());
  await conn.put(H, b('warm'), b('1'), SESSION);
  const taken = conn.put(H, b('slow-1'), b('v'), SESSION);
  await eventually('the slow request reached the service', () => f.slow.length > 0, { everyMs: 5 });
  f.inflight.stop();
  const refused = await conn.put(H, b('late'), b('v'), SESSION).catch((e: Error) => e);
  t.match(String(refused), /unavailable/, 'a request after stop is refused');
  t.equal(f.ended, 0, 'the stream stays open while a request it took is pending');
  f.slow.shift()!();
  await taken;
  t.equal(f.data.get('slow-1'), 'v', 'the pending request was answered');
  await eventually('the stream ended', () => f.ended > 0, { everyMs: 5 });
  t.equal(f.ended, 1, 'then the stream ended');
  t.notOk(f.data.has('late'), 'and the refused request never ran');
});

t.test('answers of one turn leave in messages of a few MiB, so two large ones do not sink the stream', async (t) => {
  const f = await start(t);
  const unary = new UnaryChannel(f.addr);
  // A client that takes at most 5 MiB a message: two 3 MiB answers must come in two.
  const ch = new BatchChannel(unary, { maxReceiveBytes: 5 * 1024 * 1024 });
  t.teardown(() => { ch.close(); unary.close(); });
  const scan = (n: number) => ch.invoke('raw_scan', { context: { region_id: 1 }, start_key: b(`big:${n}`), end_key: b('') });
  const answers = await Promise.all([scan(3 * 1024 * 1024), scan(3 * 1024 * 1024), scan(10)]);
  t.same(answers.map((a) => (a as { kvs: { value: Uint8Array }[] }).kvs[0]!.value.length), [3 * 1024 * 1024, 3 * 1024 * 1024, 10]);
});

t.test('region errors arrive as the store threw them: a stopping store and a stale epoch keep their fields', async (t) => {
  const f = await start(t);
  for (const batch of [false, true]) {
    const conn = new GrpcStoreConnection(1, f.addr, { batch });
    t.teardown(() => conn.close());
    const stopped = await conn.put(H, b('stopping'), b('x'), SESSION).catch((e: unknown) => e);
    // Not SERVER_IS_BUSY: the client tells a stopping store (outcome unknown) from a busy one.
    t.ok(stopped instanceof StoreStoppedError && stopped.storeId === 1, `${batch ? 'batch' : 'unary'}: ${String(stopped)}`);
    const stale = await conn.put(H, b('old-epoch'), b('x'), SESSION).catch((e: unknown) => e);
    t.ok(stale instanceof EpochNotMatchError, String(stale));
    t.same({ region: (stale as EpochNotMatchError).regionId, current: (stale as EpochNotMatchError).current }, { region: 1, current: { confVer: 3, version: 2 } },
      'with the region and its current epoch');
  }
});
