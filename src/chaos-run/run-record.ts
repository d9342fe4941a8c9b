// What one `tinykv chaos run` leaves behind, as plain data: every operation the clients
// issued, every fault the nemesis injected, the run's parameters and the checker's verdict.
// The run folder holds these as files (history.jsonl, faults.jsonl, run.json, verdict.json)
// and the HTML report draws them (report-html.ts). Times are milliseconds since the run
// started (a monotonic clock), so a report reads the same whatever the machine's clock did.

export type OpKind = 'put' | 'get' | 'delete' | 'scan';

/**
 * ok: the client got a definite answer. fail: the client knows the operation did not take
 * effect (a read that got no answer changes nothing; a write that reached no store). unknown:
 * a write the client gave up on; it may have been applied, now or later, or never.
 */
export type OpOutcome = 'ok' | 'fail' | 'unknown';

export interface OpRecord {
  /** Unique in the run, in invocation order (the checker's operation id). */
  readonly id: number;
  /** 1..clients; the final reads after the recovery phase use client 0. */
  readonly client: number;
  readonly kind: OpKind;
  /** put, get, delete: the key. */
  readonly key?: string;
  /** put: the value written (unique in the run). */
  readonly value?: string;
  /** scan: [start, end). */
  readonly start?: string;
  readonly end?: string;
  readonly invokeMs: number;
  /** When the answer (or the give-up) came; null only for an operation still running at the end. */
  readonly completeMs: number | null;
  readonly outcome: OpOutcome;
  /** get with outcome ok: the value read, null for not found. */
  readonly read?: string | null;
  /** scan with outcome ok: the pairs it saw. */
  readonly pairs?: ReadonlyArray<readonly [string, string]>;
  /** fail or unknown: the client's error code (e.g. UNKNOWN_OUTCOME, CLUSTER_UNAVAILABLE). */
  readonly error?: string;
}

export type FaultKind = 'kill' | 'pause' | 'partition' | 'isolate' | 'drop' | 'transfer';

export interface FaultRecord {
  readonly id: number;
  readonly kind: FaultKind;
  /** Human-readable, e.g. "kill store 2 (leader)", "partition 1 | 2,3", "drop 30%". */
  readonly description: string;
  /** The stores it hit. */
  readonly stores: readonly number[];
  readonly startMs: number;
  /** When it was undone (restart, resume, heal); null if the run ended before. */
  readonly endMs: number | null;
  /** Set when injecting or undoing it did not fully work (a store did not answer...). */
  readonly note?: string;
}

export interface RunParameters {
  readonly seed: number;
  /** ISO wall-clock time the run started (for people; the run itself uses startMs = 0). */
  readonly startedAt: string;
  readonly clusterFile: string;
  readonly stores: readonly number[];
  readonly clients: number;
  readonly keys: number;
  /** Where the run's keys live in the cluster; the history names them without it. */
  readonly keyPrefix: string;
  readonly readRatio: number;
  /** Operations per second over all clients; null: as fast as they go. */
  readonly rate: number | null;
  readonly durationMs: number;
  readonly faults: readonly FaultKind[];
  /** Mean time between one fault's end and the next one's start. */
  readonly intervalMs: number;
  /** The heal + recovery phase after the faults. */
  readonly recoveryMs: number;
}

export type VerdictStatus = 'linearizable' | 'violation' | 'inconclusive';

export interface Verdict {
  readonly status: VerdictStatus;
  /** One line for people. */
  readonly summary: string;
  /** The checker's explanation (violation, inconclusive). */
  readonly explanation?: string;
  /** violation: the key, and the ids of the operations of the smallest failing window. */
  readonly key?: string;
  readonly windowOpIds?: readonly number[];
  readonly checkerMs: number;
  readonly ops: number;
  readonly counts: Readonly<Record<OpKind, Readonly<Record<OpOutcome, number>>>>;
  /** How long the whole run took, faults and recovery included. */
  readonly runMs: number;
}

/** Everything the HTML report draws. */
export interface RunRecord {
  readonly params: RunParameters;
  readonly ops: readonly OpRecord[];
  readonly faults: readonly FaultRecord[];
  readonly verdict: Verdict;
}
