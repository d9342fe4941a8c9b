// GrpcServer: the store's gRPC server, written straight on node:http2. It serves the
// three kinds of call the store's services use — unary, client streaming (raft messages,
// snapshots) and bidirectional streaming (BatchCommands) — with the wire format of gRPC
// over HTTP/2: length-prefixed messages, status in trailers (or a trailers-only answer),
// percent-encoded grpc-message. It replaced @grpc/grpc-js's server because that server
// spent about a third more CPU per call than the HTTP/2 layer under it (measured with a
// Go unary client: docs/performance.md), and a store's CPU per request is what bounds it.
//
// What it leaves out, on purpose: compression (a compressed message is refused with
// UNIMPLEMENTED; clients send identity by default), server-side deadlines (the client
// gives up at its own deadline; the store's proposals time out on their own), metadata.

import http2 from 'node:http2';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { GrpcStatus } from '../api/wire-errors.js';
import type { CallFailure, MethodDefinition, Reply, StreamCall } from '../rpc/services.js';

/** The status code for what this server does not do (gRPC's UNIMPLEMENTED). */
const UNIMPLEMENTED = 12;

/** A streaming call on one HTTP/2 stream (see StreamCall in src/rpc/services.ts). */
class StreamingCall<Req, Res> extends EventEmitter implements StreamCall<Req, Res> {
  private readonly queue: Req[] = [];
  private paused = false;
  private ended = false;
  private endEmitted = false;
  private cancelled = false;
  /** Set once the call has finished (answered, failed, or the client went away). */
  done = false;

  constructor(private readonly stream: http2.ServerHttp2Stream, private readonly encode: (m: Res) => Buffer) {
    super();
  }

  pause(): void {
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    this.paused = false;
    this.drain();
    if (!this.paused) this.stream.resume();
  }

  write(m: Res): boolean {
    if (this.done) return false;
    sendHeaders(this.stream);
    return this.stream.write(frame(this.encode(m)));
  }

  end(): void {
    finish(this, this.stream, null);
  }

  /** A decoded request from the client. */
  push(m: Req): void {
    this.queue.push(m);
    this.drain();
  }

  /** The call is over without the client's end (it went away, or the server failed it). */
  cancel(): void {
    this.done = true;
    this.queue.length = 0;
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled');
  }

  /** The client ended its side. */
  pushEnd(): void {
    this.ended = true;
    this.drain();
  }

  private drain(): void {
    if (this.cancelled) return;
    while (!this.paused && this.queue.length > 0) this.emit('data', this.queue.shift());
    if (!this.paused && this.ended && !this.endEmitted) {
      this.endEmitted = true;
      this.emit('end');
    }
  }
}

type AnyMethod = MethodDefinition<any, any>;
type AnyHandler = (call: any, reply: Reply<any>) => void;


/** Bytes of the prefix before each message: a compressed flag and a 32-bit length. */
const PREFIX = 5;

function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(PREFIX + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, PREFIX);
  return out;
}

function sendHeaders(stream: http2.ServerHttp2Stream): void {
  if (stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
}

/** grpc-message is percent-encoded: every byte outside printable ASCII, and '%'. */
export function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Ends a call once: status OK, or the failure; a trailers-only answer if nothing was sent yet. */
function finish(call: { done: boolean }, stream: http2.ServerHttp2Stream, err: CallFailure | null, last?: Buffer): void {
  if (call.done) return;
  call.done = true;
  if (stream.destroyed || stream.closed) return;
  const code = err ? (err.code ?? GrpcStatus.INTERNAL) : GrpcStatus.OK;
  const trailers: http2.OutgoingHttpHeaders = { 'grpc-status': String(code) };
  if (err?.details) trailers['grpc-message'] = percentEncode(err.details);
  if (!stream.headersSent) {
    if (err) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...trailers }, { endStream: true });
      return;
    }
    sendHeaders(stream);
  }
  stream.once('wantTrailers', () => stream.sendTrailers(trailers));
  if (last) stream.end(last);
  else stream.end();
}

/**
 * Cuts a call's DATA chunks into messages. Calls `onMessage` for each, or `onError` once
 * (a message too large or compressed) and then ignores the rest.
 */
function messageReader(maxBytes: number, onMessage: (b: Buffer) => void, onError: (f: CallFailure) => void): ((chunk: Buffer) => void) & { leftover(): number } {
  let pending: Buffer = Buffer.alloc(0);
  let failed = false;
  return Object.assign((chunk: Buffer) => {
    if (failed) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= PREFIX) {
      const length = pending.readUInt32BE(1);
      if (pending[0] !== 0) {
        failed = true;
        return onError({ code: UNIMPLEMENTED, details: 'compressed messages are not supported' });
      }
      if (length > maxBytes) {
        failed = true;
        return onError({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: `message of ${length} bytes is larger than ${maxBytes}` });
      }
      if (pending.length < PREFIX + length) return;
      const body = pending.subarray(PREFIX, PREFIX + length);
      pending = pending.subarray(PREFIX + length);
      onMessage(body);
    }
  }, { leftover: () => (failed ? 0 : pending.length) });
}

