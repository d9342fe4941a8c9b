// gRPC unary calls over node:http2, without grpc-js: what the key commands need from gRPC
// is one request and one answer per call, and the wire format for that is small (a
// POST with a 5-byte length prefix before the message, the status in the trailers).
// grpc-js costs a CLI call ~20 ms to load and set up a channel (resolver, load balancer,
// subchannel state machine) before the first byte is sent; a `tinykv get` is otherwise
// ~15 ms more than Node's own start-up. The stores still serve with grpc-js, and the
// store-to-store streams still use it.
//
// One HTTP/2 session per address, opened on the first call and opened again after it
// closes. A call with a timeout sends it as grpc-timeout (the store then gives up too) and
// fails with DEADLINE_EXCEEDED when it passes, cancelling the stream; KvClient gives each
// attempt its budget this way. Closing the channel cancels whatever is still pending.

import * as http2 from 'node:http2';
import { GrpcStatus } from '../api/wire-errors.js';

/** Why a call failed before the store answered with a status. */
export type TransportFailure =
  | 'refused' // the connection was refused: nothing was sent
  | 'not-found' // the host name does not resolve: nothing was sent
  | 'lost' // the connection failed or was reset with the call in flight: it may have run
  | 'protocol'; // the peer does not speak gRPC over HTTP/2 (or broke its rules)

/** A call that got no gRPC status: `failure` says whether it may have reached the store. */
export class TransportError extends Error {
  constructor(readonly failure: TransportFailure, readonly detail: string) {
    super(`${failure}: ${detail}`);
  }
}

/** The store answered with a non-zero gRPC status. */
export class StatusError extends Error {
  constructor(readonly status: number, readonly details: string) {
    super(`gRPC status ${status}${details ? `: ${details}` : ''}`);
  }
}

/** A method as src/rpc/services.ts describes it (a grpc-js MethodDefinition fits). */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  requestSerialize(m: Req): Buffer;
  responseDeserialize(b: Buffer): Res;
}

/** Options of a UnaryChannel. */
export interface UnaryChannelOptions {
  /** Larger answers are refused (RESOURCE_EXHAUSTED), as grpc-js does. */
  readonly maxReceiveBytes?: number;
  /**
   * Tests only: report a call lost in flight as "refused", i.e. as never sent, so that a
   * write that may have been applied is reported as not written. grpc-unary.test.ts must
   * catch it.
   */
  readonly deliberateBug?: 'lostAsRefused';
}

export const PREFIX = 5; // compressed flag (1 byte) + message length (4 bytes, big-endian)

/**
 * gRPC unary calls to one address over node:http2, without grpc-js; one HTTP/2 session,
 * opened on first use.
 */
export class UnaryChannel {
  private session: http2.ClientHttp2Session | undefined;
  private closedForGood = false;
  private readonly maxReceiveBytes: number;
  private readonly lostAsRefused: boolean;

  constructor(readonly addr: string, o: UnaryChannelOptions = {}) {
    this.maxReceiveBytes = o.maxReceiveBytes ?? 4 * 1024 * 1024;
    this.lostAsRefused = o.deliberateBug === 'lostAsRefused';
  }

  /**
   * Calls `m` with `req` and decodes the answer; an answer that does not decode is a
   * protocol failure. Rejects with TransportError or StatusError (see call).
   */
  async invoke<Req, Res>(m: UnaryMethod<Req, Res>, req: Req, timeoutMs?: number): Promise<Res> {
    const answer = await this.call(m.path, m.requestSerialize(req), timeoutMs);
    try {
      return m.responseDeserialize(answer);
    } catch (err) {
      throw new TransportError('protocol', `undecodable answer (${(err as Error).message})`);
    }
  }

