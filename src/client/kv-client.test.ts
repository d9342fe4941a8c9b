// KvClient's choice of the first store to ask: the one it was told led last (firstStore),
// else the first of its stores; the leader it then knows is the store that answered.

import t from 'tap';
import {
  EpochNotMatchError, InvalidRequestError, NotLeaderError, RegionNotFoundError, ServerIsBusyError, SessionExpiredError, StaleCommandError,
  StoreStoppedError,
} from '../api/errors.js';
import type { ClientSession } from '../api/request.js';
import type { StoreConnection } from './connection.js';
import { ClusterUnavailableError, ConnectionRefusedError, InvalidArgumentError, UnknownOutcomeError } from './errors.js';
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

// ---------------------------------------------------------------------------------------
// Retries and the outcome the caller is told. The rule behind most of these: a write is
// reported "not written" (ClusterUnavailableError, ConnectionRefusedError, an invalid
// argument) only when no attempt of it can have been applied; once one may have reached a
// leader, the answer is UnknownOutcomeError, never a plain failure.

type Op = 'get' | 'scan' | 'put' | 'delete' | 'deleteRange';
interface Call {
  readonly store: number;
  readonly op: Op;
  readonly args: readonly unknown[];
  readonly timeoutMs: number | undefined;
}

/**
 * Stores that answer each call with `answer(call, n)` (n counts every call from 0): its
 * value, or what it throws. Records the calls.
 */
function scripted(answer: (c: Call, n: number) => unknown): { calls: Call[]; connect: (id: number) => StoreConnection } {
  const calls: Call[] = [];
  const connect = (store: number): StoreConnection => {
    const call = (op: Op) => async (...args: unknown[]): Promise<never> => {
      const o = args[args.length - 1] as { timeoutMs?: number } | undefined;
      const c = { store, op, args: args.slice(0, -1), timeoutMs: o?.timeoutMs };
      calls.push(c);
      return answer(c, calls.length - 1) as never;
    };
    return { storeId: store, get: call('get'), scan: call('scan'), put: call('put'), delete: call('delete'), deleteRange: call('deleteRange') };
  };
  return { calls, connect };
}

const key = new Uint8Array([1]);
const ops: Record<Op, (c: KvClient) => Promise<unknown>> = {
  get: (c) => c.get(key),
  scan: (c) => c.scan(key, new Uint8Array([2]), 10),
  put: (c) => c.put(key, new Uint8Array([9])),
  delete: (c) => c.delete(key),
  deleteRange: (c) => c.deleteRange(key, new Uint8Array([2])),
};
const names: Record<Op, string> = { get: 'get', scan: 'scan', put: 'put', delete: 'delete', deleteRange: 'delete' };
const lost = (c: Call) => { throw new Error(`store ${c.store} (10.0.0.${c.store}:20160): connection lost`); };
const refusedBy = (c: Call) => { throw new ConnectionRefusedError(c.store, `10.0.0.${c.store}:20160`); };

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the operation to fail');
}

t.test('a write whose attempts may have reached a store ends UnknownOutcomeError at the deadline; a read ends ClusterUnavailableError', async (t) => {
  for (const op of Object.keys(ops) as Op[]) {
    const s = scripted(lost);
    const client = new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, timeoutMs: 40, random: () => 0 });
    const err = await failure(ops[op](client));
    const write = op !== 'get' && op !== 'scan';
    t.ok(write ? err instanceof UnknownOutcomeError : err instanceof ClusterUnavailableError, `${op}: ${err.message}`);
    t.ok(err.message.startsWith(`${names[op]}: `), `${op}: the message names the operation`);
    t.match(err.message, write ? /may or may not have been applied/ : /no store answered in time/);
    t.ok(s.calls.every((c) => c.op === op), `${op}: only ${op} calls were made`);
    t.equal((err as UnknownOutcomeError | ClusterUnavailableError).tried[0], 1, `${op}: the stores tried are listed`);
    t.equal((err as UnknownOutcomeError).lastError, `store ${s.calls.at(-1)!.store} (10.0.0.${s.calls.at(-1)!.store}:20160): connection lost`,
      'the last error names its store once');
  }
});

