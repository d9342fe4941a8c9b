// BatchChannel (the client of a store's BatchCommands stream) against a real grpc-js
// server: requests of one turn in one message, answers matched by id in any order,
// per-request statuses and timeouts, and every way the stream can break.

import * as grpc from '@grpc/grpc-js';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createTcpServer, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { kvrpcpb as pb, type kvrpcpb } from '../gen/proto.js';
import { TinyKvService } from '../rpc/services.js';
import { BatchChannel, type BatchChannelOptions } from './grpc-batch.js';
import { PREFIX, StatusError, TransportError, UnaryChannel } from './grpc-unary.js';
import { GrpcStatus } from '../api/wire-errors.js';

type Call = grpc.ServerDuplexStream<kvrpcpb.IBatchCommandsRequest, kvrpcpb.IBatchCommandsResponse>;
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString();

interface TestServer {
  readonly addr: string;
  /** Requests per message received, in order. */
  readonly messages: number[];
  readonly calls: Call[];
  kill(): void;
  stop(): Promise<void>;
}

/**
 * A store stand-in: answers each message's gets in reverse order (the value is the key
 * backwards, or N bytes for "big:N"), never answers keys starting "never", fails "fail" with UNAVAILABLE, and
 * ends the whole stream with status INTERNAL on "break".
 */
async function startServer(port = 0): Promise<TestServer> {
  const server = new grpc.Server();
  const messages: number[] = [];
  const calls: Call[] = [];
  const unimplemented = (_c: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED });
  server.addService(TinyKvService, {
    rawGet: unimplemented, rawPut: unimplemented, rawDelete: unimplemented, rawDeleteRange: unimplemented, rawScan: unimplemented,
    batchCommands: (call: Call) => {
      calls.push(call);
      call.on('data', (m: kvrpcpb.IBatchCommandsRequest) => {
        const reqs = m.requests ?? [];
        messages.push(reqs.length);
        const out: kvrpcpb.IBatchResponse[] = [];
        for (const r of [...reqs].reverse()) {
          const key = text(r.raw_get?.key ?? r.raw_put?.key);
          if (key.startsWith('never')) continue;
          if (key === 'break') return call.emit('error', { code: grpc.status.INTERNAL, details: 'broken on purpose' });
          if (key === 'fail') out.push({ id: r.id, status: grpc.status.UNAVAILABLE, status_message: 'not now' });
          else if (key.startsWith('big:')) out.push({ id: r.id, raw_get: { value: Buffer.alloc(Number(key.slice(4)), 7) } });
          else if (r.raw_get) out.push({ id: r.id, raw_get: { value: Buffer.from([...key].reverse().join('')) } });
          else out.push({ id: r.id, raw_put: {} });
        }
        if (out.length > 0) call.write({ responses: out });
      });
      call.on('end', () => call.end());
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    addr: `127.0.0.1:${bound}`, messages, calls,
    kill: () => server.forceShutdown(),
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

function channelTo(t: Test, addr: string, o: BatchChannelOptions = {}): BatchChannel {
  const unary = new UnaryChannel(addr);
  const ch = new BatchChannel(unary, o);
  t.teardown(() => { ch.close(); unary.close(); });
  return ch;
}

const get = (ch: BatchChannel, key: string, timeoutMs?: number) =>
  ch.invoke('raw_get', { key: Buffer.from(key) }, timeoutMs).then((a) => text((a as kvrpcpb.IRawGetResponse).value));

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

async function answersOutOfOrder(t: Test, o: BatchChannelOptions): Promise<{ answers: string[]; messages: number[] }> {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = channelTo(t, s.addr, o);
  const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
  const answers = await Promise.all(keys.map((k) => get(ch, k)));
  return { answers, messages: s.messages };
}

t.test('requests of one turn leave in one message; answers find their callers by id', async (t) => {
  const { answers, messages } = await answersOutOfOrder(t, {});
  t.same(messages, [20], 'twenty requests, one message');
  t.same(answers, Array.from({ length: 20 }, (_, i) => [...`key-${i}`].reverse().join('')), 'each caller got the answer to its own request');
  const bug = await answersOutOfOrder(t, { deliberateBug: 'matchByArrival' });
  t.not(bug.answers[0], [...'key-0'].reverse().join(''), 'matchByArrival (a planted bug): answers in reverse order reach the wrong callers');
});

t.test('a message stops adding requests at maxSendBytes; every request still goes', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = channelTo(t, s.addr, { maxSendBytes: 1000 });
  const value = Buffer.alloc(400);
  await Promise.all(Array.from({ length: 5 }, (_, i) => ch.invoke('raw_put', { key: Buffer.from(`k${i}`), value })));
  await ch.invoke('raw_put', { key: Buffer.from('big'), value: Buffer.alloc(3000) });
  t.same(s.messages, [2, 2, 1, 1], 'two requests of ~470 bytes a message; a larger one alone');
});

t.test('large answers arrive whole, in many chunks; one over maxReceiveBytes fails the stream', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = channelTo(t, s.addr, { maxReceiveBytes: 10 * 1024 * 1024 });
  const sizes = [3 * 1024 * 1024, 10, 5 * 1024 * 1024];
  const answers = await Promise.all(sizes.map((n) => ch.invoke('raw_get', { key: Buffer.from(`big:${n}`) })));
  t.same(answers.map((a) => (a as kvrpcpb.IRawGetResponse).value?.length), sizes, '3 MiB, 10 B and 5 MiB in one answer message');
  t.ok(answers.every((a) => (a as kvrpcpb.IRawGetResponse).value!.every((x) => x === 7)), 'byte for byte');
  const err = await failure(ch.invoke('raw_get', { key: Buffer.from(`big:${11 * 1024 * 1024}`) }));
  t.ok(err instanceof StatusError && err.status === GrpcStatus.RESOURCE_EXHAUSTED, String(err));
  t.equal(await get(ch, 'then'), 'neht', 'a new stream serves what comes next');
});

t.test('a request answered with a status fails alone', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = channelTo(t, s.addr);
  const [bad, good] = await Promise.all([failure(get(ch, 'fail')), get(ch, 'ok')]);
  t.ok(bad instanceof StatusError && bad.status === GrpcStatus.UNAVAILABLE && bad.details === 'not now', String(bad));
  t.equal(good, 'ko');
});

