// The client side of a store's BatchCommands stream (kvrpcpb.BatchRequest), over the HTTP/2
// session of a UnaryChannel: the requests of a busy client share one long-lived stream,
// those issued in the same turn of the event loop go in one message, and the answers come
// back matched by id, in any order. An HTTP/2 stream per call costs more CPU than the
// request itself (headers, stream state, trailers, on both sides): with 64 puts in flight
// the load generator spent half its busy time in node:http2's call handling, and the
// leader a quarter of its own in grpc-js's.
//
// Failures are reported as a unary call reports them (TransportError, StatusError): a
// stream that breaks fails every request written on it as 'lost' (they may have run), or
// 'refused' if its connection was never made (nothing was sent). A request that runs out
// of time fails with DEADLINE_EXCEEDED; the store is not told (one cannot take back a
// proposal) and its late answer is dropped.

import * as http2 from 'node:http2';
import { kvrpcpb } from '../gen/proto.js';
import { PREFIX, StatusError, TransportError, percentDecode, transportErrorOf } from './grpc-unary.js';
import { GrpcStatus } from '../api/wire-errors.js';
import type { UnaryChannel } from './grpc-unary.js';

/** The kinds of request a BatchCommands stream carries. */
export type BatchKind = 'raw_get' | 'raw_put' | 'raw_delete' | 'raw_delete_range' | 'raw_scan';

/** Options of a BatchChannel. */
export interface BatchChannelOptions {
  /** A larger message from the store fails the stream (RESOURCE_EXHAUSTED), as grpc-js does. */
  readonly maxReceiveBytes?: number;
  /** Requests in one message stop adding up at about this many bytes (one always goes). */
  readonly maxSendBytes?: number;
  /**
   * Tests only: answers are matched to requests by the order they arrive in, not by id.
   * Out-of-order answers then reach the wrong callers; grpc-batch.test.ts must catch it.
   */
  readonly deliberateBug?: 'matchByArrival';
}

interface Waiting {
  readonly id: number;
  readonly kind: BatchKind;
  readonly resolve: (answer: unknown) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Queued {
  readonly w: Waiting;
  readonly request: kvrpcpb.IBatchRequest;
  readonly bytes: number;
}

/** One open BatchCommands stream and the requests written on it. */
interface OpenStream {
  readonly h2: http2.ClientHttp2Stream;
  readonly waiting: Map<number, Waiting>;
  failed?: Error;
  status?: string;
  details: string;
  httpStatus: number;
  /** write() said the buffer is full: nothing more until 'drain'. */
  backedUp: boolean;
  /** Bytes received and not yet a whole message (joined only once one is whole). */
  chunks: Buffer[];
  buffered: number;
}

const PATH = '/tinykvpb.TinyKv/BatchCommands';

/**
 * The client side of one store's BatchCommands stream: concurrent requests share the
 * stream and answers are matched by id; failures surface as a unary call's would.
 */
export class BatchChannel {
  private stream: OpenStream | undefined;
  private queued: Queued[] = [];
  private flushQueued = false;
  private nextId = 1;
  private closed = false;
  private readonly maxReceiveBytes: number;
  private readonly maxSendBytes: number;
  private readonly matchByArrival: boolean;

  constructor(private readonly channel: UnaryChannel, o: BatchChannelOptions = {}) {
    this.maxReceiveBytes = o.maxReceiveBytes ?? 4 * 1024 * 1024;
    this.maxSendBytes = o.maxSendBytes ?? 4 * 1024 * 1024;
    this.matchByArrival = o.deliberateBug === 'matchByArrival';
  }

