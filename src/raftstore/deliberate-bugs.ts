// Deliberate bugs a test can switch on, to prove that the scenario checks (the
// linearizability checker above all) catch a store that breaks its promises. The in-process
// harness sets them directly; a store process takes them from the environment variable
// TINYKV_DELIBERATE_BUGS (names, comma-separated), for end-to-end tests of `tinykv chaos
// run`, and says so loudly in its log. Never set it on a cluster whose data matters.

/**
 * Tests only: switches that make a store break one of its promises, to show the checks
 * catch it.
 */
export interface DeliberateBugs {
  /** Acknowledge a write as soon as the leader has proposed it, before any quorum has it. */
  readonly ackBeforeCommit?: boolean;
  /** Send a Ready's messages (votes, acknowledgements) before its entries and hard state are durable. */
  readonly sendBeforePersist?: boolean;
  /** Log and ignore any error from stepping a raft message (the old behaviour), even a broken invariant. */
  readonly swallowStepErrors?: boolean;
  /** At start, forget the client sessions kvdb holds (the exactly-once table) instead of loading them. */
  readonly skipSessionReloadAtRestart?: boolean;
  /** After installing a snapshot, keep the old client sessions instead of the snapshot's. */
  readonly skipSessionReloadAfterSnapshot?: boolean;
  /**
   * Install a snapshot without the Applying intent: data first, the apply state last, so a
   * crash in between leaves the old apply state over part of the new data.
   */
  readonly installWithoutIntent?: boolean;
  /**
   * Write the new apply state in its own kvdb batch ahead of the applied data, so a power
   * cut between the two leaves an applied index over data that never arrived.
   */
  readonly applyStateInSeparateBatch?: boolean;
  /**
   * Compact the log past a peer that was just sent a snapshot (as if it were down), so that
   * a follower whose install takes longer than the log's growth by a threshold never
   * catches up by log: it chases one snapshot after another. Also compacts past a
   * snapshot being generated, so a slow generation is stale when done, again and again.
   */
  readonly compactPastSnapshotTarget?: boolean;
  /** Apply a write whose session expired even if it was first sent before the refusal mark (it may be a retry). */
  readonly applyExpiredSessionWrites?: boolean;
  /** Let any message recreate a removed region's peer, whatever its tombstone says. */
  readonly ignoreTombstones?: boolean;
  /** A store that rejoined after losing its data recreates any peer a leader addresses, also one it had before. */
  readonly recreateOldPeers?: boolean;
  /** A range delete removes only what kvdb held before the batch, not keys written earlier in the same apply batch. */
  readonly rangeDeleteIgnoresBatch?: boolean;
  /** Serve a read as soon as its ReadIndex is confirmed, without waiting until applied ≥ that index. */
  readonly readBeforeApplied?: boolean;
  /** Lease reads: keep the lease after asking another voter to take over (whose election ignores leases). */
  readonly leaseSurvivesTransfer?: boolean;
  /** Lease reads: a lease a hundred election timeouts long, outlasting the voters' refusal to elect another leader. */
  readonly leaseTooLong?: boolean;
}

/** No deliberate bug (the default). */
export const NO_BUGS: DeliberateBugs = {};

/** Every bug's name (a total map, so a new bug cannot be forgotten here). */
const NAMES: Record<keyof DeliberateBugs, true> = {
  ackBeforeCommit: true, sendBeforePersist: true, swallowStepErrors: true, skipSessionReloadAtRestart: true,
  skipSessionReloadAfterSnapshot: true, installWithoutIntent: true, applyStateInSeparateBatch: true,
  compactPastSnapshotTarget: true, applyExpiredSessionWrites: true, ignoreTombstones: true, recreateOldPeers: true,
  rangeDeleteIgnoresBatch: true, readBeforeApplied: true, leaseSurvivesTransfer: true, leaseTooLong: true,
};

/** Parses `a,b` into bugs; throws a RangeError naming an unknown one. */
export function parseDeliberateBugs(list: string): DeliberateBugs {
  const bugs: Record<string, boolean> = {};
  for (const name of list.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    if (!Object.hasOwn(NAMES, name)) throw new RangeError(`unknown deliberate bug ${JSON.stringify(name)} (known: ${Object.keys(NAMES).join(', ')})`);
    bugs[name] = true;
  }
  return bugs as DeliberateBugs;
}
