// The one error bridge between a store and its callers. Every error that crosses the wire
// is mapped here, in both directions, from one table over every ErrorCode:
//
//   - region errors travel as errorpb.Error in an answer's `region_error`, each kind in its
//     own field with every field of its class, so the client rebuilds the same class with
//     the same fields (and the same message) and its retry logic is the same in and out of
//     process;
//   - an invalid request travels as the answer's `error` text;
//   - anything else is a failure of the call: a gRPC status (UNAVAILABLE for the client
//     API, so the client tries another store) with the message as its details;
//   - the other codes (the CLI's, the orchestrator's, a store process's start failures)
//     never cross the wire, and the table says so.
//
// wire-errors.test.ts round-trips every code through real protobuf bytes, walking
// ERROR_CODES, so a code added without its mapping fails there (and here: the table's
// type is total over ErrorCode).

import type { errorpb, metapb } from '../gen/proto.js';
import type { ErrorCode } from './codes.js';
import {
  ChangePeerRefusedError, EpochNotMatchError, InvalidRequestError, KeyNotInRegionError, NotLeaderError, RegionError,
  RegionNotFoundError, ServerIsBusyError, SessionExpiredError, StaleCommandError, StoreNotMatchError, StoreStoppedError,
} from './errors.js';
import type { PeerId, StoreId } from './ids.js';
import type { PeerMeta } from './meta.js';
import { regionFromProto, regionToProto } from './meta.js';

/**
 * The gRPC status codes tinykv sends or meets, by name (the values are gRPC's; see
 * @grpc/grpc-js `status`, which src/api may not import and the CLI's client does not load).
 */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** The kind fields of errorpb.Error: which one is set says which region error it is. */
export type RegionErrorField = Exclude<keyof errorpb.IError, 'message'>;

/** How one code crosses the wire (see the file comment). */
export type WireMapping =
  | {
      readonly via: 'region_error';
      readonly field: RegionErrorField;
      /** The error's own fields, for errorpb.Error (without `message`). */
      readonly encode: (e: RegionError) => errorpb.IError;
      /** The error back from an errorpb.Error whose `field` is set. */
      readonly decode: (p: errorpb.IError) => RegionError;
    }
  | { readonly via: 'error_text' }
  | { readonly via: 'never'; readonly why: string };

/** A region error kind: its class, its errorpb.Error field, and the field's contents both ways. */
function region<E extends RegionError, F extends RegionErrorField>(
  cls: abstract new (...args: never[]) => E,
  field: F,
  encode: (e: E) => NonNullable<errorpb.IError[F]>,
  decode: (v: NonNullable<errorpb.IError[F]>) => E,
): WireMapping {
  return {
    via: 'region_error',
    field,
    encode: (e) => {
      if (!(e instanceof cls)) throw new TypeError(`${e.code} is mapped for ${cls.name}, got ${e.constructor.name}`);
      return { [field]: encode(e) };
    },
    decode: (p) => decode(p[field] as NonNullable<errorpb.IError[F]>),
  };
}
const num = (v: number | null | undefined): number => Number(v ?? 0);
const bytes = (v: Uint8Array | null | undefined): Uint8Array => v ?? new Uint8Array();

function peerToProto(p: PeerMeta): metapb.IPeer {
  return { id: p.id, store_id: p.storeId, ...(p.learner ? { is_learner: true } : {}) };
}
function peerFromProto(p: metapb.IPeer | null | undefined): PeerMeta | undefined {
  // An unset leader (or peer id 0) is "leader unknown".
  if (!p || !(num(p.id) > 0)) return undefined;
  return { id: num(p.id) as PeerId, storeId: num(p.store_id) as StoreId, ...(p.is_learner ? { learner: true } : {}) };
}

const never = (why: string): WireMapping => ({ via: 'never', why });