t.test('a request without an answer in time fails with DEADLINE_EXCEEDED; the stream goes on', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = channelTo(t, s.addr);
  const err = await failure(get(ch, 'never-1', 100));
  t.ok(err instanceof StatusError && err.status === GrpcStatus.DEADLINE_EXCEEDED, String(err));
  t.equal(await get(ch, 'after'), 'retfa', 'the next request on the same stream is answered');
  t.equal(s.calls.length, 1, 'one stream for all');
});

t.test('a stream the store ends with an error status fails its pending requests with it; the next request opens a new one', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = channelTo(t, s.addr);
  t.equal(await get(ch, 'first'), 'tsrif');
  const pending = failure(get(ch, 'never-2'));
  const broken = failure(get(ch, 'break'));
  for (const err of [await pending, await broken]) {
    t.ok(err instanceof StatusError && err.status === GrpcStatus.INTERNAL && err.details === 'broken on purpose', String(err));
  }
  t.equal(await get(ch, 'again'), 'niaga');
  t.equal(s.calls.length, 2, 'a second stream');
});

t.test('a store that dies with requests pending: lost; once it is back, answered again', async (t) => {
  const s = await startServer();
  const port = Number(s.addr.split(':')[1]);
  const ch = channelTo(t, s.addr);
  t.equal(await get(ch, 'up'), 'pu');
  const pending = failure(get(ch, 'never-3'));
  await new Promise((r) => setTimeout(r, 20));
  s.kill();
  const err = await pending;
  t.ok(err instanceof TransportError && err.failure === 'lost', String(err));
  const again = await startServer(port);
  t.teardown(() => again.kill());
  t.equal(await get(ch, 'back'), 'kcab');
});

t.test('nothing listening: refused (nothing was sent)', async (t) => {
  const probe = createTcpServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const ch = channelTo(t, `127.0.0.1:${port}`);
  const errs = await Promise.all([failure(get(ch, 'a')), failure(get(ch, 'b'))]);
  for (const err of errs) t.ok(err instanceof TransportError && err.failure === 'refused', String(err));
});

t.test('close() fails what is pending and refuses what comes after', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const unary = new UnaryChannel(s.addr);
  const ch = new BatchChannel(unary);
  t.equal(await get(ch, 'x'), 'x');
  const pending = failure(get(ch, 'never-4'));
  await new Promise((r) => setTimeout(r, 20));
  ch.close();
  unary.close();
  t.match(String(await pending), /closed/);
  t.match(String(await failure(get(ch, 'y'))), /closed/);
});

t.test('while the stream is backed up requests wait unsent, and one that runs out of time is never sent', async (t) => {
  const { createServer } = await import('node:http2');
  const { kvrpcpb: pb } = await import('../gen/proto.js');
  const received: string[] = [];
  let stream: import('node:http2').ServerHttp2Stream | undefined;
  let streamOpened!: () => void;
  const opened = new Promise<void>((r) => { streamOpened = r; });
  const server = createServer();
  server.on('stream', (st) => {
    stream = st;
    streamOpened();
    st.respond({ ':status': 200, 'content-type': 'application/grpc' });
    st.pause(); // a store that does not read: the client's buffer fills
    let buf = Buffer.alloc(0);
    st.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
        const len = buf.readUInt32BE(1);
        for (const r of pb.BatchCommandsRequest.decode(buf.subarray(5, 5 + len)).requests) received.push(text(r.raw_put?.key));
        buf = buf.subarray(5 + len);
        if (received.includes('after')) markerArrived();
      }
    });
  });
  let markerArrived!: () => void;
  const arrived = new Promise<void>((r) => { markerArrived = r; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ch = channelTo(t, `127.0.0.1:${(server.address() as { port: number }).port}`, { maxSendBytes: 1024 });
  t.teardown(() => { stream?.close(); server.close(); });
  // The store never answers: what is still pending fails when the channel closes at teardown.
  const put = (key: string, bytes: number, timeoutMs?: number) => failure(ch.invoke('raw_put', { key: Buffer.from(key), value: Buffer.alloc(bytes) }, timeoutMs));
  void put('big', 4 * 1024 * 1024); // fills the stream's buffer: written, not yet sent
  const late = await put('late', 10, 100); // queued behind it
  t.ok(late instanceof StatusError && late.status === GrpcStatus.DEADLINE_EXCEEDED, String(late));
  // A request after it leaves behind 'big' on the same stream: once it has arrived, so has
  // everything sent before it, however slow the machine (no waiting for a time to pass).
  void put('after', 10);
  await opened; // on a loaded machine the store may not have seen the stream yet
  stream!.resume();
  await arrived;
  t.same(received, ['big', 'after'], 'the request that ran out of time while held back never reached the store');
});

