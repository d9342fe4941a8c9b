// The one place that decides the process exit code (and the error line on stderr)
// for whatever a command threw. Commands never pick exit codes themselves.

import { CommanderError } from 'commander';

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
const EXIT_BY_ERROR_CODE: Readonly<Record<string, number>> = {
  // The CLI itself (errors.ts).
  KEY_NOT_FOUND: ExitCode.notFound,
  USAGE: ExitCode.usage,
  NOT_BUILT: ExitCode.usage,
  // The cluster-file loader (src/config).
  CONFIG: ExitCode.usage,
  // The client (src/client/errors.ts).
  INVALID_ARGUMENT: ExitCode.usage,
  UNKNOWN_OUTCOME: ExitCode.timeout,
  CLUSTER_UNAVAILABLE: ExitCode.timeout,
  TIMEOUT: ExitCode.timeout,
  // A store (src/raftstore/errors.ts) refusing a write it may already have applied.
  SESSION_EXPIRED: ExitCode.timeout,
  // The orchestrator (src/orchestrator/errors.ts), and the store process run in the
  // foreground (src/node: PORT_IN_USE, FOREIGN_DATA_DIR, UNKNOWN_STORE).
  UNKNOWN_STORE: ExitCode.usage,
  PORT_IN_USE: ExitCode.usage,
  FOREIGN_DATA_DIR: ExitCode.usage,
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
};

/** Maps anything a command threw to an exit code and at most one line of text. */
export function exitFor(err: unknown): ExitDecision {
  if (err instanceof CommanderError) {
    // Commander has already printed its message, the help or the version. It exits 0 for
    // --help, --version and `help <command>`; its 1 (for every usage error) is our 2.
    return { code: err.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
  }
  if (err instanceof Error && (err as { code?: unknown }).code === 'SHELL_LINE_FAILED') {
    return { code: (err as unknown as { exitCode: number }).exitCode };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(EXIT_BY_ERROR_CODE, code)) {
      return { code: EXIT_BY_ERROR_CODE[code], line: oneLine(err.message) };
    }
    return { code: ExitCode.internal, line: `internal error: ${oneLine(err.message || err.name)}` };
  }
  return { code: ExitCode.internal, line: `internal error: ${oneLine(String(err))}` };
}

/** Joins the lines of a message into one. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
