// The one mapping between region errors and errorpb.Error, in both
// directions: the server encodes what a store threw, the client turns it back into the
// same error classes so retry logic is identical in and out of process.

import { errorpb } from '../gen/proto.js';
import {
  EpochNotMatchError, KeyNotInRegionError, NotLeaderError, RegionError, RegionNotFoundError,
  ServerIsBusyError, SessionExpiredError, StaleCommandError, StoreNotMatchError, StoreStoppedError,
} from './errors.js';
import type { PeerId, StoreId } from './ids.js';

export function regionErrorToProto(e: RegionError): errorpb.IError {
  const message = e.message;
  if (e instanceof NotLeaderError) {
    return { message, not_leader: { region_id: e.regionId, ...(e.leader ? { leader: { id: e.leader.id, store_id: e.leader.storeId } } : {}) } };
  }
  if (e instanceof RegionNotFoundError) return { message, region_not_found: { region_id: e.regionId } };
  if (e instanceof KeyNotInRegionError) return { message, key_not_in_region: { key: e.key, region_id: e.regionId } };
  if (e instanceof EpochNotMatchError) return { message, epoch_not_match: {} };
  if (e instanceof StaleCommandError) return { message, stale_command: {} };
  if (e instanceof SessionExpiredError) return { message, session_expired: { client_id: e.clientId, sequence: e.sequence } };
  if (e instanceof ServerIsBusyError) return { message, server_is_busy: { reason: e.reason } };
  if (e instanceof StoreStoppedError) return { message, server_is_busy: { reason: 'store is stopping' } };
  if (e instanceof StoreNotMatchError) {
    return { message, store_not_match: { request_store_id: e.requestStoreId, actual_store_id: e.actualStoreId } };
  }
  return { message, server_is_busy: { reason: message } };
}

export function regionErrorFromProto(p: errorpb.IError): RegionError {
  if (p.not_leader) {
    const l = p.not_leader.leader;
    const leader = l && Number(l.id) > 0 ? { id: Number(l.id) as PeerId, storeId: Number(l.store_id) as StoreId } : undefined;
    return new NotLeaderError(Number(p.not_leader.region_id ?? 0), leader);
  }
  if (p.region_not_found) return new RegionNotFoundError(Number(p.region_not_found.region_id ?? 0));
  if (p.key_not_in_region) return new KeyNotInRegionError(Number(p.key_not_in_region.region_id ?? 0), p.key_not_in_region.key ?? new Uint8Array());
  if (p.epoch_not_match) return new EpochNotMatchError(0, { confVer: 0, version: 0 });
  if (p.stale_command) return new StaleCommandError(p.message ?? 'stale command');
  if (p.session_expired) return new SessionExpiredError(Number(p.session_expired.client_id ?? 0), Number(p.session_expired.sequence ?? 0));
  if (p.store_not_match) {
    return new StoreNotMatchError(Number(p.store_not_match.request_store_id ?? 0), Number(p.store_not_match.actual_store_id ?? 0));
  }
  return new ServerIsBusyError(p.server_is_busy?.reason ?? p.message ?? 'unknown region error');
}