t.test('a write that only ever got NotLeader or RegionNotFound was not proposed: ClusterUnavailableError, not unknown', async (t) => {
  for (const answer of [() => { throw new NotLeaderError(1, undefined); }, () => { throw new RegionNotFoundError(1); }]) {
    const s = scripted(answer);
    const client = new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, timeoutMs: 40, random: () => 0 });
    const err = await failure(client.put(key, key));
    t.ok(err instanceof ClusterUnavailableError, err.message);
  }
});

t.test('an error without its store in the message is reported as "store N: ..."', async (t) => {
  const s = scripted(() => { throw new Error('boom'); });
  const client = new KvClient({ storeIds: [4], connect: s.connect, clientId: 1, timeoutMs: 20, random: () => 0 });
  const err = await failure(client.get(key)) as ClusterUnavailableError;
  t.equal(err.lastError, 'store 4: boom');
  t.match(err.message, /tried stores 4; last error: store 4: boom/);
});

t.test('every store refusing the connection with failFastWhenDown: the client gives up at once, and a write says nothing was written', async (t) => {
  for (const op of ['put', 'get'] as const) {
    const s = scripted(refusedBy);
    const client = new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, failFastWhenDown: true, timeoutMs: 60_000 });
    const err = await failure(ops[op](client));
    t.ok(err instanceof ClusterUnavailableError, err.message);
    t.equal(s.calls.length, 2, `${op}: one attempt per store, no second round`);
    t.same((err as ClusterUnavailableError).tried, [1, 2], 'the stores tried');
    t.match(err.message, `${op}: no store is running: every store refused the connection (10.0.0.1:20160, 10.0.0.2:20160)`);
    t.match(err.message, /Start the cluster with tinykv cluster up/);
    if (op === 'put') t.match(err.message, /; nothing was written\./);
    else {
      t.equal(err.message, 'get: no store is running: every store refused the connection (10.0.0.1:20160, 10.0.0.2:20160). Start the cluster with tinykv cluster up',
        'a read says nothing about writing');
    }
  }
});

t.test('a write lost on one store and then refused by all is unknown, even when failing fast', async (t) => {
  const s = scripted((c, n) => (n === 0 ? lost(c) : refusedBy(c)));
  const client = new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, failFastWhenDown: true, timeoutMs: 60_000, random: () => 0 });
  const err = await failure(client.put(key, key));
  t.ok(err instanceof UnknownOutcomeError, err.message);
  t.match(err.message, /now every store refuses the connection \(10\.0\.0\.2:20160, 10\.0\.0\.1:20160\)/);
  t.same((err as UnknownOutcomeError).tried, [1, 2], 'the stores tried');
});

t.test('without failFastWhenDown refusals are retried until the deadline, and a write refused everywhere was not written', async (t) => {
  const restarting = scripted((c, n) => (n < 4 ? refusedBy(c) : 'v'));
  t.equal(await new KvClient({ storeIds: [1, 2], connect: restarting.connect, clientId: 1, random: () => 0 }).get(key), 'v',
    'answered once a store is back, two rounds of refusals later');
  const s = scripted(refusedBy);
  const err = await failure(new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, timeoutMs: 40, random: () => 0 }).put(key, key));
  t.ok(err instanceof ClusterUnavailableError, err.message);
  t.match(err.message, /^put: no store answered in time/);
});

t.test('a store that refuses the connection is passed over at once; a round of refusals backs off once', async (t) => {
  let backoffs = 0;
  const random = () => { backoffs++; return 0; };
  const some = scripted((c) => (c.store === 3 ? 'v' : refusedBy(c)));
  await new KvClient({ storeIds: [1, 2, 3], connect: some.connect, clientId: 1, random }).get(key);
  t.same(some.calls.map((c) => c.store), [1, 2, 3]);
  t.equal(backoffs, 0, 'no waiting while a store is left to try');
  const all = scripted((c, n) => (n < 3 ? refusedBy(c) : 'v'));
  await new KvClient({ storeIds: [1, 2, 3], connect: all.connect, clientId: 1, random }).get(key);
  t.same(all.calls.map((c) => c.store), [1, 2, 3, 1]);
  t.equal(backoffs, 1, 'one wait after every store refused');
});

