// The client API of a store (tinykvpb.TinyKv): RawGet/RawPut/RawDelete/RawScan over the
// raftstore. Region errors travel in `region_error`, invalid requests in `error`; any
// other failure is a gRPC UNAVAILABLE so the client tries elsewhere (src/api/wire-errors.ts).

import type { kvrpcpb } from '../gen/proto.js';
import type { RequestHeader } from '../api/request.js';
import type { Store } from '../raftstore/index.js';
import { errorToWire, GrpcStatus } from '../api/wire-errors.js';
import type { Reply, StreamCall, TinyKvHandlers } from '../rpc/services.js';

const EMPTY = Buffer.alloc(0);

function header(ctx: kvrpcpb.IContext | null | undefined): RequestHeader {
  const e = ctx?.region_epoch;
  return {
    regionId: Number(ctx?.region_id ?? 0) || 1,
    ...(e && (Number(e.conf_ver) > 0 || Number(e.version) > 0)
      ? { epoch: { confVer: Number(e.conf_ver), version: Number(e.version) } }
      : {}),
  };
}

const buf = (b: Uint8Array | null | undefined): Buffer => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : EMPTY);

/** Counts client requests in flight, so a stopping store can let them finish. */
export class InFlight {
  count = 0;
  /** Set once the store is stopping: batch streams take no new requests and then end. */
  stopping = false;
  private waiters: Array<() => void> = [];
  private stopListeners = new Set<() => void>();
  begin(): void {
    this.count++;
  }
  end(): void {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves when nothing is in flight, or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }
  /** Tells the open batch streams the store is stopping. */
  stop(): void {
    this.stopping = true;
    for (const l of [...this.stopListeners]) l();
  }
  onStop(l: () => void): () => void {
    this.stopListeners.add(l);
    return () => this.stopListeners.delete(l);
  }
}

/** Told of each finished request: its method, how it ended, and how long it took. */
export type RequestTimer = (method: string, outcome: 'ok' | 'region_error' | 'invalid' | 'unavailable', ms: number) => void;

/** How one request ended: an answer (region and input errors travel inside it) or a failure. */
type Outcome<R> = { readonly answer: R } | { readonly unavailable: string };

type Kind = 'raw_get' | 'raw_put' | 'raw_delete' | 'raw_delete_range' | 'raw_scan';
interface Batched {
  readonly kind: Kind;
  readonly outcome: Promise<Outcome<object>>;
}
const METHOD: Record<Kind, string> = {
  raw_get: 'RawGet', raw_put: 'RawPut', raw_delete: 'RawDelete', raw_delete_range: 'RawDeleteRange', raw_scan: 'RawScan',
};

export function kvHandlers(getStore: () => Store, inflight: InFlight, onRequest: RequestTimer = () => {}): TinyKvHandlers {
  /** Runs a request body, timed and counted; region and input errors become answers. */
  async function run<R extends object>(method: string, body: () => Promise<R>): Promise<Outcome<R>> {
    inflight.begin();
    const started = performance.now();
    const done = (outcome: Parameters<RequestTimer>[1]) => onRequest(method, outcome, performance.now() - started);
    try {
      const answer = await body();
      done('ok');
      return { answer };
    } catch (e) {
      // The bridge decides what travels in the answer; the rest fails the call UNAVAILABLE.
      const w = errorToWire(e);
      if ('answer' in w) {
        done('region_error' in w.answer ? 'region_error' : 'invalid');
        return { answer: w.answer as R };
      }
      done('unavailable');
      return { unavailable: w.details };
    } finally {
      inflight.end();
    }
  }

  function answer<R extends object>(method: string, body: () => Promise<R>, cb: Reply<R>): void {
    void run(method, body).then((o) => {
      if ('answer' in o) cb(null, o.answer);
      else cb({ code: GrpcStatus.UNAVAILABLE, details: o.unavailable });
    });
  }

  const rawGet = async (r: kvrpcpb.IRawGetRequest): Promise<kvrpcpb.IRawGetResponse> => {
    const value = await getStore().get(header(r.context), buf(r.key));
    return value === undefined ? { not_found: true } : { value };
  };
  const rawPut = async (r: kvrpcpb.IRawPutRequest): Promise<kvrpcpb.IRawPutResponse> => {
    await getStore().put(header(r.context), buf(r.key), buf(r.value), session(r.client_id, r.sequence, r.sent_at_ms));
    return {};
  };
  const rawDelete = async (r: kvrpcpb.IRawDeleteRequest): Promise<kvrpcpb.IRawDeleteResponse> => {
    await getStore().delete(header(r.context), buf(r.key), session(r.client_id, r.sequence, r.sent_at_ms));
    return {};
  };
  const rawDeleteRange = async (r: kvrpcpb.IRawDeleteRangeRequest): Promise<kvrpcpb.IRawDeleteRangeResponse> => {
    const res = await getStore().deleteRange(header(r.context), buf(r.start_key), buf(r.end_key), session(r.client_id, r.sequence, r.sent_at_ms));
    return { deleted: res.deleted ?? 0, duplicate: res.duplicate === true };
  };
  const rawScan = async (r: kvrpcpb.IRawScanRequest): Promise<kvrpcpb.IRawScanResponse> => {
    const pairs = await getStore().scan(header(r.context), buf(r.start_key), buf(r.end_key), Number(r.limit ?? 0) || 0x7fffffff);
    return { kvs: pairs.map(([key, value]) => ({ key, value })) };
  };

  /** One request of a batch, run as its unary call would be; undefined if it names no command. */
  function runBatched(req: kvrpcpb.IBatchRequest): Batched | undefined {
    if (req.raw_get) return { kind: 'raw_get', outcome: run(METHOD.raw_get, () => rawGet(req.raw_get!)) };
    if (req.raw_put) return { kind: 'raw_put', outcome: run(METHOD.raw_put, () => rawPut(req.raw_put!)) };
    if (req.raw_delete) return { kind: 'raw_delete', outcome: run(METHOD.raw_delete, () => rawDelete(req.raw_delete!)) };
    if (req.raw_delete_range) return { kind: 'raw_delete_range', outcome: run(METHOD.raw_delete_range, () => rawDeleteRange(req.raw_delete_range!)) };
    if (req.raw_scan) return { kind: 'raw_scan', outcome: run(METHOD.raw_scan, () => rawScan(req.raw_scan!)) };
    return undefined;
  }

  return {
    rawGet(call, cb) {
      answer('RawGet', () => rawGet(call.request), cb);
    },
    rawPut(call, cb) {
      answer('RawPut', () => rawPut(call.request), cb);
    },
    rawDelete(call, cb) {
      answer('RawDelete', () => rawDelete(call.request), cb);
    },
    rawDeleteRange(call, cb) {
      answer('RawDeleteRange', () => rawDeleteRange(call.request), cb);
    },
    rawScan(call, cb) {
      answer('RawScan', () => rawScan(call.request), cb);
    },
    batchCommands(call) {
      serveBatchStream(call, runBatched, inflight);
    },
  };
}

