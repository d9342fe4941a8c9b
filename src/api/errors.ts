// Region errors: why a store refused or could not finish a request. Each carries a
// stable `code` and what a client needs to act (the leader hint, the current epoch).
// wire-errors.ts maps them to and from errorpb.Error, in exactly one place.

import type { ErrorCode } from './codes.js';
import type { RegionId, StoreId } from './ids.js';
import type { PeerMeta, RegionEpoch, RegionMeta } from './meta.js';

export abstract class RegionError extends Error {
  abstract readonly code: ErrorCode;
}

export class NotLeaderError extends RegionError {
  readonly code: ErrorCode = 'NOT_LEADER';
  constructor(readonly regionId: RegionId, readonly leader: PeerMeta | undefined) {
    super(`region ${regionId}: not the leader${leader ? ` (leader is peer ${leader.id} on store ${leader.storeId})` : ' (leader unknown)'}`);
  }
}

export class RegionNotFoundError extends RegionError {
  readonly code: ErrorCode = 'REGION_NOT_FOUND';
  constructor(readonly regionId: RegionId) {
    super(`region ${regionId} not found on this store`);
  }
}

export class StoreNotMatchError extends RegionError {
  readonly code: ErrorCode = 'STORE_NOT_MATCH';
  constructor(readonly requestStoreId: StoreId, readonly actualStoreId: StoreId) {
    super(`request for store ${requestStoreId} reached store ${actualStoreId}`);
  }
}

export class EpochNotMatchError extends RegionError {
  readonly code: ErrorCode = 'EPOCH_NOT_MATCH';
  /**
   * `regions`: the regions the store has now where the request's region was (its range,
   * epoch and peers; after a split, more than one), so a client can refresh its cache
   * without asking again. Empty when the refusing side does not know them.
   */
  constructor(readonly regionId: RegionId, readonly current: RegionEpoch, readonly regions: readonly RegionMeta[] = []) {
    super(`region ${regionId}: epoch does not match (current conf_ver ${current.confVer}, version ${current.version})`);
  }
}

export class KeyNotInRegionError extends RegionError {
  readonly code: ErrorCode = 'KEY_NOT_IN_REGION';
  /** `startKey`/`endKey`: the region's range (end empty: unbounded). */
  constructor(readonly regionId: RegionId, readonly key: Uint8Array, readonly startKey: Uint8Array = new Uint8Array(), readonly endKey: Uint8Array = new Uint8Array()) {
    super(`key is not in region ${regionId}`);
  }
}

/** The command's log position was taken by another term's entry, or leadership moved. */
export class StaleCommandError extends RegionError {
  readonly code: ErrorCode = 'STALE_COMMAND';
  constructor(readonly detail: string) {
    super(`stale command: ${detail}; its outcome is unknown, retry`);
  }
}

export class ServerIsBusyError extends RegionError {
  readonly code: ErrorCode = 'SERVER_IS_BUSY';
  constructor(readonly reason: string) {
    super(`server is busy: ${reason}`);
  }
}

/** The store is stopping; pending work is abandoned and its outcome is unknown. */
export class StoreStoppedError extends RegionError {
  readonly code: ErrorCode = 'STORE_STOPPED';
  constructor(readonly storeId: StoreId) {
    super(`store ${storeId} is stopping`);
  }
}

/**
 * The store has forgotten the write's client session (idle too long) and the write was
 * first sent before the forgotten sessions were last used, so it may be a retry of a write
 * already applied. Not applied now; never retried by the client.
 */
export class SessionExpiredError extends RegionError {
  readonly code: ErrorCode = 'SESSION_EXPIRED';
  constructor(readonly clientId: number, readonly sequence: number) {
    super(`client session ${clientId} expired before write ${sequence} arrived: refused, so it cannot apply twice ` +
      `(an earlier attempt of it may have been applied; read the key to find out)`);
  }
}

/** A membership change that does not apply to the region's current peers (refused alike everywhere). */
export class ChangePeerRefusedError extends RegionError {
  readonly code: ErrorCode = 'CHANGE_PEER_REFUSED';
  /** `retryable`: refused for now only (another change is not applied yet); asking again later may succeed. */
  constructor(readonly regionId: RegionId, readonly reason: string, readonly retryable = false) {
    super(`region ${regionId}: membership change refused: ${reason}`);
  }
}

/** Request validation: a client mistake, never retried. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  readonly code: ErrorCode = 'INVALID_REQUEST';
}