t.test('a NotLeader hint naming another known store is followed at once; one naming the store itself is not', async (t) => {
  let backoffs = 0;
  const random = () => { backoffs++; return 0; };
  const hinted = scripted((c) => { if (c.store !== 3) throw new NotLeaderError(1, { id: 30, storeId: 3 }); return 'v'; });
  await new KvClient({ storeIds: [1, 2, 3], connect: hinted.connect, clientId: 1, random }).get(key);
  t.same(hinted.calls.map((c) => c.store), [1, 3]);
  t.equal(backoffs, 0, 'no wait before following a hint');
  const self = scripted((c) => { if (c.store === 1) throw new NotLeaderError(1, { id: 10, storeId: 1 }); return 'v'; });
  await new KvClient({ storeIds: [1, 2], connect: self.connect, clientId: 1, random }).get(key);
  t.same(self.calls.map((c) => c.store), [1, 2], 'a hint naming the store that answered: the next store');
  t.equal(backoffs, 1, 'after a wait');
});

t.test('only a hint naming a reachable store the client was not given adds a store: no hint, or a known store, adds nothing', async (t) => {
  // Stores that can all be reached: canReach is no filter here.
  const noHint = scripted((c, n) => { if (n < 2) throw new NotLeaderError(1, undefined); return 'v'; });
  await new KvClient({ storeIds: [1, 2], connect: noHint.connect, clientId: 1, random: () => 0, canReach: () => true }).get(key);
  t.same(noHint.calls.map((c) => c.store), [1, 2, 1], 'NotLeader without a hint: the next store, round and round');
  // Store 1 names store 3, which then knows no leader: the store after 3 is 1 (a second
  // copy of 3 in the list would make it 3 again).
  const known = scripted((c, n) => {
    if (c.store === 1 && n === 0) throw new NotLeaderError(1, { id: 30, storeId: 3 });
    if (c.store === 3) throw new NotLeaderError(1, undefined);
    return 'v';
  });
  await new KvClient({ storeIds: [1, 2, 3], connect: known.connect, clientId: 1, random: () => 0, canReach: () => true }).get(key);
  t.same(known.calls.map((c) => c.store), [1, 3, 1]);
});

t.test('a hint naming a store the client was not given is followed only when it can be reached', async (t) => {
  const answer = (c: Call) => { if (c.store !== 7) throw new NotLeaderError(1, { id: 70, storeId: 7 }); return 'v'; };
  const reachable = scripted(answer);
  const client = new KvClient({ storeIds: [1, 2], connect: reachable.connect, clientId: 1, random: () => 0, canReach: (id) => id === 7 });
  await client.get(key);
  t.same(reachable.calls.map((c) => c.store), [1, 7]);
  t.equal(client.knownLeader, 7);
  const unreachable = scripted(answer);
  const err = await failure(new KvClient({ storeIds: [1, 2], connect: unreachable.connect, clientId: 1, timeoutMs: 40, random: () => 0, canReach: () => false }).get(key));
  t.ok(err instanceof ClusterUnavailableError, err.message);
  t.notOk(unreachable.calls.some((c) => c.store === 7), 'store 7 is never tried');
  const noCanReach = scripted(answer);
  const ignored = await failure(new KvClient({ storeIds: [1], connect: noCanReach.connect, clientId: 1, timeoutMs: 20, random: () => 0 }).get(key));
  t.ok(ignored instanceof ClusterUnavailableError, ignored.message);
  t.notOk(noCanReach.calls.some((c) => c.store === 7), 'without canReach, a store the client was not given is never tried');
});

t.test('stale command, store stopped, server busy and region not found are retried on the next store; other region errors end the operation', async (t) => {
  const elsewhere = [new StaleCommandError('term changed'), new StoreStoppedError(1), new ServerIsBusyError('full'), new RegionNotFoundError(1)];
  for (const e of elsewhere) {
    const s = scripted((c) => { if (c.store === 1) throw e; return 'v'; });
    t.same(await new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, random: () => 0 }).get(key), 'v', e.code);
    t.same(s.calls.map((c) => c.store), [1, 2], `${e.code}: the next store answered`);
  }
  const epoch = new EpochNotMatchError(1, { confVer: 1, version: 1 });
  const s = scripted(() => { throw epoch; });
  t.equal(await failure(new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1 }).put(key, key)), epoch, 'EpochNotMatch is thrown as the store gave it');
  t.equal(s.calls.length, 1, 'and not retried');
});