/**
 * One client's BatchCommands stream: each request runs as its own unary call would, and
 * the answers that are ready together leave in one message. When the client ends its side,
 * or the store stops, the stream ends once every request taken has been answered.
 */
function serveBatchStream(
  call: StreamCall<kvrpcpb.IBatchCommandsRequest, kvrpcpb.IBatchCommandsResponse>,
  runBatched: (req: kvrpcpb.IBatchRequest) => Batched | undefined,
  inflight: InFlight,
): void {
  let pending = 0;
  let closing = false;
  let gone = false;
  let ready: Array<{ readonly r: kvrpcpb.IBatchResponse; readonly bytes: number }> = [];
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (gone) return;
    // Messages of at most ~MESSAGE_BYTES (one answer always goes): a message over what the
    // client takes would fail every request on the stream, not just the large one.
    for (let i = 0; i < ready.length;) {
      const responses: kvrpcpb.IBatchResponse[] = [];
      let bytes = 0;
      do {
        responses.push(ready[i]!.r);
        bytes += ready[i++]!.bytes;
      } while (i < ready.length && bytes + ready[i]!.bytes <= MESSAGE_BYTES);
      call.write({ responses });
    }
    ready = [];
    if (closing && pending === 0) {
      gone = true;
      unlisten();
      call.end();
    }
  };
  const queueFlush = (): void => {
    if (flushQueued) return;
    flushQueued = true;
    // Answers that complete in the same turn of the event loop (one Ready's applied
    // writes) leave together.
    setImmediate(flush);
  };
  const reply = (r: kvrpcpb.IBatchResponse): void => {
    if (gone) return;
    const bytes = answerBytes(r);
    // The one answer a unary call would refuse as too large (the client's limit).
    if (bytes > MAX_ANSWER_BYTES) {
      ready.push({ r: { id: r.id, status: GrpcStatus.RESOURCE_EXHAUSTED, status_message: `answer of ${bytes} bytes is larger than ${MAX_ANSWER_BYTES}` }, bytes: 64 });
    } else {
      ready.push({ r, bytes });
    }
    queueFlush();
  };
  const unlisten = inflight.onStop(() => {
    closing = true;
    queueFlush();
  });
  // A stream opened as the store began stopping: it ends as soon as it has answered.
  if (inflight.stopping) {
    closing = true;
    queueFlush();
  }
  call.on('data', (batch: kvrpcpb.IBatchCommandsRequest) => {
    for (const req of batch.requests ?? []) {
      const id = Number(req.id ?? 0);
      if (closing || inflight.stopping) {
        reply({ id, status: GrpcStatus.UNAVAILABLE, status_message: 'the store is stopping' });
        continue;
      }
      const running = runBatched(req);
      if (!running) {
        reply({ id, status: GrpcStatus.INVALID_ARGUMENT, status_message: 'a batch request without a command this store knows' });
        continue;
      }
      pending++;
      void running.outcome.then((o) => {
        pending--;
        reply('answer' in o ? { id, [running.kind]: o.answer } : { id, status: GrpcStatus.UNAVAILABLE, status_message: o.unavailable });
      });
    }
  });
  call.on('end', () => {
    closing = true;
    queueFlush();
  });
  const abandon = (): void => {
    gone = true;
    unlisten();
  };
  call.on('cancelled', abandon);
}

/** Answers leave in messages of about this many bytes. */
const MESSAGE_BYTES = 4 * 1024 * 1024;
/** The largest answer a client takes (its receive limit, as for a unary call). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024 - 1024;

/** About what an answer adds to a message: its keys and values, plus framing. */
function answerBytes(r: kvrpcpb.IBatchResponse): number {
  let n = 64;
  const v = r.raw_get?.value;
  if (v) n += v.length;
  for (const kv of r.raw_scan?.kvs ?? []) n += (kv.key?.length ?? 0) + (kv.value?.length ?? 0) + 8;
  return n;
}

function session(clientId: number | null | undefined, sequence: number | null | undefined, sentAtMs: number | null | undefined) {
  const id = Number(clientId ?? 0);
  return id > 0 ? { clientId: id, sequence: Number(sequence ?? 0), sentAtMs: Number(sentAtMs ?? 0) } : undefined;
}
