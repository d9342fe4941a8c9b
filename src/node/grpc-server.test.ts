// GrpcServer's contract (grpc-server.ts): unary, client-streaming and bidirectional calls over
// node:http2, the failures it answers itself, flow control of streaming calls, shutdown. Clients:
// the project's own (UnaryChannel, BatchChannel), @grpc/grpc-js's (an independent implementation
// of the wire format), and raw node:http2 for what no client sends. Nothing waits for time:
// where a test shows that something did NOT happen, it first makes a unary call on the same
// connection (a barrier: the frames of one connection are read in order, so once that call is
// answered the server has read everything sent before it).

import http2 from 'node:http2';
import { EventEmitter, once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { BatchChannel, StatusError, TransportError, UnaryChannel } from '../client/index.js';
import { TinyKvService, type MethodDefinition, type Reply, type StreamCall, type UnaryCall } from '../rpc/services.js';
import type { kvrpcpb } from '../gen/proto.js';
import { dec, enc } from '../../test/support/bytes.js';
import { GrpcServer, percentEncode } from './grpc-server.js';

const UNDECODABLE = 'undecodable';
const UNENCODABLE = 'unencodable';
/** What the test codec throws for UNDECODABLE: non-ASCII, '%', a newline, and '%41' (which is not 'A'). */
const DECODE_ERROR = 'cannot read 100% of it:\nkëy ✗ %41';
/** A handler's failure details, with everything percent-encoding must carry. */
const DETAILS = 'ключ 100% busy\nsecond line ✓ %41';
const MAX = 1024;

/** A test method over Buffers: identity codecs, except for the two poison values above. */
function def(path: string, requestStream = false, responseStream = false): MethodDefinition<Buffer, Buffer> {
  return {
    path, requestStream, responseStream,
    requestSerialize: (m) => m,
    requestDeserialize: (b) => { if (dec(b) === UNDECODABLE) throw new Error(DECODE_ERROR); return Buffer.from(b); },
    responseSerialize: (m) => { if (dec(m) === UNENCODABLE) throw new Error('no encoding for it'); return m; },
    responseDeserialize: (b) => b,
  };
}
const Svc = { echo: def('/test.T/Echo'), collect: def('/test.T/Collect', true), chat: def('/test.T/Chat', true, true) };
const ECHO = Svc.echo.path, COLLECT = Svc.collect.path, CHAT = Svc.chat.path;
interface Handlers {
  echo(call: UnaryCall<Buffer>, reply: Reply<Buffer>): void;
  collect(call: StreamCall<Buffer, never>, reply: Reply<Buffer>): void;
  chat(call: StreamCall<Buffer, Buffer>): void;
}
/** Defaults: echo answers its request; collect answers its messages joined by ',' after 'end'; chat echoes each, then ends. */
const DEFAULTS: Handlers = {
  echo: (call, reply) => reply(null, call.request),
  collect: (call, reply) => { const got: string[] = []; call.on('data', (m) => got.push(dec(m))).on('end', () => reply(null, enc(got.join(',')))); },
  chat: (call) => { call.on('data', (m) => call.write(m)); call.on('end', () => call.end()); },
};

/** A handler's events, in order; until(n) waits for the n-th. */
class Log extends EventEmitter {
  readonly items: string[] = [];
  add(s: string): void { this.items.push(s); this.emit('added'); }
  async until(n: number): Promise<void> { while (this.items.length < n) await once(this, 'added'); }
}
/** A collect handler logging data, end and cancelled; `last` holds its latest call and reply. */
function logged(log: Log, o: { pauseEach?: boolean; replyAtEnd?: boolean } = {}) {
  const last: { call?: StreamCall<Buffer, never>; reply?: Reply<Buffer> } = {};
  const collect = (call: StreamCall<Buffer, never>, reply: Reply<Buffer>) => {
    Object.assign(last, { call, reply });
    call.on('data', (m) => { log.add(dec(m)); if (o.pauseEach) call.pause(); }).on('cancelled', () => log.add('cancelled'));
    call.on('end', () => { log.add('end'); if (o.replyAtEnd) reply(null, enc(`got ${log.items.length - 1}`)); });
  };
  return { collect, last };
}

async function serve(t: Test, h: Partial<Handlers> = {}) {
  const server = new GrpcServer({ maxReceiveBytes: MAX });
  server.addService(Svc, { ...DEFAULTS, ...h });
  const { port } = await server.listen('127.0.0.1', 0);
  const addr = `127.0.0.1:${port}`;
  const unary = new UnaryChannel(addr);
  const js = new grpc.Client(addr, grpc.credentials.createInsecure());
  t.teardown(() => { unary.close(); js.close(); server.forceShutdown(); });
  /** The barrier (see the top) on unary's connection, which raw calls share: session(). */
  const barrier = async () => t.equal(dec(await unary.call(ECHO, enc('barrier'))), 'barrier');
  return { server, addr, port, unary, js, barrier, session: () => unary.open() };
}

function frame(body: Buffer | string, flag = 0): Buffer {
  const b = typeof body === 'string' ? enc(body) : body;
  const prefix = Buffer.from([flag, 0, 0, 0, 0]);
  prefix.writeUInt32BE(b.length, 1);
  return Buffer.concat([prefix, b]);
}
function unframeAll(b: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 5 + b.readUInt32BE(i + 1)) out.push(dec(b.subarray(i + 5, i + 5 + b.readUInt32BE(i + 1))));
  return out;
}

