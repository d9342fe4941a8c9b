// The one place that decides the process exit code (and the error line on stderr)
// for whatever a command threw. Commands never pick exit codes themselves.

import type { ErrorCode } from '../api/codes.js';
import { CommanderError } from 'commander';
import { ExitAsError } from './errors.js';

export const ExitCode = {
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
} as const;

export interface ExitDecision {
  readonly code: number;
  /** One line for stderr, without the trailing newline; absent if already printed. */
  readonly line?: string;
}

/**
 * Stable error `code`s from every layer the CLI calls, and the exit code each means;
 * a layer that adds a user-facing error adds its code here.
 */
const EXIT_BY_ERROR_CODE: Readonly<Record<ErrorCode, number>> = {
  // The CLI itself (errors.ts).
  KEY_NOT_FOUND: ExitCode.notFound,
  USAGE: ExitCode.usage,
  // The cluster-file loader (src/config).
  CONFIG: ExitCode.usage,
  // The client (src/client/errors.ts).
  INVALID_ARGUMENT: ExitCode.usage,
  UNKNOWN_OUTCOME: ExitCode.timeout,
  CLUSTER_UNAVAILABLE: ExitCode.timeout,
  CONNECTION_REFUSED: ExitCode.timeout,
  CHANGE_NOT_YET: ExitCode.timeout,
  // Region errors (src/api/errors.ts). The client retries the transient ones until its
  // timeout; the others mean a request this client cannot fix.
  NOT_LEADER: ExitCode.timeout,
  REGION_NOT_FOUND: ExitCode.timeout,
  STALE_COMMAND: ExitCode.timeout,
  SERVER_IS_BUSY: ExitCode.timeout,
  STORE_STOPPED: ExitCode.timeout,
  // A store refusing a write it may already have applied.
  SESSION_EXPIRED: ExitCode.timeout,
  STORE_NOT_MATCH: ExitCode.internal,
  EPOCH_NOT_MATCH: ExitCode.internal,
  KEY_NOT_IN_REGION: ExitCode.internal,
  CHANGE_PEER_REFUSED: ExitCode.usage,
  INVALID_REQUEST: ExitCode.usage,
  // The store process run in the foreground (src/node).
  PORT_IN_USE: ExitCode.usage,
  FOREIGN_DATA_DIR: ExitCode.usage,
  LOST_STATE: ExitCode.usage,
  // The orchestrator (src/orchestrator/errors.ts).
  UNKNOWN_STORE: ExitCode.usage,
  STORE_START_FAILED: ExitCode.usage,
  STORE_NOT_RUNNING: ExitCode.usage,
  STORE_BUSY: ExitCode.usage,
  CLUSTER_NOT_READY: ExitCode.timeout,
  NO_LEADER: ExitCode.timeout,
  FAULT_NOT_APPLIED: ExitCode.timeout,
  TRANSFER_NOT_DONE: ExitCode.timeout,
  MEMBERSHIP_REFUSED: ExitCode.usage,
  MEMBERSHIP_NOT_DONE: ExitCode.timeout,
  CLUSTER_UNHEALTHY: ExitCode.timeout,
  CLUSTER_BUSY: ExitCode.timeout,
  // chaos run (src/cli/chaos-run.ts).
  NOT_LINEARIZABLE: ExitCode.notLinearizable,
  CHECK_INCONCLUSIVE: ExitCode.inconclusive,
};

/** Maps anything a command threw to an exit code and at most one line of text. */
export function exitFor(err: unknown): ExitDecision {
  if (err instanceof CommanderError) {
    // Commander has already printed its message, the help or the version. It exits 0 for
    // --help, --version and `help <command>`; its 1 (for every usage error) is our 2.
    return { code: err.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
  }
  if (err instanceof ExitAsError) return { code: err.exitCode };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(EXIT_BY_ERROR_CODE, code)) {
      return { code: EXIT_BY_ERROR_CODE[code as ErrorCode], line: oneLine(err.message) };
    }
    return { code: ExitCode.internal, line: `internal error: ${oneLine(err.message || err.name)}` };
  }
  return { code: ExitCode.internal, line: `internal error: ${oneLine(String(err))}` };
}

/** Joins the lines of a message into one. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
