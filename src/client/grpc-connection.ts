// StoreConnection over gRPC: one channel per store address. Region errors come back as
// the raftstore error classes (via src/api/proto-errors.ts), invalid requests as
// InvalidRequestError, and transport failures as plain errors the client retries
// elsewhere.

import * as grpc from '@grpc/grpc-js';
import type { kvrpcpb } from '../gen/proto.js';
import type { ClientSession, RequestHeader } from '../api/request.js';
import { InvalidRequestError } from '../api/errors.js';
import { regionErrorFromProto } from '../api/proto-errors.js';
import { TinyKvService } from '../rpc/services.js';
import type { StoreConnection } from './connection.js';
import { ConnectionRefusedError } from './errors.js';

type Method<Req, Res> = grpc.MethodDefinition<Req, Res>;

/**
 * A gRPC failure as the client's callers should see it: one short reason, no gRPC
 * internals. Connection refused means the request never reached the store.
 */
function transportError(storeId: number, addr: string, err: grpc.ServiceError): Error {
  const text = `${err.details || err.message}`;
  // Only the channel's own "no connection" means the request was never sent (a store's
  // answer could quote that word in its details).
  if (err.code === grpc.status.UNAVAILABLE && /^No connection established/.test(text) && /ECONNREFUSED/.test(text)) {
    return new ConnectionRefusedError(storeId, addr);
  }
  const why = err.code === grpc.status.DEADLINE_EXCEEDED ? 'no answer in time'
    : /ECONNRESET|socket hang up|Connection dropped|closed/i.test(text) ? 'connection lost'
    : /ENOTFOUND|EAI_AGAIN/.test(text) ? 'address not found'
    : err.code === grpc.status.UNAVAILABLE ? 'unavailable'
    : text.replace(/\s*\(Resolution note:[^)]*\)/, '').split('\n')[0]!;
  return new Error(`store ${storeId} (${addr}): ${why}`);
}

export class GrpcStoreConnection implements StoreConnection {
  private readonly client: grpc.Client;

  constructor(readonly storeId: number, readonly addr: string) {
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 1000,
      // A scan answer can be large (the store allows 64 MiB).
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  private call<Req, Res extends { region_error?: kvrpcpb.IRawGetResponse['region_error']; error?: string | null }>(
    m: Method<Req, Res>, req: Req,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, (err, res) => {
        if (err) return reject(transportError(this.storeId, this.addr, err));
        if (!res) return reject(new Error(`store ${this.storeId}: empty response`));
        if (res.region_error) return reject(regionErrorFromProto(res.region_error));
        if (res.error) return reject(new InvalidRequestError(res.error));
        resolve(res);
      });
    });
  }

  private ctx(h: RequestHeader): kvrpcpb.IContext {
    return {
      region_id: h.regionId,
      ...(h.epoch ? { region_epoch: { conf_ver: h.epoch.confVer, version: h.epoch.version } } : {}),
    };
  }

  async get(h: RequestHeader, key: Uint8Array): Promise<Uint8Array | undefined> {
    const r = await this.call(TinyKvService.rawGet, { context: this.ctx(h), key });
    return r.not_found ? undefined : (r.value ?? new Uint8Array());
  }

  async scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number) {
    const r = await this.call(TinyKvService.rawScan, { context: this.ctx(h), start_key: start, end_key: end, limit });
    return (r.kvs ?? []).map((p) => [p.key ?? new Uint8Array(), p.value ?? new Uint8Array()] as const);
  }

  async put(h: RequestHeader, key: Uint8Array, value: Uint8Array, s: ClientSession): Promise<void> {
    await this.call(TinyKvService.rawPut, { context: this.ctx(h), key, value, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs });
  }

  async delete(h: RequestHeader, key: Uint8Array, s: ClientSession): Promise<void> {
    await this.call(TinyKvService.rawDelete, { context: this.ctx(h), key, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs });
  }

  async deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, s: ClientSession): Promise<number | undefined> {
    const r = await this.call(TinyKvService.rawDeleteRange, {
      context: this.ctx(h), start_key: start, end_key: end, client_id: s.clientId, sequence: s.sequence, sent_at_ms: s.sentAtMs,
    });
    return r.duplicate ? undefined : Number(r.deleted ?? 0);
  }

  close(): void {
    this.client.close();
  }
}