interface Raw { headers: http2.IncomingHttpHeaders; trailers?: http2.IncomingHttpHeaders; messages: string[] }
const status = (r: Raw) => String((r.trailers ?? r.headers)['grpc-status']);
const details = (r: Raw) => decodeURIComponent(String((r.trailers ?? r.headers)['grpc-message'] ?? ''));

/** A raw gRPC request; `write` resolves on the write's callback (it was sent: the next write is another DATA frame). */
function rawStream(session: http2.ClientHttp2Session, path: string, contentType = 'application/grpc') {
  const s = session.request({ ':method': 'POST', ':path': path, 'content-type': contentType, te: 'trailers' });
  const result = new Promise<Raw>((resolve) => {
    const r: Raw = { headers: {}, messages: [] };
    const data: Buffer[] = [];
    s.on('response', (h) => { r.headers = h; }).on('trailers', (h) => { r.trailers = h; }).on('data', (c: Buffer) => data.push(c));
    s.on('error', () => undefined); // a reset: 'close' follows, and the test looks at what arrived
    s.on('close', () => resolve({ ...r, messages: unframeAll(Buffer.concat(data)) }));
  });
  const write = (c: Buffer) => new Promise<void>((resolve) => s.write(c, () => resolve()));
  return { s, result, write };
}
/** A call of `chunks`, each in DATA frames of its own, then the end of the request. */
async function raw(session: http2.ClientHttp2Session, path: string, chunks: Buffer[], contentType?: string): Promise<Raw> {
  const { s, result, write } = rawStream(session, path, contentType);
  for (const c of chunks) await write(c);
  s.end();
  return result;
}

const id = (b: Buffer) => b;
function jsUnary(js: grpc.Client, path: string, req: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => js.makeUnaryRequest(path, id, id, req, (e, v) => (e ? reject(e) : resolve(v!))));
}
/** A grpc-js streaming call's final status (events.once would reject on its 'error'). */
function statusOf(call: grpc.ClientDuplexStream<Buffer, Buffer>): Promise<grpc.StatusObject> {
  call.on('error', () => undefined);
  return new Promise((resolve) => call.on('status', resolve));
}
async function failure(p: Promise<unknown>): Promise<StatusError> {
  const e = await p.then(() => new Error('answered as a success'), (x: unknown) => x);
  if (!(e instanceof StatusError)) throw e;
  return e;
}

t.test('unary: the answer arrives, to the project client and to grpc-js', async (t) => {
  const { unary, js } = await serve(t, { echo: (c, reply) => reply(null, enc(`answer to ${dec(c.request)}`)) });
  t.equal(dec(await unary.call(ECHO, enc('a'))), 'answer to a');
  t.equal(dec(await jsUnary(js, ECHO, enc('b'))), 'answer to b');
  t.equal(dec(await unary.call(ECHO, Buffer.alloc(0))), 'answer to ', 'an empty request message is a message');
});

