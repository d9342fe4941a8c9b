// BatchChannel against a scripted stream: the test plays the store's side of the HTTP/2
// stream one event at a time (response headers, data split at any byte, trailers, end,
// close, a full send buffer), so each rule of the answer framing and of the stream
// bookkeeping is pinned in an exact order of events, where a real server (grpc-batch.test.ts)
// produces most of these orders only by chance.

import { EventEmitter } from 'node:events';
import { constants as h2 } from 'node:http2';
import t, { type Test } from 'tap';
import { kvrpcpb } from '../gen/proto.js';
import { BatchChannel, type BatchChannelOptions } from './grpc-batch.js';
import { PREFIX, StatusError, TransportError, type UnaryChannel } from './grpc-unary.js';
import { GrpcStatus } from '../api/wire-errors.js';

/** One HTTP/2 stream as BatchChannel sees it: what it wrote, how it was closed. */
class ScriptedStream extends EventEmitter {
  readonly frames: Buffer[] = [];
  /** The code close() was called with (undefined: not closed by the client). */
  closedWith: number | undefined;
  rstCode: number | undefined;
  /** write() answers false: the send buffer is full until the test emits 'drain'. */
  full = false;

  constructor(readonly headers: Record<string, string>) {
    super();
  }

  write(frame: Buffer): boolean {
    this.frames.push(Buffer.from(frame));
    return !this.full;
  }

  close(code: number = h2.NGHTTP2_NO_ERROR): void {
    this.closedWith ??= code;
  }

  /** The keys of the requests of each message written, in order. */
  messages(): string[][] {
    return this.frames.map((f) => {
      if (f.readUInt8(0) !== 0) throw new Error('a request message was sent compressed');
      if (f.readUInt32BE(1) !== f.length - PREFIX) throw new Error(`a prefix says ${f.readUInt32BE(1)} bytes for a ${f.length - PREFIX}-byte message`);
      return kvrpcpb.BatchCommandsRequest.decode(f.subarray(PREFIX)).requests.map((r) => keyOf(r));
    });
  }

  /** The ids of the requests written, in order. */
  ids(): number[] {
    return this.frames.flatMap((f) => kvrpcpb.BatchCommandsRequest.decode(f.subarray(PREFIX)).requests.map((r) => Number(r.id)));
  }

  /** The store answers: one message carrying `responses`. */
  answer(...responses: kvrpcpb.IBatchResponse[]): void {
    this.emit('data', frame({ responses }));
  }
}

/** The UnaryChannel a BatchChannel opens its streams on; `openFails` makes request() throw. */
class ScriptedChannel {
  readonly addr = '127.0.0.1:1';
  readonly streams: ScriptedStream[] = [];
  openFails: Error | undefined;

  open(): { request(headers: Record<string, string>): ScriptedStream } {
    return {
      request: (headers) => {
        if (this.openFails) throw this.openFails;
        const s = new ScriptedStream(headers);
        this.streams.push(s);
        return s;
      },
    };
  }
}

function keyOf(r: kvrpcpb.IBatchRequest): string {
  const k = r.raw_get?.key ?? r.raw_put?.key ?? r.raw_scan?.start_key;
  return Buffer.from(k ?? []).toString();
}

function frame(msg: kvrpcpb.IBatchCommandsResponse, flag = 0): Buffer {
  return withPrefix(Buffer.from(kvrpcpb.BatchCommandsResponse.encode(msg).finish()), flag);
}

function withPrefix(body: Buffer, flag = 0): Buffer {
  const f = Buffer.alloc(PREFIX + body.length);
  f.writeUInt8(flag, 0);
  f.writeUInt32BE(body.length, 1);
  body.copy(f, PREFIX);
  return f;
}

function setup(t: Test, o: BatchChannelOptions = {}): { fake: ScriptedChannel; ch: BatchChannel } {
  const fake = new ScriptedChannel();
  const ch = new BatchChannel(fake as unknown as UnaryChannel, o);
  t.teardown(() => ch.close());
  return { fake, ch };
}

/** One turn of the event loop: the flush that invoke() scheduled has run. */
const turn = () => new Promise<void>((r) => setImmediate(r));