  /**
   * Sends one request (the `kind` field of a kvrpcpb.BatchRequest) and resolves with the
   * store's answer of the same kind. Rejects with TransportError or StatusError.
   */
  invoke(kind: BatchKind, request: object, timeoutMs?: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`channel to ${this.channel.addr} is closed`));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const w: Waiting = { id, kind, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) w.timer = setTimeout(() => this.expire(w, timeoutMs), timeoutMs);
      this.queued.push({ w, request: { id, [kind]: request }, bytes: approxBytes(request) });
      this.scheduleFlush();
    });
  }

  /** Fails every request still pending and closes the stream (not the session). */
  close(): void {
    this.closed = true;
    const err = new Error(`channel to ${this.channel.addr} is closed`);
    for (const q of this.queued.splice(0)) settle(q.w, err);
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      for (const w of s.waiting.values()) settle(w, err);
      s.waiting.clear();
      s.h2.close(http2.constants.NGHTTP2_CANCEL);
    }
  }

  private expire(w: Waiting, timeoutMs: number): void {
    w.timer = undefined;
    const i = this.queued.findIndex((q) => q.w === w);
    if (i >= 0) this.queued.splice(i, 1);
    else this.stream?.waiting.delete(w.id);
    w.reject(new StatusError(GrpcStatus.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
  }

  private scheduleFlush(): void {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: without the flag every invoke schedules its own flush; the first sends all and the rest find the queue empty (the flag only saves callbacks)
    if (this.flushQueued) return;
    // Stryker disable next-line BooleanLiteral: as above
    this.flushQueued = true;
    // Everything asked for in this turn of the event loop leaves in one message.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.queued.length === 0) return;
    let s: OpenStream;
    try {
      s = this.stream ?? this.openStream();
    } catch (err) {
      const e = new TransportError('lost', (err as Error).message);
      for (const q of this.queued.splice(0)) settle(q.w, e);
      return;
    }
    // While the stream's buffer is full (a slow or stalled store), requests wait here, where
    // running out of time takes them back unsent; 'drain' flushes again.
    while (this.queued.length > 0 && !s.backedUp) {
      const part: kvrpcpb.IBatchRequest[] = [];
      let bytes = 0;
      do {
        const q = this.queued.shift()!;
        part.push(q.request);
        bytes += q.bytes;
        s.waiting.set(q.w.id, q.w);
      } while (this.queued.length > 0 && bytes + this.queued[0]!.bytes <= this.maxSendBytes);
      const body = kvrpcpb.BatchCommandsRequest.encode({ requests: part }).finish();
      const frame = Buffer.allocUnsafe(PREFIX + body.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, PREFIX);
      if (!s.h2.write(frame)) s.backedUp = true;
    }
  }

  private openStream(): OpenStream {
    const h2 = this.channel.open().request({
      ':method': 'POST',
      ':path': PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'identity',
    });
    // Stryker disable next-line StringLiteral: details is read only after a grpc-status has set it
    const s: OpenStream = { h2, waiting: new Map(), details: '', httpStatus: 0, backedUp: false, chunks: [], buffered: 0 };
    this.stream = s;
    const readStatus = (h: http2.IncomingHttpHeaders): void => {
      const st = h['grpc-status'];
      if (st !== undefined) {
        s.status = String(st);
        s.details = percentDecode(String(h['grpc-message'] ?? ''));
      }
    };
    h2.on('response', (h) => {
      s.httpStatus = Number(h[':status']);
      readStatus(h);
      if (s.httpStatus !== 200) this.breakStream(s, new TransportError('protocol', `HTTP status ${s.httpStatus}`));
    });
    h2.on('trailers', readStatus);
    h2.on('data', (chunk: Buffer) => this.received(s, chunk));
    h2.on('drain', () => {
      s.backedUp = false;
      // Stryker disable next-line ConditionalExpression: 'true' flushes on a drain of a stream no longer current, sending on the current one what its own events or finished() would send (never-flush is caught: the drain tests; this mark hides it)
      if (this.stream === s) this.scheduleFlush();
    });
    h2.on('error', (err: NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }) => {
      s.failed ??= transportErrorOf(err);
    });
    // The store ending its side (trailers) ends the stream: ours is still open, so 'close'
    // would not come until we close it.
    h2.on('end', () => {
      this.finished(s);
      h2.close();
    });
    h2.on('close', () => this.finished(s));
    return s;
  }

  /** The stream is over: what is still waiting on it gets the reason. */
  private finished(s: OpenStream): void {
    if (this.stream === s) this.stream = undefined;
    // Requests held back while it was backed up go on a new stream.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a flush with nothing queued returns at once (never reflushing is caught by the held-back write test; this mark hides it)
    if (this.queued.length > 0) this.scheduleFlush();
    // Stryker disable next-line ConditionalExpression: going on with nothing waiting settles nothing (always returning is caught; this mark hides it)
    if (s.waiting.size === 0) return;
    const why = s.failed
      ?? (s.status !== undefined && s.status !== '0' ? new StatusError(Number(s.status), s.details) : undefined)
      ?? new TransportError('lost', `the stream ended with requests pending (stream code ${s.h2.rstCode ?? 'none'})`);
    for (const w of s.waiting.values()) settle(w, why);
    s.waiting.clear();
  }

  /** Fails the stream: its requests get `err` when it closes. */
  private breakStream(s: OpenStream, err: Error): void {
    s.failed ??= err;
    if (this.stream === s) this.stream = undefined;
    s.h2.close(http2.constants.NGHTTP2_CANCEL);
  }

  private received(s: OpenStream, chunk: Buffer): void {
    s.chunks.push(chunk);
    s.buffered += chunk.length;
    // Stryker disable next-line EqualityOperator: '>' holds back only an empty message (5 bytes, no answers) until more bytes come
    while (s.buffered >= PREFIX) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: joining when it is not needed costs copies, not answers ('false' and '>=' read a short prefix and are caught by the split-at-any-byte test; this mark hides them)
      if (s.chunks[0]!.length < PREFIX) s.chunks = [Buffer.concat(s.chunks, s.buffered)];
      const head = s.chunks[0]!;
      if (head[0] !== 0) return this.breakStream(s, new TransportError('protocol', 'the answer is compressed, which was not asked for'));
      const length = head.readUInt32BE(1);
      if (length > this.maxReceiveBytes) {
        return this.breakStream(s, new StatusError(GrpcStatus.RESOURCE_EXHAUSTED, `answer larger than ${this.maxReceiveBytes} bytes`));
      }
      // A large answer arrives in many chunks: join them once it is whole, not on each one.
      if (s.buffered < PREFIX + length) return;
      // Stryker disable next-line ConditionalExpression: 'false' joins a single chunk too, a copy of the same bytes ('true' is caught by the split tests; this mark hides it)
      const all = s.chunks.length === 1 ? head : Buffer.concat(s.chunks, s.buffered);
      const rest = all.subarray(PREFIX + length);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty leftover chunk is joined away by the short-prefix rule ('false' and '<= 0' drop the next message and are caught by the two-answers-in-one-chunk test; this mark hides them)
      s.chunks = rest.length > 0 ? [rest] : [];
      s.buffered = rest.length;
      let msg: kvrpcpb.BatchCommandsResponse;
      try {
        msg = kvrpcpb.BatchCommandsResponse.decode(all.subarray(PREFIX, PREFIX + length));
      } catch (err) {
        return this.breakStream(s, new TransportError('protocol', `undecodable answer (${(err as Error).message})`));
      }
      for (const r of msg.responses) this.answered(s, r);
    }
  }

  private answered(s: OpenStream, r: kvrpcpb.IBatchResponse): void {
    const id = this.matchByArrival ? (s.waiting.keys().next().value ?? 0) : Number(r.id ?? 0);
    const w = s.waiting.get(id);
    if (!w) return; // it ran out of time: its caller has its answer already
    s.waiting.delete(id);
    // Stryker disable next-line StringLiteral: a decoded answer always has status_message ('' when the store sent none)
    if (r.status) return settle(w, new StatusError(r.status, r.status_message ?? ''));
    const answer = (r as Record<string, unknown>)[w.kind];
    // Absent from a decoded message: null (an answer is always an object).
    if (!answer) {
      return settle(w, new TransportError('protocol', `answer to a ${w.kind} request is not one (${String((r as { cmd?: string }).cmd)})`));
    }
    clearTimeout(w.timer);
    w.resolve(answer);
  }
}

function settle(w: Waiting, err: Error): void {
  clearTimeout(w.timer);
  w.reject(err);
}

/** About what a request adds to a message: its keys and value, plus headers. */
function approxBytes(request: object): number {
  let n = 64;
  for (const v of Object.values(request)) if (v instanceof Uint8Array) n += v.length;
  return n;
}
