// Deliberate bugs a test can switch on, to prove that the scenario checks (the
// linearizability checker above all) catch a store that breaks its promises. Only the
// in-process harness sets them; the store process has no way to.

export interface DeliberateBugs {
  /** Acknowledge a write as soon as the leader has proposed it, before any quorum has it. */
  readonly ackBeforeCommit?: boolean;
}

export const NO_BUGS: DeliberateBugs = {};