const get = (ch: BatchChannel, key: string, timeoutMs?: number) =>
  ch.invoke('raw_get', { key: Buffer.from(key) }, timeoutMs).then((a) => Buffer.from((a as kvrpcpb.IRawGetResponse).value ?? []).toString());

/** A channel with one get (of 'k') written on the stream it opened. */
async function oneGetOnItsStream(t: Test, o: BatchChannelOptions = {}) {
  const { fake, ch } = setup(t, o);
  const p = get(ch, 'k');
  await turn();
  return { fake, ch, p, s: fake.streams[0]! };
}

const value = (id: number, v: string): kvrpcpb.IBatchResponse => ({ id, raw_get: { value: Buffer.from(v) } });

/** The request's outcome without waiting for it: 'pending' if it has not settled yet. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  const r = await Promise.race([p.then((v) => ({ v }), (err: unknown) => ({ err })), turn().then(() => undefined)]);
  if (r === undefined) return 'pending';
  return 'err' in r ? r.err : r.v;
}

/** The client cancelled the stream; once it has closed, what the request got. */
async function afterCancel(t: Test, s: ScriptedStream, p: Promise<unknown>): Promise<unknown> {
  t.equal(s.closedWith, h2.NGHTTP2_CANCEL, 'the stream is cancelled');
  s.emit('close');
  return outcome(p);
}

t.test('the stream asks for the BatchCommands method, as gRPC, with answers uncompressed', async (t) => {
  const { fake, ch } = setup(t);
  void get(ch, 'k').catch(() => undefined);
  await turn();
  t.equal(fake.streams.length, 1);
  t.match(fake.streams[0]!.headers, {
    ':method': 'POST',
    ':path': '/tinykvpb.TinyKv/BatchCommands',
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-accept-encoding': 'identity',
  });
});

t.test('an answer split at any byte, its 5-byte prefix included, is decoded once it is whole', async (t) => {
  const whole = frame({ responses: [value(1, 'split')] });
  for (let at = 1; at < whole.length; at++) {
    const { p, s } = await oneGetOnItsStream(t);
    s.emit('data', whole.subarray(0, at));
    t.equal(await outcome(p), 'pending', `split at byte ${at}: nothing before the message is whole`);
    s.emit('data', whole.subarray(at));
    t.equal(await p, 'split', `split at byte ${at}`);
  }
  // One byte at a time.
  const { fake, ch } = setup(t);
  const p = get(ch, 'k');
  await turn();
  for (const b of whole) fake.streams[0]!.emit('data', Buffer.from([b]));
  t.equal(await p, 'split', 'one byte a chunk');
});

t.test('two answers and the start of a third in one chunk: all three reach their callers', async (t) => {
  const { fake, ch } = setup(t);
  const ps = [get(ch, 'a'), get(ch, 'b'), get(ch, 'c')];
  await turn();
  const s = fake.streams[0]!;
  const third = frame({ responses: [value(3, 'C')] });
  s.emit('data', Buffer.concat([frame({ responses: [value(2, 'B')] }), frame({ responses: [value(1, 'A')] }), third.subarray(0, 3)]));
  t.equal(await ps[1], 'B');
  t.equal(await ps[0], 'A');
  t.equal(await outcome(ps[2]!), 'pending', 'the third is not whole yet');
  s.emit('data', third.subarray(3));
  t.equal(await ps[2], 'C', 'the bytes after a whole message were kept for the next');
  // A message that ends exactly at the end of a chunk leaves nothing behind.
  const p = get(ch, 'd');
  await turn();
  s.answer(value(4, 'D'));
  t.equal(await p, 'D');
});

t.test('a compressed answer (flag 1), which was never asked for, fails the stream as a protocol error', async (t) => {
  const { p, s } = await oneGetOnItsStream(t);
  s.emit('data', frame({ responses: [value(1, 'v')] }, 1));
  const err = await afterCancel(t, s, p);
  t.ok(err instanceof TransportError && err.failure === 'protocol', String(err));
  t.equal((err as Error).message, 'protocol: the answer is compressed, which was not asked for');
});