t.test('unary: a failure arrives trailers-only with its code and details intact (non-ASCII, %, newline)', async (t) => {
  const { unary, js, session } = await serve(t, { echo: (c, reply) => reply(dec(c.request) === 'no code' ? { details: 'x' } : { code: 9, details: DETAILS }) });
  const e = await failure(unary.call(ECHO, enc('q')));
  t.same([e.status, e.details], [9, DETAILS], 'the project client');
  const j = (await jsUnary(js, ECHO, enc('q')).catch((x: unknown) => x)) as grpc.ServiceError;
  t.same([j.code, j.details], [9, DETAILS], 'grpc-js');
  const r = await raw(session(), ECHO, [frame('q')]);
  t.same([r.headers[':status'], r.headers['grpc-status'], r.trailers, r.messages], [200, '9', undefined, []], 'status in the headers, no message, no trailers');
  t.match(String(r.headers['grpc-message']), /^(?:[\x20-\x24\x26-\x7e]|%[0-9A-F]{2})+$/, 'on the wire: printable ASCII, every % an escape');
  t.equal(percentEncode('100%'), '100%25');
  t.equal((await failure(unary.call(ECHO, enc('no code')))).status, 13, 'a failure without a code is INTERNAL');
});

t.test('bidi: a failure after messages were written arrives in trailers with its details intact', async (t) => {
  const { session, js } = await serve(t);
  const r = await raw(session(), CHAT, [Buffer.concat([frame('a'), frame(UNDECODABLE)])]);
  t.same([r.messages, r.headers['grpc-status']], [['a'], undefined], 'a message, then headers without a status');
  t.same([status(r), details(r)], ['13', `cannot decode a request: ${DECODE_ERROR}`], 'the status in the trailers');
  const call = js.makeBidiStreamRequest(CHAT, id, id);
  const got: string[] = [];
  call.on('data', (m: Buffer) => { got.push(dec(m)); call.write(enc(UNDECODABLE)); });
  const done = statusOf(call);
  call.write(enc('b'));
  const st = await done;
  t.same([got, st.code, st.details], [['b'], 13, `cannot decode a request: ${DECODE_ERROR}`], 'grpc-js reads the same');
});

t.test('a request split across DATA frames at any byte is read whole', async (t) => {
  const { session, unary } = await serve(t);
  const whole = frame('split me');
  for (let at = 1; at < whole.length; at++) {
    const r = await raw(session(), ECHO, [whole.subarray(0, at), whole.subarray(at)]);
    t.same([status(r), r.messages], ['0', ['split me']], `split at byte ${at}`);
  }
  const r = await raw(session(), ECHO, [...whole].map((b) => Buffer.from([b])));
  t.same([status(r), r.messages], ['0', ['split me']], 'one byte per frame');
  const big = Buffer.alloc(MAX, 'x');
  t.ok((await unary.call(ECHO, big)).equals(big), 'a message of exactly maxReceiveBytes');
});

t.test('streaming: two messages in one DATA frame are both delivered, in order, and a third split across frames', async (t) => {
  const { session } = await serve(t);
  const c = frame('c');
  const chunks = [Buffer.concat([frame('a'), frame('b'), c.subarray(0, 3)]), c.subarray(3)];
  const collected = await raw(session(), COLLECT, chunks);
  t.same([status(collected), collected.messages], ['0', ['a,b,c']], 'client streaming');
  const echoed = await raw(session(), CHAT, chunks);
  t.same([status(echoed), echoed.messages], ['0', ['a', 'b', 'c']], 'bidi');
});

t.test('unary: zero or two request messages fail the call, and the handler is not called', async (t) => {
  let called = 0;
  const { session } = await serve(t, { echo: (c, reply) => { called++; reply(null, c.request); } });
  for (const [what, chunks] of [['no message', []], ['two messages', [Buffer.concat([frame('a'), frame('b')])]]] as const) {
    const r = await raw(session(), ECHO, [...chunks]);
    t.not(status(r), '0', what);
    t.same(r.messages, [], `${what}: no answer`);
  }
  t.equal(called, 0);
});

t.test('a request that ends inside a message fails INTERNAL (the partial message is not dropped silently)', async (t) => {
  const { session } = await serve(t);
  for (const path of [ECHO, COLLECT]) {
    const r = await raw(session(), path, [Buffer.concat([frame('a'), frame('b').subarray(0, 3)])]);
    t.same([status(r), r.messages], ['13', []], path);
  }
});

t.test('unary: a request that does not decode fails INTERNAL, and so does an answer that does not encode', async (t) => {
  const { unary } = await serve(t);
  const e = await failure(unary.call(ECHO, enc(UNDECODABLE)));
  t.same([e.status, e.details], [13, `cannot decode the request: ${DECODE_ERROR}`]);
  t.equal((await failure(unary.call(ECHO, enc(UNENCODABLE)))).status, 13);
});

