// Errors the orchestrator raises to the CLI. Each has a stable upper-case `code`, which
// src/cli/exit-codes.ts maps to an exit code, and a one-line message naming the store.

import type { ErrorCode } from '../api/codes.js';
import { PortInUseError, type PortField } from '../api/port-in-use.js';

export class OrchestratorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OrchestratorError';
  }
}

/** A store id that is not in the cluster file. */
export class UnknownStoreError extends OrchestratorError {
  constructor(
    readonly storeId: number,
    file: string,
    known: readonly number[],
  ) {
    super('UNKNOWN_STORE', `store ${storeId} is not in ${file} (stores: ${known.join(', ')})`);
  }
}

/**
 * Something other than this store holds the store's port (`detail` says how; "is held by
 * another process" by default); nothing was started. The one PortInUseError (src/api), with
 * the orchestrator's message.
 */
export function portInUse(storeId: number, addr: string, detail = 'is held by another process', field: PortField = 'addr'): PortInUseError {
  const hint = detail.startsWith('is held') ? `; free it or change stores[].${field}` : '';
  return new PortInUseError(`store ${storeId}: port ${addr} ${detail}${hint}`, { addr, field, storeId });
}

/** A store process exited while starting; `lastLine` is its last word on stderr or in its log. */
export class StoreStartError extends OrchestratorError {
  constructor(
    readonly storeId: number,
    readonly exit: string,
    readonly lastLine: string | undefined,
    readonly logFile: string,
  ) {
    super(
      'STORE_START_FAILED',
      `store ${storeId} exited while starting (${exit})` +
        (lastLine ? `: ${lastLine}` : `; see ${logFile}`),
    );
  }
}

/** The stores did not become ready (every store answering, a leader elected) in time. */
export class ClusterNotReadyError extends OrchestratorError {
  constructor(message: string) {
    super('CLUSTER_NOT_READY', message);
  }
}

/** A process fault aimed at a store whose process is not running (or not ours). */
export class StoreNotRunningError extends OrchestratorError {
  constructor(
    readonly storeId: number,
    detail = 'is not running',
  ) {
    super('STORE_NOT_RUNNING', `store ${storeId} ${detail}`);
  }
}

/** `--store leader` while no store reports itself leader. */
export class NoLeaderError extends OrchestratorError {
  constructor(message: string) {
    super('NO_LEADER', message);
  }
}

/** A running store's data directory was asked to be deleted, or a store would not stop. */
export class StoreBusyError extends OrchestratorError {
  constructor(message: string) {
    super('STORE_BUSY', message);
  }
}

/** A leader transfer did not complete before the deadline. */
export class TransferNotDoneError extends OrchestratorError {
  constructor(message: string) {
    super('TRANSFER_NOT_DONE', message);
  }
}

/** A network fault reached none of the stores it was meant for. */
export class FaultNotAppliedError extends OrchestratorError {
  constructor(message: string) {
    super('FAULT_NOT_APPLIED', message);
  }
}

/** A membership change the command refuses (would lose quorum, store already a member...); nothing changed. */
export class MembershipRefusedError extends OrchestratorError {
  constructor(message: string) {
    super('MEMBERSHIP_REFUSED', message);
  }
}

/** A membership change did not finish before the deadline (the message says how far it got). */
export class MembershipNotDoneError extends OrchestratorError {
  constructor(message: string) {
    super('MEMBERSHIP_NOT_DONE', message);
  }
}