t.test('an invalid request is InvalidArgumentError at once, never retried', async (t) => {
  for (const e of [new InvalidRequestError('empty key'), new InvalidArgumentError('value too large')]) {
    const s = scripted(() => { throw e; });
    const err = await failure(new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1 }).put(key, key));
    t.ok(err instanceof InvalidArgumentError && err.message === e.message, err.message);
    t.equal(s.calls.length, 1);
  }
});

t.test('SessionExpired is never retried: the write is refused, or unknown when an earlier attempt may have been applied', async (t) => {
  const expired = new SessionExpiredError(1, 1);
  const first = scripted(() => { throw expired; });
  t.equal(await failure(new KvClient({ storeIds: [1, 2], connect: first.connect, clientId: 1 }).put(key, key)), expired);
  t.equal(first.calls.length, 1);
  const afterLost = scripted((c, n) => (n === 0 ? lost(c) : (() => { throw expired; })()));
  const err = await failure(new KvClient({ storeIds: [1, 2], connect: afterLost.connect, clientId: 1, random: () => 0 }).put(key, key));
  t.ok(err instanceof UnknownOutcomeError, err.message);
  t.match(err.message, /tried stores 1, 2; last error: store 2: client session 1 expired/);
  t.equal(afterLost.calls.length, 2);
});

t.test('an attempt whose connection ignores its timeout is given up after it, and the next store is tried', async (t) => {
  const s = scripted((c) => (c.store === 1 ? new Promise(() => {}) : 'v'));
  const client = new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, attemptTimeoutMs: 30, random: () => 0 });
  t.equal(await client.get(key), 'v');
  t.same(s.calls.map((c) => c.store), [1, 2]);
  const stuck = scripted(() => new Promise(() => {}));
  const err = await failure(new KvClient({ storeIds: [1], connect: stuck.connect, clientId: 1, timeoutMs: 60, attemptTimeoutMs: 30, random: () => 0 }).put(key, key));
  t.ok(err instanceof UnknownOutcomeError, err.message);
  t.match((err as UnknownOutcomeError).lastError, /^store 1: no answer within \d+ ms$/);
});

t.test('each attempt is given attemptTimeoutMs, or what is left of the operation when that is less', async (t) => {
  const s = scripted((c, n) => (n === 0 ? lost(c) : 'v'));
  await new KvClient({ storeIds: [1], connect: s.connect, clientId: 1, attemptTimeoutMs: 250, random: () => 0 }).get(key);
  t.same(s.calls.map((c) => c.timeoutMs), [250, 250]);
  const short = scripted(() => 'v');
  await new KvClient({ storeIds: [1], connect: short.connect, clientId: 1, timeoutMs: 200, attemptTimeoutMs: 60_000 }).get(key);
  const ms = short.calls[0]!.timeoutMs!;
  t.ok(ms <= 200 && ms > 100, `the operation's 200 ms, less what has passed (${ms})`);
  const defaults = scripted(() => 'v');
  await new KvClient({ storeIds: [1], connect: defaults.connect, clientId: 1 }).get(key);
  t.equal(defaults.calls[0]!.timeoutMs, 1000, 'attemptTimeoutMs defaults to 1 s');
  const longDefault = scripted(() => 'v');
  await new KvClient({ storeIds: [1], connect: longDefault.connect, clientId: 1, attemptTimeoutMs: 60_000 }).get(key);
  const left = longDefault.calls[0]!.timeoutMs!;
  t.ok(left <= 10_000 && left > 9_000, `timeoutMs defaults to 10 s (${left})`);
});