t.test('an answer of exactly maxReceiveBytes is taken; one byte more fails the stream with RESOURCE_EXHAUSTED', async (t) => {
  const ok = frame({ responses: [value(1, 'x'.repeat(100))] });
  const limit = ok.length - PREFIX;
  const { fake, ch } = setup(t, { maxReceiveBytes: limit });
  const p = get(ch, 'k');
  await turn();
  fake.streams[0]!.emit('data', ok);
  t.equal(await p, 'x'.repeat(100), `a ${limit}-byte answer under a ${limit}-byte limit`);
  const q = get(ch, 'k2');
  await turn();
  const s = fake.streams[0]!;
  s.emit('data', frame({ responses: [value(2, 'x'.repeat(101))] }));
  const err = await afterCancel(t, s, q);
  t.ok(err instanceof StatusError && err.status === GrpcStatus.RESOURCE_EXHAUSTED, String(err));
  t.equal((err as StatusError).details, `answer larger than ${limit} bytes`);
});

t.test('an undecodable answer fails the stream as a protocol error', async (t) => {
  const { p, s } = await oneGetOnItsStream(t);
  // Field 1 (responses), length-delimited, says 5 bytes and has 1.
  s.emit('data', withPrefix(Buffer.from([0x0a, 0x05, 0x01])));
  const err = await afterCancel(t, s, p);
  t.ok(err instanceof TransportError && err.failure === 'protocol', String(err));
  t.match((err as Error).message, /^protocol: undecodable answer \(.+\)$/);
});

t.test('an answer nobody waits for (late, after its request timed out; or an unknown id) is dropped; the stream goes on', async (t) => {
  const { fake, ch } = setup(t);
  const late = get(ch, 'late', 10);
  const other = get(ch, 'other');
  const err = await late.catch((e: unknown) => e);
  t.ok(err instanceof StatusError && err.status === GrpcStatus.DEADLINE_EXCEEDED, String(err));
  t.equal((err as StatusError).details, 'no answer within 10 ms');
  const s = fake.streams[0]!;
  t.same(s.ids(), [1, 2]);
  s.answer(value(1, 'too late'), value(99, 'nobody asked'), value(2, 'in time'));
  t.equal(await other, 'in time');
  t.equal(s.closedWith, undefined, 'the stream is not broken by answers nobody waits for');
});

t.test('a request that times out while its stream is broken but not yet closed fails with DEADLINE_EXCEEDED', async (t) => {
  const { fake, ch } = setup(t);
  const p = get(ch, 'k', 20);
  await turn();
  const s = fake.streams[0]!;
  s.emit('data', frame({ responses: [] }, 1)); // broken: no current stream until a request opens one
  const err = await p.catch((e: unknown) => e);
  t.ok(err instanceof StatusError && err.status === GrpcStatus.DEADLINE_EXCEEDED, String(err));
  s.emit('close');
});

t.test('an answer of the wrong kind fails its request as a protocol error that names what came', async (t) => {
  const { fake, ch } = setup(t);
  const p = get(ch, 'k');
  const q = get(ch, 'k2');
  await turn();
  fake.streams[0]!.answer({ id: 1, raw_put: {} }, { id: 2 });
  const err = await outcome(p);
  t.ok(err instanceof TransportError && err.failure === 'protocol', String(err));
  t.equal((err as Error).message, 'protocol: answer to a raw_get request is not one (raw_put)');
  const none = await outcome(q);
  t.equal((none as Error).message, 'protocol: answer to a raw_get request is not one (undefined)', 'an answer with no kind at all');
});

t.test('a per-request status fails that request alone; without a message its details are empty', async (t) => {
  const { fake, ch } = setup(t);
  const p = get(ch, 'a');
  const q = get(ch, 'b');
  await turn();
  fake.streams[0]!.answer({ id: 1, status: GrpcStatus.UNAVAILABLE }, value(2, 'fine'));
  const err = await outcome(p);
  t.ok(err instanceof StatusError && err.status === GrpcStatus.UNAVAILABLE && err.details === '', String(err));
  t.equal(await q, 'fine');
});

t.test('response headers with an HTTP status other than 200 fail the stream as a protocol error', async (t) => {
  const { p, s } = await oneGetOnItsStream(t);
  s.emit('response', { ':status': 503 });
  const err = await afterCancel(t, s, p);
  t.ok(err instanceof TransportError && err.failure === 'protocol', String(err));
  t.equal((err as Error).message, 'protocol: HTTP status 503');
});