t.test('client streaming: an answer that does not encode fails INTERNAL (reply() does not throw)', async (t) => {
  const { session } = await serve(t, {
    collect: (call, reply) => call.on('end', () => {
      try { reply(null, enc(UNENCODABLE)); } catch (e) { t.fail(`reply() threw: ${(e as Error).message}`); call.end(); }
    }),
  });
  t.equal(status(await raw(session(), COLLECT, [frame('m')])), '13');
});

t.test('refusals: unknown path UNIMPLEMENTED, non-gRPC content-type HTTP 415, compressed message UNIMPLEMENTED', async (t) => {
  const log = new Log();
  const { unary, js, session } = await serve(t, { collect: logged(log, { replyAtEnd: true }).collect });
  t.equal((await failure(unary.call('/test.T/Nope', enc('a')))).status, 12);
  t.equal(((await jsUnary(js, '/test.T/Nope', enc('a')).catch((x: unknown) => x)) as grpc.ServiceError).code, 12, 'grpc-js');
  t.equal((await raw(session(), ECHO, [frame('a')], 'application/json')).headers[':status'], 415);
  for (const path of [ECHO, COLLECT]) t.equal(status(await raw(session(), path, [frame('a', 1)])), '12', `compressed, ${path}`);
  t.notOk(log.items.includes('a'), 'the handler got no compressed message');
});

t.test('a message over maxReceiveBytes fails RESOURCE_EXHAUSTED and the server answers the next call', async (t) => {
  const { unary, js } = await serve(t);
  t.equal((await failure(unary.call(ECHO, Buffer.alloc(MAX + 1)))).status, 8, 'unary');
  t.equal(dec(await unary.call(ECHO, enc('next'))), 'next', 'the next call on the same connection');
  const st = await new Promise<grpc.ServiceError | null>((resolve) => {
    js.makeClientStreamRequest(COLLECT, id, id, (e) => resolve(e)).end(Buffer.alloc(MAX + 1));
  });
  t.equal(st?.code, 8, 'client streaming (grpc-js)');
  t.equal(dec(await jsUnary(js, ECHO, enc('after'))), 'after');
});

t.test('a streaming call the server fails itself (too large, compressed, undecodable) tells its handler cancelled, never end', async (t) => {
  const log = new Log();
  const { session, barrier } = await serve(t, { collect: logged(log, { replyAtEnd: true }).collect });
  for (const bad of [frame(Buffer.alloc(MAX + 1)), frame('x', 1), frame(UNDECODABLE)]) {
    log.items.length = 0;
    const r = await raw(session(), COLLECT, [Buffer.concat([frame('a'), bad, frame('after')])]);
    t.not(status(r), '0');
    await barrier();
    t.same(log.items, ['a', 'cancelled'], `after status ${status(r)}`);
  }
});

t.test('client streaming: pause() holds back data and end until resume(), though the client sent them', async (t) => {
  const log = new Log();
  const { collect, last } = logged(log, { pauseEach: true, replyAtEnd: true });
  const { session, barrier } = await serve(t, { collect });
  const { s, result, write } = rawStream(session(), COLLECT);
  await write(Buffer.concat([frame('m1'), frame('m2')])); // m2 comes in the very frame that paused the call
  await write(Buffer.concat([frame('m3'), frame('m4')]));
  s.end();
  await barrier();
  t.same(log.items, ['m1'], 'paused: nothing more while m2-m4 and the end wait');
  for (const [n, expected] of [[2, 'm2'], [3, 'm3'], [4, 'm4']] as const) {
    last.call!.resume();
    await log.until(n);
    await barrier();
    t.same(log.items.slice(n - 1), [expected], `one resume(), one message (${expected}), no end`);
  }
  last.call!.resume();
  t.same((await result).messages, ['got 4']);
  t.same(log.items, ['m1', 'm2', 'm3', 'm4', 'end']);
});

