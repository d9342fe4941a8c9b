// Errors the client raises to its callers. The CLI maps them to exit codes in one place.

import type { ErrorCode } from '../api/codes.js';

/** The cluster did not answer in time; a write may or may not have taken effect. */
export class UnknownOutcomeError extends Error {
  readonly code: ErrorCode = 'UNKNOWN_OUTCOME';
  constructor(op: string, readonly tried: readonly number[], readonly lastError: string) {
    super(`${op}: the cluster did not confirm in time, so the write may or may not have been applied (tried stores ${tried.join(', ') || 'none'}; last error: ${lastError})`);
  }
}

/** The cluster did not answer in time and nothing was changed (reads, or writes never proposed). */
export class ClusterUnavailableError extends Error {
  readonly code: ErrorCode = 'CLUSTER_UNAVAILABLE';
  constructor(op: string, readonly tried: readonly number[], readonly lastError: string, message?: string) {
    super(message ?? `${op}: no store answered in time (tried stores ${tried.join(', ') || 'none'}; last error: ${lastError})`);
  }
}

/** A store refused the connection: nothing was sent to it. */
export class ConnectionRefusedError extends Error {
  readonly code: ErrorCode = 'CONNECTION_REFUSED';
  constructor(readonly storeId: number, readonly addr: string) {
    super(`store ${storeId} (${addr}): connection refused`);
  }
}

/** The request itself is invalid (empty key, oversize value…); retrying cannot help. */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  readonly code: ErrorCode = 'INVALID_ARGUMENT';
}
