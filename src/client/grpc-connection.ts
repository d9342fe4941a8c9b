// StoreConnection over gRPC (unary calls over node:http2, see grpc-unary.ts, or one
// BatchCommands stream, see grpc-batch.ts): one channel per store address. Region errors
// come back as the same error classes the store threw, invalid requests as
// InvalidRequestError (both through src/api/wire-errors.ts), and transport failures as
// plain errors the client retries elsewhere.

import type { kvrpcpb } from '../gen/proto.js';
import type { ClientSession, RequestHeader } from '../api/request.js';
import { errorFromAnswer, GrpcStatus } from '../api/wire-errors.js';
import { TinyKvService } from '../rpc/services.js';
import type { CallOptions, StoreConnection } from './connection.js';
import { ConnectionRefusedError } from './errors.js';
import { BatchChannel, type BatchKind } from './grpc-batch.js';
import { StatusError, TransportError, UnaryChannel, type UnaryMethod } from './grpc-unary.js';

/**
 * A failed call as the client's callers should see it: one short reason, no transport
 * internals. Connection refused means the request never reached the store.
 */
function callError(storeId: number, addr: string, err: unknown, timeoutMs?: number): Error {
  if (err instanceof TransportError) {
    if (err.failure === 'refused') return new ConnectionRefusedError(storeId, addr);
    const why = err.failure === 'not-found' ? 'address not found'
      : err.failure === 'lost' ? 'connection lost'
      : `does not answer as a tinykv store (${err.detail})`;
    return new Error(`store ${storeId} (${addr}): ${why}`);
  }
  if (err instanceof StatusError) {
    const why = err.status === GrpcStatus.DEADLINE_EXCEEDED ? (timeoutMs !== undefined ? `no answer within ${timeoutMs} ms` : 'no answer in time')
      : err.status === GrpcStatus.UNAVAILABLE ? 'unavailable'
      : (err.details.split('\n')[0] || `gRPC status ${err.status}`);
    return new Error(`store ${storeId} (${addr}): ${why}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

const UNARY = {
  raw_get: TinyKvService.rawGet,
  raw_put: TinyKvService.rawPut,
  raw_delete: TinyKvService.rawDelete,
  raw_delete_range: TinyKvService.rawDeleteRange,
  raw_scan: TinyKvService.rawScan,
} as const satisfies Record<BatchKind, UnaryMethod<never, unknown>>;
type Kind = keyof typeof UNARY;
type RequestOf<K extends Kind> = Parameters<(typeof UNARY)[K]['requestSerialize']>[0];
type AnswerOf<K extends Kind> = ReturnType<(typeof UNARY)[K]['responseDeserialize']>;

/** Options of a GrpcStoreConnection. */
export interface GrpcStoreConnectionOptions {
  /**
   * Send requests over one BatchCommands stream (grpc-batch.ts) instead of a unary call
   * each: for a client with many requests in flight.
   */
  readonly batch?: boolean;
}

/** A StoreConnection over gRPC to one store address: unary calls, or one BatchCommands stream. */
export class GrpcStoreConnection implements StoreConnection {
  private readonly channel: UnaryChannel;
  private readonly batch: BatchChannel | undefined;

  constructor(readonly storeId: number, readonly addr: string, o: GrpcStoreConnectionOptions = {}) {
    // A scan answer can be large (the store allows 64 MiB).
    this.channel = new UnaryChannel(addr, { maxReceiveBytes: 64 * 1024 * 1024 });
    this.batch = o.batch ? new BatchChannel(this.channel, { maxReceiveBytes: 64 * 1024 * 1024 }) : undefined;
  }

  private async call<K extends Kind>(kind: K, req: RequestOf<K>, o: CallOptions | undefined): Promise<AnswerOf<K>> {
    let res: AnswerOf<K>;
    try {
      res = this.batch
        ? await this.batch.invoke(kind, req, o?.timeoutMs) as AnswerOf<K>
        : await this.channel.invoke(UNARY[kind] as unknown as UnaryMethod<RequestOf<K>, AnswerOf<K>>, req, o?.timeoutMs);
    } catch (err) {
      throw callError(this.storeId, this.addr, err, o?.timeoutMs);
    }
    const refused = errorFromAnswer(res);
    if (refused) throw refused;
    return res;
  }

  private ctx(h: RequestHeader): kvrpcpb.IContext {
    return {
      region_id: h.regionId,
      ...(h.epoch ? { region_epoch: { conf_ver: h.epoch.confVer, version: h.epoch.version } } : {}),
    };
  }

  async get(h: RequestHeader, key: Uint8Array, o?: CallOptions): Promise<Uint8Array | undefined> {
    const r = await this.call('raw_get', { context: this.ctx(h), key }, o);
    return r.not_found ? undefined : (r.value ?? new Uint8Array());
  }

  async scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number, o?: CallOptions) {
    const r = await this.call('raw_scan', { context: this.ctx(h), start_key: start, end_key: end, limit }, o);
    return (r.kvs ?? []).map((p) => [p.key ?? new Uint8Array(), p.value ?? new Uint8Array()] as const);
  }

  async put(h: RequestHeader, key: Uint8Array, value: Uint8Array, s: ClientSession, o?: CallOptions): Promise<void> {
    await this.call('raw_put', { context: this.ctx(h), key, value, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs }, o);
  }

  async delete(h: RequestHeader, key: Uint8Array, s: ClientSession, o?: CallOptions): Promise<void> {
    await this.call('raw_delete', { context: this.ctx(h), key, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs }, o);
  }

  async deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, s: ClientSession, o?: CallOptions): Promise<number | undefined> {
    const r = await this.call('raw_delete_range', {
      context: this.ctx(h), start_key: start, end_key: end, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs,
    }, o);
    return r.duplicate ? undefined : Number(r.deleted ?? 0);
  }

  close(): void {
    this.batch?.close();
    this.channel.close();
  }
}
