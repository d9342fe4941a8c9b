// Every stable error code the CLI can meet, from every layer: the CLI maps each to an exit
// code in a total map (src/cli/exit-codes.ts), so a new code without an exit code does not
// compile. Error classes declare their code with this type.

export type ErrorCode =
  // The CLI itself.
  | 'KEY_NOT_FOUND' | 'USAGE'
  // The cluster file.
  | 'CONFIG'
  // The client.
  | 'INVALID_ARGUMENT' | 'UNKNOWN_OUTCOME' | 'CLUSTER_UNAVAILABLE' | 'CONNECTION_REFUSED' | 'CHANGE_NOT_YET'
  // Region errors a store answers with (most are retried by the client).
  | 'NOT_LEADER' | 'REGION_NOT_FOUND' | 'STORE_NOT_MATCH' | 'EPOCH_NOT_MATCH' | 'KEY_NOT_IN_REGION'
  | 'STALE_COMMAND' | 'SERVER_IS_BUSY' | 'STORE_STOPPED' | 'SESSION_EXPIRED' | 'CHANGE_PEER_REFUSED' | 'INVALID_REQUEST'
  // A store process run in the foreground.
  | 'PORT_IN_USE' | 'FOREIGN_DATA_DIR' | 'LOST_STATE'
  // The orchestrator.
  | 'UNKNOWN_STORE' | 'STORE_START_FAILED' | 'STORE_NOT_RUNNING' | 'STORE_BUSY' | 'CLUSTER_NOT_READY' | 'NO_LEADER'
  | 'FAULT_NOT_APPLIED' | 'TRANSFER_NOT_DONE' | 'MEMBERSHIP_REFUSED' | 'MEMBERSHIP_NOT_DONE' | 'CLUSTER_UNHEALTHY'
  | 'CLUSTER_BUSY'
  // `tinykv chaos run`'s verdict.
  | 'NOT_LINEARIZABLE' | 'CHECK_INCONCLUSIVE';