/**
 * A store stand-in on node:http2 itself, for what grpc-js will not do on purpose: take a
 * BatchCommands stream and never answer it, not even with response headers. With
 * `onMessage` it reads the stream and passes on the keys of each whole request message;
 * without, it reads nothing (a stalled store). `die(how)` is the store's process going
 * away: the listener closes (a reconnect is refused) and its sockets close as the kernel
 * closes them, with a FIN ('exit') or an RST ('reset').
 */
async function startSilentStore(o: { onStream?: () => void; onMessage?: (keys: string[]) => void }): Promise<{ addr: string; die(how: 'exit' | 'reset'): void }> {
  const server = createHttp2Server();
  const sockets: Socket[] = [];
  server.on('connection', (sock: Socket) => sockets.push(sock));
  server.on('stream', (stream) => {
    o.onStream?.();
    const onMessage = o.onMessage;
    if (!onMessage) return stream.pause();
    let buf = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= PREFIX && buf.length >= PREFIX + buf.readUInt32BE(1)) {
        const len = buf.readUInt32BE(1);
        const reqs = pb.BatchCommandsRequest.decode(buf.subarray(PREFIX, PREFIX + len)).requests;
        buf = buf.subarray(PREFIX + len);
        onMessage(reqs.map((r) => text(r.raw_put?.key ?? r.raw_get?.key)));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    addr: `127.0.0.1:${(server.address() as { port: number }).port}`,
    die: (how) => {
      server.close();
      for (const sock of sockets) (how === 'reset' ? sock.resetAndDestroy() : sock.destroy());
    },
  };
}

const put = (ch: BatchChannel, key: string, value: Buffer = Buffer.from('v')) => ch.invoke('raw_put', { key: Buffer.from(key), value });

for (const how of ['exit', 'reset'] as const) {
  t.test(`a store that dies (${how}) holding the first writes of a fresh stream, before any answer or response headers: they are lost (may have been applied), never refused`, async (t) => {
    // The writes reached the store, which may have proposed them before it died. "Refused"
    // would tell the client nothing was written: it would retry them on another store, or
    // tell the user they did not happen, when they may have.
    const seen: string[][] = [];
    const store = await startSilentStore({
      onMessage: (keys) => {
        seen.push(keys);
        store.die(how);
      },
    });
    const ch = channelTo(t, store.addr);
    const errs = await Promise.all([failure(put(ch, 'w1')), failure(put(ch, 'w2'))]);
    t.same(seen, [['w1', 'w2']], 'both writes reached the store, in the stream\'s first message');
    for (const err of errs) {
      t.ok(err instanceof TransportError, String(err));
      t.equal((err as TransportError).failure, 'lost', `${String(err)}: not "refused"`);
    }
  });
}

t.test('a store not listening when the stream is opened: its writes are refused (nothing was sent)', async (t) => {
  const store = await startSilentStore({ onStream: () => t.fail('no stream may reach a store that is not listening') });
  store.die('exit');
  const ch = channelTo(t, store.addr);
  const errs = await Promise.all([failure(put(ch, 'w1')), failure(put(ch, 'w2'))]);
  for (const err of errs) t.ok(err instanceof TransportError && err.failure === 'refused', String(err));
});

t.test('a write held back behind a full stream when the store dies was never sent: refused by the dead store, not lost', async (t) => {
  // The store reads nothing, so the first write (4 MiB) fills the stream's buffer and the
  // second waits in the client's queue, both in the turn that opens the stream (before the
  // store sees it). When the stream breaks the first may have reached the store; the second
  // never left, and goes on a new stream, which the dead store refuses.
  let store: Awaited<ReturnType<typeof startSilentStore>> | undefined = undefined;
  store = await startSilentStore({ onStream: () => store!.die('reset') });
  const ch = channelTo(t, store.addr, { maxSendBytes: 1024 });
  const [sent, heldBack] = await Promise.all([failure(put(ch, 'big', Buffer.alloc(4 * 1024 * 1024))), failure(put(ch, 'small'))]);
  t.ok(sent instanceof TransportError && sent.failure === 'lost', `the write on the stream: ${String(sent)}`);
  t.ok(heldBack instanceof TransportError && heldBack.failure === 'refused', `the write held back: ${String(heldBack)}`);
});
