// UnaryChannel (gRPC unary calls over node:http2) against a real grpc-js server, the kind
// the stores run: answers, statuses, every way a call can fail, and reconnecting.

import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { connect as tcpConnect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { StatusError, TransportError, UnaryChannel, type UnaryChannelOptions } from './grpc-unary.js';
import { GrpcStatus } from '../api/wire-errors.js';

const raw = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path, requestStream: false, responseStream: false,
  requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b,
});
const SERVICE = {
  echo: raw('/test.T/Echo'),
  fail: raw('/test.T/Fail'),
  never: raw('/test.T/Never'),
  big: raw('/test.T/Big'),
};

interface TestServer {
  readonly addr: string;
  readonly port: number;
  /** Calls to Never that are still open. */
  readonly pending: grpc.ServerUnaryCall<Buffer, Buffer>[];
  stop(): Promise<void>;
  kill(): void;
}

async function startServer(port = 0): Promise<TestServer> {
  const server = new grpc.Server();
  const pending: grpc.ServerUnaryCall<Buffer, Buffer>[] = [];
  server.addService(SERVICE, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
    fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb({ code: grpc.status.FAILED_PRECONDITION, details: 'refused: 100% sure, "quoted" ünïcode\nsecond line' }),
    never: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => void pending.push(call),
    big: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(call.request.readUInt32BE(0), 7)),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    addr: `127.0.0.1:${bound}`, port: bound, pending,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    kill: () => server.forceShutdown(),
  };
}

/** A port with nothing listening (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

t.test('a call answers with the message the server sent', async (t) => {
  const s = await startServer();
  const ch = new UnaryChannel(s.addr);
  t.teardown(() => { ch.close(); return s.stop(); });
  t.same([...await ch.call('/test.T/Echo', Buffer.from('hello'))], [...Buffer.from('hello')]);
  t.equal((await ch.call('/test.T/Echo', new Uint8Array())).length, 0, 'an empty message');
  // A 2 MB message in each direction: HTTP/2 flow control is exercised both ways.
  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  t.ok((await ch.call('/test.T/Echo', big)).equals(big), '2 MB round trip, byte for byte');
  // Many calls in flight on one connection.
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => ch.call('/test.T/Echo', Buffer.from(`m${i}`))));
  t.same(answers.map((a) => a.toString()), Array.from({ length: 50 }, (_, i) => `m${i}`));
});

t.test('invoke encodes the request and decodes the answer; an undecodable answer is a protocol failure', async (t) => {
  const s = await startServer();
  const ch = new UnaryChannel(s.addr);
  t.teardown(() => { ch.close(); return s.stop(); });
  const echo = { path: '/test.T/Echo', requestSerialize: (m: string) => Buffer.from(m), responseDeserialize: (b: Buffer) => b.toString() };
  t.equal(await ch.invoke(echo, 'hello'), 'hello');
  const strict = { ...echo, responseDeserialize: (): string => { throw new Error('bad wire type'); } };
  const err = await failure(ch.invoke(strict, 'hello'));
  t.equal((err as TransportError).failure, 'protocol');
  t.match((err as TransportError).detail, /undecodable answer \(bad wire type\)/);
});

t.test('a non-zero status rejects with StatusError and the decoded message', async (t) => {
  const s = await startServer();
  const ch = new UnaryChannel(s.addr);
  t.teardown(() => { ch.close(); return s.stop(); });
  const err = await failure(ch.call('/test.T/Fail', Buffer.from('x')));
  t.ok(err instanceof StatusError);
  t.equal((err as StatusError).status, grpc.status.FAILED_PRECONDITION);
  t.equal((err as StatusError).details, 'refused: 100% sure, "quoted" ünïcode\nsecond line', 'percent-decoded exactly');
  const unknown = await failure(ch.call('/test.T/NoSuchMethod', Buffer.from('x')));
  t.equal((unknown as StatusError).status, grpc.status.UNIMPLEMENTED);
  t.same([...await ch.call('/test.T/Echo', Buffer.from('still fine'))], [...Buffer.from('still fine')], 'the connection survives');
});

t.test('a refused connection is "refused": nothing was sent', async (t) => {
  const ch = new UnaryChannel(`127.0.0.1:${await deadPort()}`);
  t.teardown(() => ch.close());
  const err = await failure(ch.call('/test.T/Echo', Buffer.from('x')));
  t.ok(err instanceof TransportError);
  t.equal((err as TransportError).failure, 'refused');
});

t.test('an unknown host is "not-found"', async (t) => {
  const ch = new UnaryChannel('no-such-host.invalid:20161');
  t.teardown(() => ch.close());
  const err = await failure(ch.call('/test.T/Echo', Buffer.from('x')));
  t.equal((err as TransportError).failure, 'not-found');
});

t.test('a timeout rejects with DEADLINE_EXCEEDED and tells the server', async (t) => {
  const s = await startServer();
  const ch = new UnaryChannel(s.addr);
  t.teardown(() => { ch.close(); return s.stop(); });
  const started = Date.now();
  const err = await failure(ch.call('/test.T/Never', Buffer.from('x'), 150));
  t.ok(err instanceof StatusError);
  t.equal((err as StatusError).status, GrpcStatus.DEADLINE_EXCEEDED);
  t.ok(Date.now() - started >= 140, 'not before the timeout');
  t.equal(s.pending.length, 1);
  t.ok(s.pending[0]!.getDeadline() !== Infinity, 'the server got the deadline (grpc-timeout)');
  t.same([...await ch.call('/test.T/Echo', Buffer.from('y'), 1000)], [...Buffer.from('y')], 'a later call works');
});

t.test('a timeout also ends a call whose connection is still being made', async (t) => {
  // A listener that never accepts (its process is blocked) with a full accept queue: the
  // kernel ignores further connection attempts, so a connect would hang for minutes.
  const child = spawn(process.execPath, ['-e', `
    require('node:net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () {
      process.stdout.write(this.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
    });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  const fillers: Socket[] = [];
  t.teardown(() => { for (const f of fillers) f.destroy(); });
  for (let i = 0; i < 8; i++) {
    const f = tcpConnect({ port, host: '127.0.0.1' });
    f.on('error', () => {});
    fillers.push(f);
  }
  await new Promise((r) => setTimeout(r, 100));
  const ch = new UnaryChannel(`127.0.0.1:${port}`);
  t.teardown(() => ch.close());
  const started = Date.now();
  const err = await failure(ch.call('/test.T/Echo', Buffer.from('x'), 200));
  t.equal((err as StatusError).status, GrpcStatus.DEADLINE_EXCEEDED);
  t.ok(Date.now() - started < 2000, `settled after ${Date.now() - started} ms, not when the connect gives up`);
});

t.test('an answer above maxReceiveBytes is refused with RESOURCE_EXHAUSTED', async (t) => {
  const s = await startServer();
  const ch = new UnaryChannel(s.addr, { maxReceiveBytes: 100_000 });
  t.teardown(() => { ch.close(); return s.stop(); });
  const size = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  t.equal((await ch.call('/test.T/Big', size(100_000))).length, 100_000, 'exactly the limit passes');
  const err = await failure(ch.call('/test.T/Big', size(100_001)));
  t.equal((err as StatusError).status, GrpcStatus.RESOURCE_EXHAUSTED);
});

/** Kills the server while a call is in flight; the call's failure. */
async function killedMidCall(t: Test, o: UnaryChannelOptions = {}): Promise<{ err: unknown; port: number; ch: UnaryChannel }> {
  const s = await startServer();
  const ch = new UnaryChannel(s.addr, o);
  t.teardown(() => ch.close());
  const call = ch.call('/test.T/Never', Buffer.from('x'));
  while (s.pending.length === 0) await new Promise((r) => setTimeout(r, 5));
  s.kill();
  return { err: await failure(call), port: s.port, ch };
}