/** Every ErrorCode, and how it crosses the wire. */
export const WIRE: { readonly [C in ErrorCode]: WireMapping } = {
  NOT_LEADER: region(NotLeaderError, 'not_leader',
    (e) => ({ region_id: e.regionId, ...(e.leader ? { leader: peerToProto(e.leader) } : {}) }),
    (v) => new NotLeaderError(num(v.region_id), peerFromProto(v.leader))),
  REGION_NOT_FOUND: region(RegionNotFoundError, 'region_not_found',
    (e) => ({ region_id: e.regionId }),
    (v) => new RegionNotFoundError(num(v.region_id))),
  STORE_NOT_MATCH: region(StoreNotMatchError, 'store_not_match',
    (e) => ({ request_store_id: e.requestStoreId, actual_store_id: e.actualStoreId }),
    (v) => new StoreNotMatchError(num(v.request_store_id) as StoreId, num(v.actual_store_id) as StoreId)),
  // The region as the store knows it now, so the client can re-stamp its requests.
  // current_regions: first the request's region as the store has it now (id and epoch
  // only), then the regions the store knows in its place, in full.
  EPOCH_NOT_MATCH: region(EpochNotMatchError, 'epoch_not_match',
    (e) => ({
      current_regions: [{ id: e.regionId, region_epoch: { conf_ver: e.current.confVer, version: e.current.version } }, ...e.regions.map(regionToProto)],
    }),
    (v) => {
      const [head, ...rest] = v.current_regions ?? [];
      return new EpochNotMatchError(num(head?.id), { confVer: num(head?.region_epoch?.conf_ver), version: num(head?.region_epoch?.version) }, rest.map(regionFromProto));
    }),
  KEY_NOT_IN_REGION: region(KeyNotInRegionError, 'key_not_in_region',
    (e) => ({ region_id: e.regionId, key: e.key, start_key: e.startKey, end_key: e.endKey }),
    (v) => new KeyNotInRegionError(num(v.region_id), bytes(v.key), bytes(v.start_key), bytes(v.end_key))),
  STALE_COMMAND: region(StaleCommandError, 'stale_command',
    (e) => ({ detail: e.detail }),
    (v) => new StaleCommandError(v.detail ?? '')),
  SERVER_IS_BUSY: region(ServerIsBusyError, 'server_is_busy',
    (e) => ({ reason: e.reason }),
    (v) => new ServerIsBusyError(v.reason ?? '')),
  // Its own kind, not SERVER_IS_BUSY: a stopping store's abandoned work has an unknown
  // outcome. (A client that predates the field reads it as SERVER_IS_BUSY, see below.)
  STORE_STOPPED: region(StoreStoppedError, 'store_stopped',
    (e) => ({ store_id: e.storeId }),
    (v) => new StoreStoppedError(num(v.store_id) as StoreId)),
  SESSION_EXPIRED: region(SessionExpiredError, 'session_expired',
    (e) => ({ client_id: e.clientId, sequence: e.sequence }),
    (v) => new SessionExpiredError(num(v.client_id), num(v.sequence))),
  CHANGE_PEER_REFUSED: region(ChangePeerRefusedError, 'change_peer_refused',
    (e) => ({ region_id: e.regionId, reason: e.reason, retryable: e.retryable }),
    (v) => new ChangePeerRefusedError(num(v.region_id), v.reason ?? '', v.retryable === true)),
  INVALID_REQUEST: { via: 'error_text' },

  KEY_NOT_FOUND: never('the CLI\'s own answer to a get (the store answers not_found)'),
  USAGE: never('the CLI\'s arguments'),
  INTERRUPTED: never('the CLI\'s own Ctrl-C'),
  CONFIG: never('the cluster file, read by each process for itself'),
  INVALID_ARGUMENT: never('raised by the client; a store\'s refusal is INVALID_REQUEST'),
  UNKNOWN_OUTCOME: never('the client\'s verdict after its attempts'),
  CLUSTER_UNAVAILABLE: never('the client\'s verdict after its attempts'),
  CONNECTION_REFUSED: never('nothing reached a store'),
  PORT_IN_USE: never('a store process that cannot start serves nothing'),
  DATA_DIR_UNUSABLE: never('a store process that cannot start serves nothing'),
  FOREIGN_DATA_DIR: never('a store process that cannot start serves nothing'),
  LOST_STATE: never('a store process that cannot start serves nothing'),
  UNKNOWN_STORE: never('the orchestrator\'s'),
  STORE_START_FAILED: never('the orchestrator\'s'),
  STORE_NOT_RUNNING: never('the orchestrator\'s'),
  STORE_BUSY: never('the orchestrator\'s'),
  CLUSTER_NOT_READY: never('the orchestrator\'s'),
  NO_LEADER: never('the orchestrator\'s'),
  FAULT_NOT_APPLIED: never('the orchestrator\'s'),
  TRANSFER_NOT_DONE: never('the orchestrator\'s'),
  MEMBERSHIP_REFUSED: never('the orchestrator\'s'),
  MEMBERSHIP_NOT_DONE: never('the orchestrator\'s'),
  CLUSTER_UNHEALTHY: never('the orchestrator\'s'),
  CLUSTER_BUSY: never('the orchestrator\'s'),
  NOT_LINEARIZABLE: never('chaos run\'s verdict'),
  CHECK_INCONCLUSIVE: never('chaos run\'s verdict'),
};