/** The reply of a unary or client-streaming call: its failure, or its answer encoded; once. */
function answerOnce(call: { done: boolean }, stream: http2.ServerHttp2Stream, def: AnyMethod): Reply<unknown> {
  return (err, res) => {
    if (err) return finish(call, stream, err);
    let body: Buffer;
    try {
      body = def.responseSerialize(res);
    } catch (e) {
      return finish(call, stream, { code: GrpcStatus.INTERNAL, details: `cannot encode the answer: ${(e as Error).message}` });
    }
    finish(call, stream, null, frame(body));
  };
}

export interface GrpcServerOptions {
  /** The largest request message taken; larger ones fail the call RESOURCE_EXHAUSTED. */
  readonly maxReceiveBytes: number;
}

export class GrpcServer {
  private readonly methods = new Map<string, { readonly def: AnyMethod; readonly handler: AnyHandler }>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly calls = new Set<{ cancel(): void }>();
  private server: http2.Http2Server | undefined;

  constructor(private readonly o: GrpcServerOptions) {}

  /** Serves each method of `def` with the handler of the same name in `impl`. */
  addService<D extends Record<string, AnyMethod>>(def: D, impl: { [K in keyof D]: AnyHandler }): void {
    for (const [name, m] of Object.entries(def)) {
      const handler = impl[name as keyof D];
      if (!handler) throw new TypeError(`no handler for ${m.path}`);
      this.methods.set(m.path, { def: m, handler });
    }
  }

  /** Listens on host:port; rejects with the listen error (EADDRINUSE and the like). */
  listen(host: string, port: number): Promise<AddressInfo> {
    const server = http2.createServer({ maxSessionMemory: 512 });
    this.server = server;
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
      s.on('error', () => undefined); // the session closes; its calls see 'close'
    });
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** Stops taking connections and calls; resolves once every open call has finished. */
  shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sessions) s.close();
    return closed;
  }

  /** Ends every open call (the clients see them cancelled) and every connection, now. */
  forceShutdown(): void {
    for (const c of [...this.calls]) c.cancel();
    for (const s of [...this.sessions]) s.destroy();
    this.server?.close();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined); // a reset stream: 'close' follows
    const type = String(headers['content-type'] ?? '');
    if (!type.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const found = this.methods.get(String(headers[':path'] ?? ''));
    if (!found) {
      finish({ done: false }, stream, { code: UNIMPLEMENTED, details: `unknown method ${String(headers[':path'])}` });
      return;
    }
    const { def, handler } = found;
    if (!def.requestStream) this.serveUnary(stream, def, handler);
    else this.serveStreaming(stream, def, handler);
  }

  private serveUnary(stream: http2.ServerHttp2Stream, def: AnyMethod, handler: AnyHandler): void {
    const call = { done: false };
    let request: Buffer | undefined;
    let count = 0;
    const read = messageReader(this.o.maxReceiveBytes, (b) => {
      count++;
      request = b;
    }, (f) => finish(call, stream, f));
    stream.on('data', read);
    stream.on('end', () => {
      if (call.done) return;
      if (read.leftover() > 0) return finish(call, stream, { code: GrpcStatus.INTERNAL, details: 'the request ended inside a message' });
      if (count !== 1) return finish(call, stream, { code: UNIMPLEMENTED, details: `a unary call needs one request message, got ${count}` });
      let decoded: unknown;
      try {
        decoded = def.requestDeserialize(request!);
      } catch (e) {
        return finish(call, stream, { code: GrpcStatus.INTERNAL, details: `cannot decode the request: ${(e as Error).message}` });
      }
      handler({ request: decoded }, answerOnce(call, stream, def));
    });
  }

  private serveStreaming(stream: http2.ServerHttp2Stream, def: AnyMethod, handler: AnyHandler): void {
    const call = new StreamingCall<unknown, unknown>(stream, (m) => def.responseSerialize(m));
    const handle = { cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL) };
    this.calls.add(handle);
    const fail = (f: CallFailure) => { finish(call, stream, f); call.cancel(); };
    const read = messageReader(this.o.maxReceiveBytes, (b) => {
      if (call.done) return;
      let m: unknown;
      try {
        m = def.requestDeserialize(b);
      } catch (e) {
        fail({ code: GrpcStatus.INTERNAL, details: `cannot decode a request: ${(e as Error).message}` });
        return;
      }
      call.push(m);
    }, fail);
    stream.on('data', (chunk: Buffer) => { if (!call.done) read(chunk); });
    // A reset stream is 'aborted' and then still 'end'ed by node: that end is not the client's.
    stream.on('aborted', () => { if (!call.done) call.cancel(); });
    stream.on('end', () => {
      if (stream.aborted || call.done) return;
      if (read.leftover() > 0) return fail({ code: GrpcStatus.INTERNAL, details: 'the request ended inside a message' });
      call.pushEnd();
    });
    stream.on('close', () => {
      this.calls.delete(handle);
      if (!call.done) call.cancel();
    });
    if (def.responseStream) {
      handler(call, () => { throw new TypeError(`${def.path} is bidirectional: answer with write() and end()`); });
    } else {
      handler(call, answerOnce(call, stream, def));
    }
  }
}