t.test('a status in the response headers (trailers-only: the store does not know the method) fails the pending requests with it', async (t) => {
  const { p, s } = await oneGetOnItsStream(t);
  s.emit('response', { ':status': 200, 'grpc-status': '12', 'grpc-message': 'unknown%20method%3A%20BatchCommands' });
  t.equal(s.closedWith, undefined, 'a 200 does not break the stream');
  s.emit('end');
  const err = await outcome(p);
  t.ok(err instanceof StatusError && err.status === 12, `UNIMPLEMENTED: ${String(err)}`);
  t.equal((err as StatusError).details, 'unknown method: BatchCommands', 'the message is percent-decoded');
  t.equal(s.closedWith, h2.NGHTTP2_NO_ERROR, 'our side is closed once the store has ended its');
});

t.test('a status in the trailers without a message fails the pending requests with empty details', async (t) => {
  const { p, s } = await oneGetOnItsStream(t);
  s.emit('response', { ':status': 200 });
  s.emit('trailers', { 'grpc-status': String(GrpcStatus.UNAVAILABLE) });
  s.emit('end');
  const err = await outcome(p);
  t.ok(err instanceof StatusError && err.status === GrpcStatus.UNAVAILABLE && err.details === '', String(err));
});

t.test('a stream that ends with requests pending and no error status (none, or OK): they are lost, with the stream code', async (t) => {
  for (const trailers of [undefined, { 'grpc-status': '0' }]) {
    const { p, s } = await oneGetOnItsStream(t);
    s.emit('response', { ':status': 200 });
    if (trailers) s.emit('trailers', trailers);
    s.emit('end');
    const err = await outcome(p);
    t.ok(err instanceof TransportError && err.failure === 'lost', `${JSON.stringify(trailers)}: ${String(err)}`);
    t.equal((err as Error).message, 'lost: the stream ended with requests pending (stream code none)');
  }
  const { p, s } = await oneGetOnItsStream(t);
  s.rstCode = h2.NGHTTP2_INTERNAL_ERROR;
  s.emit('close');
  t.equal((await outcome(p) as Error).message, `lost: the stream ended with requests pending (stream code ${h2.NGHTTP2_INTERNAL_ERROR})`);
});

t.test('a broken stream is replaced at once, and its late events leave the new one alone', async (t) => {
  const { fake, ch } = setup(t);
  const first = get(ch, 'a');
  await turn();
  const a = fake.streams[0]!;
  a.emit('data', frame({ responses: [] }, 1)); // breaks a; its 'close' comes later
  const second = get(ch, 'b');
  await turn();
  t.equal(fake.streams.length, 2, 'the request after the break opens a new stream, not the broken one');
  const b = fake.streams[1]!;
  t.same(b.messages(), [['b']]);
  // The broken stream's last events: more bad headers, then its close.
  a.emit('response', { ':status': 500 });
  a.emit('close');
  t.ok((await outcome(first)) instanceof TransportError, 'the request on the broken stream failed');
  const third = get(ch, 'c');
  await turn();
  t.equal(fake.streams.length, 2, 'the next request goes on the new stream still');
  t.same(b.messages(), [['b'], ['c']]);
  b.answer(value(2, 'B'), value(3, 'C'));
  t.same([await second, await third], ['B', 'C']);
});

t.test('close() before the first flush: the request fails as closed and no stream is opened; later requests are refused at once', async (t) => {
  const { fake, ch } = setup(t);
  const p = get(ch, 'k').catch((e: unknown) => e);
  ch.close();
  await turn();
  t.equal(fake.streams.length, 0, 'no stream opened');
  t.match(String(await outcome(p)), /channel to 127\.0\.0\.1:1 is closed/);
  const q = get(ch, 'after').catch((e: unknown) => e);
  t.match(String(await outcome(q)), /closed/, 'refused without waiting');
  await turn();
  t.equal(fake.streams.length, 0, 'still no stream');
});