t.test('client streaming: a paused call holds the client back (flow control), and resume() lets it all through in order', async (t) => {
  const log = new Log();
  let paused!: StreamCall<Buffer, never>;
  const { session, barrier } = await serve(t, {
    collect: (c, reply) => {
      c.on('data', (m) => { log.add(dec(m).replace(/\.+$/, '')); if (log.items.length === 1) { paused = c; c.pause(); } });
      c.on('end', () => reply(null, enc(`got ${log.items.length}`)));
    },
  });
  const { s, result, write } = rawStream(session(), COLLECT);
  await write(frame('first'));
  await log.until(1);
  // 256 KiB, four times HTTP/2's default window: it cannot all leave while the call is paused.
  const body = Buffer.concat(Array.from({ length: 256 }, (_, i) => frame(`m${String(i).padStart(6, '0')}`.padEnd(1019, '.'))));
  let sent = false;
  void write(body).then(() => { sent = true; });
  for (let i = 0; i < 10 && !sent; i++) await barrier(); // ten round trips in which a server that does not hold back takes it all
  t.notOk(sent, 'the client is held back while the call is paused');
  t.same(log.items, ['first']);
  paused.resume();
  s.end();
  t.same((await result).messages, ['got 257']);
  t.same(log.items.slice(1), Array.from({ length: 256 }, (_, i) => `m${String(i).padStart(6, '0')}`));
});

t.test('client streaming: a client that goes away mid-stream gives cancelled once; a late reply is harmless', async (t) => {
  const log = new Log();
  const { collect, last } = logged(log);
  const { session, barrier } = await serve(t, { collect });
  const cases = [
    ['reset (RST_STREAM, no END_STREAM)', ['m1', 'cancelled'], (s: http2.ClientHttp2Stream) => s.destroy(new Error('client gone'))],
    // node's close(CANCEL) (so grpc-js's cancel() too) sends END_STREAM, then RST_STREAM: the
    // client did end its side, so 'end' is right; the call is still cancelled after it.
    ['half-close, then reset', ['m1', 'end', 'cancelled'], (s: http2.ClientHttp2Stream) => s.close(http2.constants.NGHTTP2_CANCEL)],
  ] as const;
  for (const [how, expected, goAway] of cases) {
    log.items.length = 0;
    const { s, write } = rawStream(session(), COLLECT);
    await write(frame('m1'));
    await log.until(1);
    goAway(s);
    await barrier(); // same connection: the server has read the reset
    t.same(log.items, expected, `${how}: ${log.items.join(', ')}`);
    t.doesNotThrow(() => { last.reply!(null, enc('late')); last.reply!({ code: 2, details: 'later' }); }, 'late replies');
    await barrier();
    t.same(log.items, expected, `${how}: nothing more after the late replies`);
  }
});

t.test('client streaming: a lost connection is cancelled, never end (the client did not end its side)', async (t) => {
  const log = new Log();
  const { addr } = await serve(t, { collect: logged(log).collect });
  const other = http2.connect(`http://${addr}`);
  other.on('error', () => undefined);
  t.teardown(() => other.destroy());
  await rawStream(other, COLLECT).write(frame('m1'));
  await log.until(1);
  other.destroy();
  await log.until(2); // no barrier orders another connection's loss: wait for the handler's next event
  t.same(log.items, ['m1', 'cancelled']);
});

t.test('bidi: written messages arrive in order and end() ends the call with status OK', async (t) => {
  const { js } = await serve(t, { chat: (c) => { for (let i = 0; i < 30; i++) c.write(enc(`w${i}`)); c.end(); } });
  const call = js.makeBidiStreamRequest(CHAT, id, id);
  const got: string[] = [];
  call.on('data', (m: Buffer) => got.push(dec(m)));
  const done = statusOf(call);
  call.end();
  t.same([(await done).code, got], [0, Array.from({ length: 30 }, (_, i) => `w${i}`)]);
});

t.test('bidi: the project BatchChannel gets each answer on the real BatchCommands method', async (t) => {
  const server = new GrpcServer({ maxReceiveBytes: MAX });
  server.addService({ batchCommands: TinyKvService.batchCommands }, {
    batchCommands: (call: StreamCall<kvrpcpb.IBatchCommandsRequest, kvrpcpb.IBatchCommandsResponse>) => call.on('data', (b) => {
      for (const r of [...(b.requests ?? [])].reverse()) call.write({ responses: [{ id: r.id, raw_get: { value: enc(`v-${dec(r.raw_get!.key!)}`) } }] });
    }),
  });
  const { port } = await server.listen('127.0.0.1', 0);
  const unary = new UnaryChannel(`127.0.0.1:${port}`);
  const batch = new BatchChannel(unary);
  t.teardown(() => { batch.close(); unary.close(); server.forceShutdown(); });
  const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
  const got = await Promise.all(keys.map((k) => batch.invoke('raw_get', { key: enc(k) }) as Promise<{ value: Uint8Array }>));
  t.same(got.map((g) => dec(g.value)), keys.map((k) => `v-${k}`));
});