t.test('a server that goes away mid-call gives "lost"; the channel reconnects after', async (t) => {
  const { err, port, ch } = await killedMidCall(t);
  t.ok(err instanceof TransportError);
  t.equal((err as TransportError).failure, 'lost', 'the call may have run: not "refused"');
  const again = await startServer(port);
  t.teardown(() => again.stop());
  t.same([...await ch.call('/test.T/Echo', Buffer.from('back'))], [...Buffer.from('back')], 'a new connection to the restarted server');
});

t.test('the planted bug (a lost call reported as refused, i.e. never sent) is caught by the check above', async (t) => {
  const { err } = await killedMidCall(t, { deliberateBug: 'lostAsRefused' });
  t.equal((err as TransportError).failure, 'refused', 'the check expecting "lost" would fail');
});

t.test('a peer that does not speak HTTP/2 is a protocol failure', async (t) => {
  const tcp: TcpServer = createTcpServer((sock) => sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const ch = new UnaryChannel(`127.0.0.1:${(tcp.address() as { port: number }).port}`);
  t.teardown(() => { ch.close(); tcp.close(); });
  const err = await failure(ch.call('/test.T/Echo', Buffer.from('x')));
  t.ok(err instanceof TransportError);
  t.not((err as TransportError).failure, 'refused');
});

t.test('close() cancels pending calls and refuses new ones', async (t) => {
  const s = await startServer();
  t.teardown(() => s.stop());
  const ch = new UnaryChannel(s.addr);
  const call = ch.call('/test.T/Never', Buffer.from('x'));
  while (s.pending.length === 0) await new Promise((r) => setTimeout(r, 5));
  ch.close();
  t.ok((await failure(call)) instanceof Error, 'the pending call fails');
  t.match(String(await failure(ch.call('/test.T/Echo', Buffer.from('x')))), /closed/);
});
