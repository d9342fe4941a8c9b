// StoreConnection over gRPC (unary calls over node:http2, see grpc-unary.ts): one channel
// per store address. Region errors come back as the raftstore error classes (via
// src/api/proto-errors.ts), invalid requests as InvalidRequestError, and transport
// failures as plain errors the client retries elsewhere.

import type { kvrpcpb } from '../gen/proto.js';
import type { ClientSession, RequestHeader } from '../api/request.js';
import { InvalidRequestError } from '../api/errors.js';
import { regionErrorFromProto } from '../api/proto-errors.js';
import { TinyKvService } from '../rpc/services.js';
import type { CallOptions, StoreConnection } from './connection.js';
import { ConnectionRefusedError } from './errors.js';
import { GRPC_STATUS, StatusError, TransportError, UnaryChannel, type UnaryMethod } from './grpc-unary.js';

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
    const why = err.status === GRPC_STATUS.DEADLINE_EXCEEDED ? (timeoutMs !== undefined ? `no answer within ${timeoutMs} ms` : 'no answer in time')
      : err.status === GRPC_STATUS.UNAVAILABLE ? 'unavailable'
      : (err.details.split('\n')[0] || `gRPC status ${err.status}`);
    return new Error(`store ${storeId} (${addr}): ${why}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

export class GrpcStoreConnection implements StoreConnection {
  private readonly channel: UnaryChannel;

  constructor(readonly storeId: number, readonly addr: string) {
    // A scan answer can be large (the store allows 64 MiB).
    this.channel = new UnaryChannel(addr, { maxReceiveBytes: 64 * 1024 * 1024 });
  }

  private async call<Req, Res extends { region_error?: kvrpcpb.IRawGetResponse['region_error']; error?: string | null }>(
    m: UnaryMethod<Req, Res>, req: Req, o: CallOptions | undefined,
  ): Promise<Res> {
    let res: Res;
    try {
      res = await this.channel.invoke(m, req, o?.timeoutMs);
    } catch (err) {
      throw callError(this.storeId, this.addr, err, o?.timeoutMs);
    }
    if (res.region_error) throw regionErrorFromProto(res.region_error);
    if (res.error) throw new InvalidRequestError(res.error);
    return res;
  }

  private ctx(h: RequestHeader): kvrpcpb.IContext {
    return {
      region_id: h.regionId,
      ...(h.epoch ? { region_epoch: { conf_ver: h.epoch.confVer, version: h.epoch.version } } : {}),
    };
  }

  async get(h: RequestHeader, key: Uint8Array, o?: CallOptions): Promise<Uint8Array | undefined> {
    const r = await this.call(TinyKvService.rawGet, { context: this.ctx(h), key }, o);
    return r.not_found ? undefined : (r.value ?? new Uint8Array());
  }

  async scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number, o?: CallOptions) {
    const r = await this.call(TinyKvService.rawScan, { context: this.ctx(h), start_key: start, end_key: end, limit }, o);
    return (r.kvs ?? []).map((p) => [p.key ?? new Uint8Array(), p.value ?? new Uint8Array()] as const);
  }

  async put(h: RequestHeader, key: Uint8Array, value: Uint8Array, s: ClientSession, o?: CallOptions): Promise<void> {
    await this.call(TinyKvService.rawPut, { context: this.ctx(h), key, value, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs }, o);
  }

  async delete(h: RequestHeader, key: Uint8Array, s: ClientSession, o?: CallOptions): Promise<void> {
    await this.call(TinyKvService.rawDelete, { context: this.ctx(h), key, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs }, o);
  }

  async deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, s: ClientSession, o?: CallOptions): Promise<number | undefined> {
    const r = await this.call(TinyKvService.rawDeleteRange, {
      context: this.ctx(h), start_key: start, end_key: end, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs,
    }, o);
    return r.duplicate ? undefined : Number(r.deleted ?? 0);
  }

  close(): void {
    this.channel.close();
  }
}