  /** Sends `message` to `path` ("/package.Service/Method"); resolves with the answer's bytes. */
  call(path: string, message: Uint8Array, timeoutMs?: number): Promise<Buffer> {
    if (this.closedForGood) return Promise.reject(new Error(`channel to ${this.addr} is closed`));
    return new Promise<Buffer>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      const session = this.open();
      try {
        stream = session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-accept-encoding': 'identity',
          ...(timeoutMs !== undefined ? { 'grpc-timeout': `${Math.min(99_999_999, Math.max(1, Math.ceil(timeoutMs)))}m` } : {}),
        });
      } catch (err) {
        // The session went away between open() and here (or ran out of stream ids).
        this.drop(session);
        reject(new TransportError('lost', (err as Error).message));
        return;
      }
      let failed: Error | undefined;
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        failed ??= new StatusError(GrpcStatus.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`);
        // Settled here: a stream still waiting for its connection closes only once the
        // connection is made or fails, which can take minutes (an address that drops SYNs).
        reject(failed);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, timeoutMs);
      const chunks: Buffer[] = [];
      let received = 0;
      let status: string | undefined;
      let details = '';
      let httpStatus = 0;
      const readStatus = (h: http2.IncomingHttpHeaders): void => {
        const s = h['grpc-status'];
        if (s !== undefined) {
          status = String(s);
          details = percentDecode(String(h['grpc-message'] ?? ''));
        }
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        readStatus(h); // a "trailers-only" answer carries its status in the headers
      });
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.maxReceiveBytes + PREFIX) {
          failed = new StatusError(GrpcStatus.RESOURCE_EXHAUSTED, `answer larger than ${this.maxReceiveBytes} bytes`);
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (err: NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) => {
        const e = transportErrorOf(err);
        failed ??= this.lostAsRefused && e.failure === 'lost' ? new TransportError('refused', e.detail) : e;
      });
      stream.on('close', () => {
        clearTimeout(timer);
        if (failed) return reject(failed);
        if (httpStatus === 0) return reject(new TransportError('lost', `the call was reset before an answer (stream code ${stream.rstCode})`));
        if (httpStatus !== 200) return reject(new TransportError('protocol', `HTTP status ${httpStatus}`));
        if (status === undefined) return reject(new TransportError('lost', `the answer ended without a gRPC status (stream code ${stream.rstCode})`));
        if (status !== '0') return reject(new StatusError(Number(status), details));
        try {
          resolve(unframe(Buffer.concat(chunks, received)));
        } catch (err) {
          reject(err);
        }
      });
      const frame = Buffer.allocUnsafe(PREFIX + message.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, PREFIX);
      stream.end(frame);
    });
  }

  /** Cancels the calls still in flight and closes the connection. */
  close(): void {
    this.closedForGood = true;
    this.session?.destroy();
    this.session = undefined;
  }

  /** The HTTP/2 session to the store, opened now if there is none (for BatchChannel's stream). */
  open(): http2.ClientHttp2Session {
    if (this.closedForGood) throw new Error(`channel to ${this.addr} is closed`);
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(`http://${this.addr}`, {
      settings: { enablePush: false, initialWindowSize: 4 * 1024 * 1024 },
      maxSessionMemory: 128, // MB: answers of up to maxReceiveBytes are buffered per call
    });
    session.on('connect', () => {
      if (!session.destroyed) session.setLocalWindowSize(16 * 1024 * 1024);
    });
    // Each call sees the failure on its own stream; without a listener here the session's
    // 'error' event would end the process.
    session.on('error', () => {});
    session.on('close', () => this.drop(session));
    session.on('goaway', () => this.drop(session));
    this.session = session;
    return session;
  }

  private drop(session: http2.ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
  }
}

// A pending call fails with ERR_HTTP2_STREAM_CANCEL whose cause is the session's error.
// Refused and not-found can only happen while connecting, so nothing was sent.
export function transportErrorOf(err: NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }): TransportError {
  const code = err.cause?.code ?? err.code ?? '';
  const detail = err.cause?.message ?? err.message;
  if (code === 'ECONNREFUSED') return new TransportError('refused', detail);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new TransportError('not-found', detail);
  // nghttp2 could not make sense of what the peer sent. A stream or session the peer reset
  // (ERR_HTTP2_STREAM_ERROR, ERR_HTTP2_SESSION_ERROR) is a lost call: it may have run.
  if (code === 'ERR_HTTP2_ERROR') return new TransportError('protocol', detail);
  return new TransportError('lost', detail);
}

/** The one message of a unary answer. */
function unframe(body: Buffer): Buffer {
  if (body.length < PREFIX) throw new TransportError('protocol', `answer of ${body.length} bytes has no message`);
  if (body[0] !== 0) throw new TransportError('protocol', 'the answer is compressed, which was not asked for');
  const length = body.readUInt32BE(1);
  if (body.length !== PREFIX + length) throw new TransportError('protocol', `answer holds ${body.length - PREFIX} bytes for a message of ${length}`);
  return body.subarray(PREFIX);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2, "Responses"). */
export function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