t.test('a timeout takes back exactly its own request: others held back stay queued, and one in flight takes back nothing', async (t) => {
  const { fake, ch } = setup(t, { maxSendBytes: 1024 });
  const put = (key: string, bytes: number, timeoutMs?: number) =>
    ch.invoke('raw_put', { key: Buffer.from(key), value: Buffer.alloc(bytes) }, timeoutMs).then(() => 'ok', (e: unknown) => e);
  const big = put('big', 2000, 30); // written; the buffer is full after it
  await turn();
  const s = fake.streams[0]!;
  t.same(s.messages(), [['big']]);
  s.full = true;
  const more = put('more', 10);
  await turn();
  t.same(s.messages(), [['big'], ['more']], 'written; write() said the buffer is full');
  const held = put('held', 10); // held back: no timeout
  const late = put('late', 10, 10); // held back, runs out of time first
  await turn();
  t.equal(s.frames.length, 2, 'nothing written while backed up');
  const lateErr = await late;
  t.ok(lateErr instanceof StatusError && lateErr.status === GrpcStatus.DEADLINE_EXCEEDED, `late: ${String(lateErr)}`);
  const bigErr = await big; // in flight when it runs out of time
  t.ok(bigErr instanceof StatusError && bigErr.status === GrpcStatus.DEADLINE_EXCEEDED, `big: ${String(bigErr)}`);
  s.full = false;
  s.emit('drain');
  await turn();
  t.same(s.messages(), [['big'], ['more'], ['held']], 'after the drain: the held-back request and only it');
  s.answer({ id: 2, raw_put: {} }, { id: 3, raw_put: {} });
  t.same([await more, await held], ['ok', 'ok']);
});

t.test('a message adds requests up to maxSendBytes, one that fills it exactly included; numbers in a request add nothing', async (t) => {
  const { fake, ch } = setup(t, { maxSendBytes: 1000 });
  // Each put is 64 + 2 + 434 = 500 bytes as counted.
  for (let i = 0; i < 3; i++) void ch.invoke('raw_put', { key: Buffer.from(`k${i}`), value: Buffer.alloc(434) }).catch(() => undefined);
  await turn();
  t.same(fake.streams[0]!.messages(), [['k0', 'k1'], ['k2']], 'two of 500 bytes fill 1000 exactly');
  // Scans carry a number (limit) and a string (cf): 64 + 1 + 1 bytes each, all in one message.
  for (let i = 0; i < 10; i++) void ch.invoke('raw_scan', { start_key: Buffer.from(`${i}`), end_key: Buffer.from('~'), limit: 100, cf: 'default' }).catch(() => undefined);
  await turn();
  t.same(fake.streams[0]!.messages().slice(2), [['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']]);
});

t.test('a stream that cannot be opened (the session went away): every queued request fails as lost with the reason', async (t) => {
  const { fake, ch } = setup(t);
  fake.openFails = new Error('ERR_HTTP2_INVALID_SESSION: the session has been destroyed');
  const errs = await Promise.all([get(ch, 'a').catch((e: unknown) => e), get(ch, 'b').catch((e: unknown) => e)]);
  for (const err of errs) {
    t.ok(err instanceof TransportError && err.failure === 'lost', String(err));
    t.equal((err as Error).message, 'lost: ERR_HTTP2_INVALID_SESSION: the session has been destroyed');
  }
  fake.openFails = undefined;
  const p = get(ch, 'c');
  await turn();
  fake.streams[0]!.answer(value(3, 'C'));
  t.equal(await p, 'C', 'the next request opens a stream');
});

t.test('a request that runs out of time before its first flush opens no stream', async (t) => {
  const { fake, ch } = setup(t);
  // Asked for inside a setImmediate callback, its flush runs in the next turn of the event
  // loop, whose timers come first: once 5 ms have passed, its 1 ms timeout fires before it.
  const err = await new Promise<unknown>((resolve) => setImmediate(() => {
    get(ch, 'k', 1).catch(resolve);
    const until = Date.now() + 5;
    while (Date.now() < until); // busy on purpose: the timer is due when this turn ends
  }));
  t.ok(err instanceof StatusError && err.status === GrpcStatus.DEADLINE_EXCEEDED, String(err));
  await turn();
  await turn();
  t.equal(fake.streams.length, 0, 'nothing to send, no stream');
});
