// The client API of a store (tinykvpb.TinyKv): RawGet/RawPut/RawDelete/RawScan over the
// raftstore. Region errors travel in `region_error`, invalid requests in `error`; any
// other failure is a gRPC UNAVAILABLE so the client tries elsewhere.

import * as grpc from '@grpc/grpc-js';
import type { kvrpcpb } from '../gen/proto.js';
import type { RequestHeader } from '../raftstore/command.js';
import { InvalidRequestError, RegionError } from '../raftstore/errors.js';
import type { Store } from '../raftstore/store.js';
import { regionErrorToProto } from '../api/proto-errors.js';
import type { TinyKvHandlers } from '../rpc/services.js';

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
  private waiters: Array<() => void> = [];
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
}

/** Told of each finished request: its method, how it ended, and how long it took. */
export type RequestTimer = (method: string, outcome: 'ok' | 'region_error' | 'invalid' | 'unavailable', ms: number) => void;

export function kvHandlers(getStore: () => Store, inflight: InFlight, onRequest: RequestTimer = () => {}): TinyKvHandlers {
  /** Runs a handler body and turns its outcome into a response or a gRPC error. */
  function answer<R extends object>(method: string, body: () => Promise<R>, cb: grpc.sendUnaryData<R>): void {
    inflight.begin();
    const started = performance.now();
    const done = (outcome: Parameters<RequestTimer>[1]) => onRequest(method, outcome, performance.now() - started);
    body().finally(() => inflight.end()).then(
      (r) => {
        done('ok');
        cb(null, r);
      },
      (e: unknown) => {
        if (e instanceof RegionError) {
          done('region_error');
          cb(null, { region_error: regionErrorToProto(e) } as R);
        } else if (e instanceof InvalidRequestError) {
          done('invalid');
          cb(null, { error: e.message } as R);
        } else {
          done('unavailable');
          cb({ code: grpc.status.UNAVAILABLE, details: (e as Error)?.message ?? String(e) });
        }
      },
    );
  }

  return {
    rawGet(call, cb) {
      const r = call.request;
      answer<kvrpcpb.IRawGetResponse>('RawGet', async () => {
        const value = await getStore().get(header(r.context), buf(r.key));
        return value === undefined ? { not_found: true } : { value };
      }, cb);
    },
    rawPut(call, cb) {
      const r = call.request;
      answer('RawPut', async () => {
        await getStore().put(header(r.context), buf(r.key), buf(r.value), session(r.client_id, r.sequence, r.sent_at_ms));
        return {};
      }, cb);
    },
    rawDelete(call, cb) {
      const r = call.request;
      answer('RawDelete', async () => {
        await getStore().delete(header(r.context), buf(r.key), session(r.client_id, r.sequence, r.sent_at_ms));
        return {};
      }, cb);
    },
    rawDeleteRange(call, cb) {
      const r = call.request;
      answer<kvrpcpb.IRawDeleteRangeResponse>('RawDeleteRange', async () => {
        const res = await getStore().deleteRange(header(r.context), buf(r.start_key), buf(r.end_key), session(r.client_id, r.sequence, r.sent_at_ms));
        return { deleted: res.deleted ?? 0, duplicate: res.duplicate === true };
      }, cb);
    },
    rawScan(call, cb) {
      const r = call.request;
      answer<kvrpcpb.IRawScanResponse>('RawScan', async () => {
        const pairs = await getStore().scan(header(r.context), buf(r.start_key), buf(r.end_key), Number(r.limit ?? 0) || 0x7fffffff);
        return { kvs: pairs.map(([key, value]) => ({ key, value })) };
      }, cb);
    },
  };
}

function session(clientId: number | null | undefined, sequence: number | null | undefined, sentAtMs: number | null | undefined) {
  const id = Number(clientId ?? 0);
  return id > 0 ? { clientId: id, sequence: Number(sequence ?? 0), sentAtMs: Number(sentAtMs ?? 0) } : undefined;
}