const REGION_KINDS = Object.values(WIRE).flatMap((m) => (m.via === 'region_error' ? [m] : []));

/** A region error as errorpb.Error: `message` for people, and its kind's field. */
export function regionErrorToProto(e: RegionError): errorpb.IError {
  const m = WIRE[e.code];
  if (m.via === 'region_error') return { message: e.message, ...m.encode(e) };
  // A RegionError whose code has no errorpb kind cannot be built today; were one added
  // without a mapping, the caller still gets a region error it retries elsewhere.
  return { message: e.message, server_is_busy: { reason: e.message } };
}

/**
 * errorpb.Error back into its class. One with no kind this client knows (a newer store's)
 * becomes ServerIsBusyError with the store's message: retried on another store, as a
 * refusal the client cannot read should be.
 */
export function regionErrorFromProto(p: errorpb.IError): RegionError {
  for (const m of REGION_KINDS) if (m.via === 'region_error' && p[m.field]) return m.decode(p);
  return new ServerIsBusyError(p.message || 'unknown region error');
}

/** The fields every answer that can carry an error has (see kvrpcpb: `region_error`, `error`). */
export interface ErrorAnswer {
  region_error?: errorpb.IError | null;
  error?: string | null;
}

/** How a store reports a failed request: inside the answer, or as the call's gRPC status. */
export type WireFailure =
  | { readonly answer: { readonly region_error: errorpb.IError } | { readonly error: string } }
  | { readonly status: number; readonly details: string };

/**
 * What a store sends for an error its request handler threw. `otherwise` is the status of
 * a failure no answer can carry: UNAVAILABLE (the default) tells the client to try another
 * store.
 */
export function errorToWire(e: unknown, otherwise: GrpcStatusCode = GrpcStatus.UNAVAILABLE): WireFailure {
  if (e instanceof RegionError) return { answer: { region_error: regionErrorToProto(e) } };
  if (e instanceof InvalidRequestError) return { answer: { error: e.message } };
  return failureStatus(e, otherwise);
}

/** A failure as a gRPC status (for calls whose answers carry no error fields). */
export function failureStatus(e: unknown, status: GrpcStatusCode): { readonly status: number; readonly details: string } {
  return { status, details: e instanceof Error ? e.message : String(e) };
}

/** The error an answer carries (a region error's class, or InvalidRequestError), if any. */
export function errorFromAnswer(a: ErrorAnswer): RegionError | InvalidRequestError | undefined {
  if (a.region_error) return regionErrorFromProto(a.region_error);
  if (a.error) return new InvalidRequestError(a.error);
  return undefined;
}
