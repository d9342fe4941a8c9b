// The one code → exit-status table, for every process tinykv runs: the CLI (through
// src/cli/exit-codes.ts, which adds commander's own exits) and the store process
// (src/node/main.ts, for its start failures). Here, in src/api, because both import it and
// neither may import the other. Nobody picks an exit status of their own: they throw (or
// hand over) an error with a code, and this table says what it means.

import type { ErrorCode } from './codes.js';

export const ExitStatus = {
  ok: 0,
  /** `get`: the key does not exist. */
  notFound: 1,
  /** Bad arguments, malformed config, unknown store id. */
  usage: 2,
  /** The cluster did not answer in time; a write may or may not have been applied. */
  timeout: 3,
  /** Anything unexpected (a bug, or an error no layer classified). */
  internal: 4,
  /** `chaos run`: the history is not linearizable (the store broke a promise). */
  notLinearizable: 5,
  /** `chaos run`: the checker gave up (too many concurrent unknown writes on a key). */
  inconclusive: 6,
  /** Stopped at once by a second Ctrl-C, without finishing or undoing (128 + SIGINT, as shells say). */
  interrupted: 130,
} as const;

/**
 * Stable error `code`s from every layer, and the exit status each means; a layer that adds
 * a user-facing error adds its code here (the Record type makes the map total).
 */
export const EXIT_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  // The CLI itself (src/cli/errors.ts).
  KEY_NOT_FOUND: ExitStatus.notFound,
  USAGE: ExitStatus.usage,
  INTERRUPTED: ExitStatus.interrupted,
  // The cluster-file loader (src/config).
  CONFIG: ExitStatus.usage,
  // The client (src/client/errors.ts).
  INVALID_ARGUMENT: ExitStatus.usage,
  UNKNOWN_OUTCOME: ExitStatus.timeout,
  CLUSTER_UNAVAILABLE: ExitStatus.timeout,
  CONNECTION_REFUSED: ExitStatus.timeout,
  // Region errors (src/api/errors.ts). The client retries the transient ones until its
  // timeout; the others mean a request this client cannot fix.
  NOT_LEADER: ExitStatus.timeout,
  REGION_NOT_FOUND: ExitStatus.timeout,
  STALE_COMMAND: ExitStatus.timeout,
  SERVER_IS_BUSY: ExitStatus.timeout,
  STORE_STOPPED: ExitStatus.timeout,
  // A store refusing a write it may already have applied.
  SESSION_EXPIRED: ExitStatus.timeout,
  STORE_NOT_MATCH: ExitStatus.internal,
  EPOCH_NOT_MATCH: ExitStatus.internal,
  KEY_NOT_IN_REGION: ExitStatus.internal,
  CHANGE_PEER_REFUSED: ExitStatus.usage,
  INVALID_REQUEST: ExitStatus.usage,
  // The store process's start failures (src/node), also met by the CLI in the foreground.
  PORT_IN_USE: ExitStatus.usage,
  DATA_DIR_UNUSABLE: ExitStatus.usage,
  FOREIGN_DATA_DIR: ExitStatus.usage,
  LOST_STATE: ExitStatus.usage,
  // The orchestrator (src/orchestrator/errors.ts).
  UNKNOWN_STORE: ExitStatus.usage,
  STORE_START_FAILED: ExitStatus.usage,
  STORE_NOT_RUNNING: ExitStatus.usage,
  STORE_BUSY: ExitStatus.usage,
  CLUSTER_NOT_READY: ExitStatus.timeout,
  NO_LEADER: ExitStatus.timeout,
  FAULT_NOT_APPLIED: ExitStatus.timeout,
  TRANSFER_NOT_DONE: ExitStatus.timeout,
  MEMBERSHIP_REFUSED: ExitStatus.usage,
  MEMBERSHIP_NOT_DONE: ExitStatus.timeout,
  CLUSTER_UNHEALTHY: ExitStatus.timeout,
  CLUSTER_BUSY: ExitStatus.timeout,
  // chaos run (src/cli/chaos-run.ts).
  NOT_LINEARIZABLE: ExitStatus.notLinearizable,
  CHECK_INCONCLUSIVE: ExitStatus.inconclusive,
};

/**
 * The exit status for an error's `code`: the table's, or `internal` for anything without
 * one of ours (a bug, or a library's own code such as ENOENT).
 */
export function exitStatusOf(err: unknown): number {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && Object.hasOwn(EXIT_STATUS_BY_CODE, code)
    ? EXIT_STATUS_BY_CODE[code as ErrorCode]
    : ExitStatus.internal;
}