t.test('writes go one at a time, numbered 1, 2, 3 under the client id; a retry keeps its number and first-sent time; a failed write does not stop the next', async (t) => {
  let clock = 1000;
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  const s = scripted(async (c, n) => {
    if (n === 0) await held;
    if (n === 1) lost(c); // the second write's first attempt: retried
    if (n === 3) throw new InvalidRequestError('bad'); // the third write fails
  });
  const client = new KvClient({ storeIds: [1], connect: s.connect, clientId: 42, random: () => 0, now: () => clock++ });
  const v = new Uint8Array([9]);
  const writes = [client.put(key, v), client.delete(key), failure(client.put(key, v)), client.deleteRange(key, v)];
  await new Promise((r) => setImmediate(r));
  t.equal(s.calls.length, 1, 'the second write waits for the first');
  release();
  await Promise.all(writes);
  const sessions = s.calls.map((c) => c.args.at(-1) as ClientSession);
  t.same(s.calls.map((c) => c.op), ['put', 'delete', 'delete', 'put', 'deleteRange']);
  t.same(sessions.map((x) => [x.clientId, x.sequence, x.sentAtMs]), [[42, 1, 1000], [42, 2, 1001], [42, 2, 1001], [42, 3, 1002], [42, 4, 1003]]);
  t.same(s.calls[0]!.args.slice(1, 3), [key, v], 'put sends its key and value');
});

t.test('answers reach the caller, and the store that answered becomes the known leader and is reported', async (t) => {
  const pairs = [[key, key]] as const;
  const s = scripted((c) => {
    if (c.store === 1) throw new Error('down');
    return { get: key, scan: pairs, put: undefined, delete: undefined, deleteRange: 5 }[c.op];
  });
  const answered: number[] = [];
  const client = new KvClient({ storeIds: [1, 2], connect: s.connect, clientId: 1, random: () => 0, onAnswer: (id) => answered.push(id) });
  t.same(await client.get(key), key);
  t.equal(client.knownLeader, 2);
  t.same(await client.scan(key, key, 3), pairs);
  t.equal(await client.deleteRange(key, key), 5);
  t.same(answered, [2, 2, 2]);
  t.same(s.calls.map((c) => c.store), [1, 2, 2, 2], 'after an answer the client starts at the store that gave it');
  t.same(s.calls[2]!.args.slice(1), [key, key, 3], 'scan sends its range and limit');
  t.same(s.calls[0]!.args[0], { regionId: 1 }, 'requests address the one region');
});

t.test('the client id must be a positive integer and there must be stores', async (t) => {
  const { connect } = scripted(() => 'v');
  for (const clientId of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => new KvClient({ storeIds: [1], connect, clientId }), { name: 'RangeError', message: /clientId must be a positive integer/ }, String(clientId));
  }
  t.throws(() => new KvClient({ storeIds: [], connect, clientId: 1 }), { name: 'RangeError', message: /no stores/ });
  t.doesNotThrow(() => new KvClient({ storeIds: [1], connect, clientId: 1 }));
});