t.test('bidi: write() after the client went away returns false and does not throw, whether or not it wrote before', async (t) => {
  const log = new Log();
  const { session, barrier } = await serve(t, {
    chat: (c) => {
      c.on('data', (m) => log.add(dec(m) === 'write' ? `wrote ${c.write(m)}` : 'read'));
      c.on('cancelled', () => {
        try { log.add(`after cancel: ${c.write(enc('late'))}`); c.end(); } catch (e) { log.add(`threw ${(e as Error).message}`); }
      });
    },
  });
  for (const [first, expected] of [['write', 'wrote true'], ['read', 'read']] as const) {
    log.items.length = 0;
    const { s, write } = rawStream(session(), CHAT);
    await write(frame(first));
    await log.until(1);
    s.close(http2.constants.NGHTTP2_CANCEL);
    await barrier(); // same connection: the server has read the reset
    t.same(log.items, [expected, 'after cancel: false']);
  }
});

t.test('shutdown() refuses new connections, lets the call in flight finish, then resolves', async (t) => {
  const log = new Log();
  let release!: () => void;
  const { server, unary, addr } = await serve(t, { echo: (c, reply) => { log.add('called'); release = () => reply(null, c.request); } });
  const answer = unary.call(ECHO, enc('in flight'));
  await log.until(1);
  let resolved = false;
  const stopped = server.shutdown().then(() => { resolved = true; });
  const fresh = new UnaryChannel(addr);
  t.teardown(() => fresh.close());
  const e = await fresh.call(ECHO, enc('new')).catch((x: unknown) => x);
  t.ok(e instanceof TransportError && e.failure === 'refused', `a new connection: ${String(e)}`);
  t.notOk(resolved, 'not resolved while a call is in flight');
  release();
  t.equal(dec(await answer), 'in flight');
  await stopped;
  t.ok(resolved);
});

t.test('forceShutdown(): open streaming calls see cancelled, and their clients see them fail', async (t) => {
  const log = new Log();
  const watch = (name: string) => (c: StreamCall<Buffer, unknown>) => {
    c.on('data', () => log.add(`${name} data`)).on('cancelled', () => log.add(`${name} cancelled`));
  };
  const { server, js, unary } = await serve(t, { collect: watch('collect'), chat: watch('chat'), echo: () => log.add('echo called') });
  const collected = new Promise<grpc.ServiceError | null>((resolve) => js.makeClientStreamRequest(COLLECT, id, id, (e) => resolve(e)).write(enc('x')));
  const bidi = js.makeBidiStreamRequest(CHAT, id, id);
  const bidiStatus = statusOf(bidi);
  bidi.write(enc('y'));
  const pending = unary.call(ECHO, enc('z')).then(() => 'answered', (e: unknown) => e);
  await log.until(3);
  server.forceShutdown();
  t.not((await collected)?.code ?? 0, 0, 'the client-streaming call failed');
  t.not((await bidiStatus).code, 0, 'the bidi call failed');
  t.ok((await pending) instanceof TransportError, 'the unary call in flight failed');
  // The server closed the calls before any client could see it, so the handlers have heard by now.
  t.same(log.items.filter((i) => i.endsWith('cancelled')).sort(), ['chat cancelled', 'collect cancelled']);
});

t.test('listen(): port 0 takes a free port and says which; a taken port rejects with EADDRINUSE', async (t) => {
  const { port, unary } = await serve(t);
  t.ok(port > 0);
  t.equal(dec(await unary.call(ECHO, enc('here'))), 'here', 'it serves on that port');
  const second = new GrpcServer({ maxReceiveBytes: MAX });
  t.teardown(() => second.forceShutdown());
  const e = await second.listen('127.0.0.1', port).then(() => new Error('listened twice'), (x: unknown) => x);
  t.equal((e as NodeJS.ErrnoException).code, 'EADDRINUSE');
});

t.test('200 concurrent unary calls on one connection each get their own answer', async (t) => {
  const held: Array<() => void> = [];
  const { unary } = await serve(t, {
    echo: (c, reply) => {
      held.push(() => reply(null, enc(`answer to ${dec(c.request)}`)));
      if (held.length === 200) for (const r of held.reverse()) r(); // all at once, the last first
    },
  });
  const ids = Array.from({ length: 200 }, (_, i) => `call ${i}`);
  const got = await Promise.all(ids.map((i) => unary.call(ECHO, enc(i))));
  t.same(got.map(dec), ids.map((i) => `answer to ${i}`));
});
