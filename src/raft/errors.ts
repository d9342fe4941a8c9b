// Errors the Raft core raises to its caller. Each has a stable `code`.

/**
 * Base of the errors the core raises to its caller; `code` is stable, the message is for
 * people.
 */
export class RaftError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'RaftError';
  }
}

/** The proposal was not accepted: this node is not the leader (or is transferring). */
export class ProposalDroppedError extends RaftError {
  constructor(readonly leader: number) {
    super('PROPOSAL_DROPPED', `proposal dropped: not the leader (leader hint ${leader})`);
  }
}

/** The requested log position was compacted away. */
export class CompactedError extends RaftError {
  constructor(index: number) {
    super('COMPACTED', `log index ${index} is compacted`);
  }
}

/** The requested log position is beyond the end of the log. */
export class UnavailableError extends RaftError {
  constructor(index: number) {
    super('UNAVAILABLE', `log index ${index} is unavailable`);
  }
}

/** A broken invariant: the caller or the storage handed Raft something impossible. */
export class RaftInvariantError extends RaftError {
  constructor(message: string) {
    super('INVARIANT', message);
  }
}

/**
 * Storage.snapshot() cannot answer yet (one is being generated). The leader leaves the
 * follower in probe state and asks again on its next attempt.
 */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('SNAPSHOT_TEMPORARILY_UNAVAILABLE', 'snapshot is temporarily unavailable');
  }
}