t.test('a put over a BatchCommands stream whose store dies holding it, before any answer: unknown outcome, never "nothing was written"', async (t) => {
  // The store read the write and may have applied it; the next attempt is refused (the
  // store is gone). Only a store that refused from the start lets the client say nothing
  // was written.
  const { createServer } = await import('node:http2');
  const { GrpcStoreConnection } = await import('./grpc-connection.js');
  const server = createServer();
  const sockets: import('node:net').Socket[] = [];
  server.on('connection', (sock: import('node:net').Socket) => sockets.push(sock));
  server.on('stream', (stream) => stream.once('data', () => {
    server.close();
    for (const sock of sockets) sock.destroy();
  }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const conns: InstanceType<typeof GrpcStoreConnection>[] = [];
  t.teardown(() => { for (const c of conns) c.close(); });
  const client = () => new KvClient({
    storeIds: [1], clientId: 1, failFastWhenDown: true, random: () => 0,
    connect: (id) => {
      const c = new GrpcStoreConnection(id, addr, { batch: true });
      conns.push(c);
      return c;
    },
  });
  const err = await failure(client().put(key, key));
  t.ok(err instanceof UnknownOutcomeError, err.message);
  t.match(err.message, /may or may not have been applied .*now every store refuses the connection/);
  const never = await failure(client().put(key, key));
  t.ok(never instanceof ClusterUnavailableError, never.message);
  t.match(never.message, /nothing was written/);
});

/**
 * Runs `f` with setTimeout recording the waits the client asks for. Waits under a second
 * end at once, so what is checked is the wait asked for, not time passing: the backoffs,
 * and an attempt's own timer when less than a second of the operation is left (else it is
 * attemptTimeoutMs, 5 s here). The stores here fail at once, before such a timer fires.
 */
async function backoffsOf(f: () => Promise<unknown>): Promise<number[]> {
  const real = globalThis.setTimeout;
  const waits: number[] = [];
  globalThis.setTimeout = ((cb: () => void, ms?: number) => {
    if (ms === undefined || ms >= 1000) return real(cb, ms);
    waits.push(ms);
    return real(cb, 0);
  }) as typeof setTimeout;
  try {
    await f();
  } finally {
    globalThis.setTimeout = real;
  }
  return waits;
}

t.test('between rounds the client waits base/2 to base, the base doubling from 10 ms to at most 200 ms', async (t) => {
  for (const [r, expected] of [[0, [5, 10, 20, 40, 80, 100, 100]], [1, [10, 20, 40, 80, 160, 200, 200]]] as const) {
    const s = scripted((c, n) => (n < 7 ? lost(c) : 'v'));
    const client = new KvClient({ storeIds: [1], connect: s.connect, clientId: 1, attemptTimeoutMs: 5000, random: () => r });
    t.same(await backoffsOf(() => client.get(key)), expected, `random ${r}`);
  }
  const half = scripted((c, n) => (n < 1 ? lost(c) : 'v'));
  const client = new KvClient({ storeIds: [1], connect: half.connect, clientId: 1, attemptTimeoutMs: 5000, random: () => 0.5 });
  t.same(await backoffsOf(() => client.get(key)), [7.5], 'random 0.5: three quarters of the base');
});

t.test('a wait never runs past the operation\'s deadline', async (t) => {
  // 10 + 20 + 40 ms asked for in 30 ms: the third wait is cut to what is left.
  const s = scripted(lost);
  const client = new KvClient({ storeIds: [1], connect: s.connect, clientId: 1, timeoutMs: 30, attemptTimeoutMs: 5000, random: () => 1 });
  const waits = await backoffsOf(() => failure(client.get(key)));
  t.ok(waits.length > 0 && waits.every((ms) => ms <= 30), `waits ${waits.join(', ')}`);
});

t.test('an operation given no time makes no attempt, and says so', async (t) => {
  const s = scripted(() => 'v');
  const err = await failure(new KvClient({ storeIds: [1], connect: s.connect, clientId: 1, timeoutMs: 0 }).put(key, key));
  t.ok(err instanceof ClusterUnavailableError, err.message);
  t.equal(err.message, 'put: no store answered in time (tried stores none; last error: no attempt made)');
  t.equal(s.calls.length, 0);
});

t.test('the client errors carry the codes the CLI maps to exit codes, and say which stores were tried', async (t) => {
  const unknown = new UnknownOutcomeError('put', [1, 2], 'store 2: connection lost');
  t.equal(unknown.code, 'UNKNOWN_OUTCOME');
  t.equal(unknown.message, 'put: the cluster did not confirm in time, so the write may or may not have been applied (tried stores 1, 2; last error: store 2: connection lost)');
  t.match(new UnknownOutcomeError('put', [], 'x').message, /tried stores none;/);
  const unavailable = new ClusterUnavailableError('get', [3], 'store 3: unavailable');
  t.equal(unavailable.code, 'CLUSTER_UNAVAILABLE');
  t.same([unavailable.tried, unavailable.lastError], [[3], 'store 3: unavailable']);
  t.equal(new ClusterUnavailableError('get', [1, 2], 'store 2: unavailable').message, 'get: no store answered in time (tried stores 1, 2; last error: store 2: unavailable)');
  t.equal(new ClusterUnavailableError('get', [], 'x', 'as given').message, 'as given');
  const refused = new ConnectionRefusedError(3, '10.0.0.3:20160');
  t.same([refused.code, refused.storeId, refused.addr, refused.message], ['CONNECTION_REFUSED', 3, '10.0.0.3:20160', 'store 3 (10.0.0.3:20160): connection refused']);
  const invalid = new InvalidArgumentError('empty key');
  t.same([invalid.code, invalid.name, invalid.message], ['INVALID_ARGUMENT', 'InvalidArgumentError', 'empty key']);
});
