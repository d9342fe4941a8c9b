// Every stable error code the CLI can meet, from every layer: the CLI and the store process
// map each to an exit status in a total map (src/api/exit-status.ts), and the wire bridge
// (src/api/wire-errors.ts) says for each how it crosses the wire, if it does; so a new code
// without both does not compile. Error classes declare their code with this type.
//
// A list, not only a union, so that tests can walk every code at run time.

export const ERROR_CODES = [
  // The CLI itself.
  'KEY_NOT_FOUND', 'USAGE', 'INTERRUPTED',
  // The cluster file.
  'CONFIG',
  // The client.
  'INVALID_ARGUMENT', 'UNKNOWN_OUTCOME', 'CLUSTER_UNAVAILABLE', 'CONNECTION_REFUSED',
  // Region errors a store answers with (most are retried by the client).
  'NOT_LEADER', 'REGION_NOT_FOUND', 'STORE_NOT_MATCH', 'EPOCH_NOT_MATCH', 'KEY_NOT_IN_REGION',
  'STALE_COMMAND', 'SERVER_IS_BUSY', 'STORE_STOPPED', 'SESSION_EXPIRED', 'CHANGE_PEER_REFUSED', 'INVALID_REQUEST',
  // A store process run in the foreground.
  'PORT_IN_USE', 'DATA_DIR_UNUSABLE', 'FOREIGN_DATA_DIR', 'LOST_STATE',
  // The orchestrator.
  'UNKNOWN_STORE', 'STORE_START_FAILED', 'STORE_NOT_RUNNING', 'STORE_BUSY', 'CLUSTER_NOT_READY', 'NO_LEADER',
  'FAULT_NOT_APPLIED', 'TRANSFER_NOT_DONE', 'MEMBERSHIP_REFUSED', 'MEMBERSHIP_NOT_DONE', 'CLUSTER_UNHEALTHY',
  'CLUSTER_BUSY',
  // `tinykv chaos run`'s verdict.
  'NOT_LINEARIZABLE', 'CHECK_INCONCLUSIVE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `code` is one of ours (an error from a library may carry a `code` of its own). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}
