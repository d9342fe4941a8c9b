// Progress: the leader's view of one follower's log. The state decides how appends flow:
//   probe     — one append at a time (probeSent) until we learn where the logs match;
//               a probe is resent once per heartbeat interval (resendOnHeartbeat), or at
//               once after a rejection that moved `next` strictly back, so it never loops;
//   replicate — stream appends optimistically, bounded by the inflights window;
//   snapshot  — a snapshot at pendingSnapshot is on its way; appends wait until the
//               follower reports it installed (or the application reports it failed).
// Invariant: match < next.

import { Inflights } from './inflights.js';
import type { Index } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** What a rejected append told the leader (see maybeDecrTo). */
export type RejectOutcome = 'stale' | 'backtrack' | 'lostLog';

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: Index = 0;
  /** Index of the next entry to send. */
  next: Index;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and no answer or heartbeat response has come. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot sent; 0 otherwise. */
  pendingSnapshot: Index = 0;
  /** Heard from the follower since the last check-quorum round. */
  recentActive = false;
  /**
   * Set by each periodic heartbeat, used up by the first heartbeat answer after it: only
   * that answer may resend an unanswered probe or append. ReadIndex rounds send heartbeats
   * too, and resending on each of their answers would multiply appends with the reads.
   */
  resendOnHeartbeat = false;
  readonly inflights: Inflights;

  constructor(next: Index, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to one probe at a time; after a snapshot, from the snapshot's point on. */
  becomeProbe(): void {
    const after = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.resetState('probe');
    this.next = after + 1;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: Index): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Whether the leader should hold back appends to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
      default: {
        const never: never = this.state;
        throw new Error(`unknown progress state ${String(never)}`);
      }
    }
  }

  /** Records an append carrying entries up to `last` (or nothing, if count is 0). */
  sentEntries(last: Index, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = last + 1;
        this.inflights.add(last);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Records more entries, up to `last`, joined to the append sent last (one message still). */
  sentMoreEntries(last: Index): void {
    if (this.state !== 'replicate') return this.sentEntries(last, 1);
    this.next = last + 1;
    // The message may predate this replicate state (a probe answered meanwhile): then it
    // takes a slot of its own.
    if (this.inflights.count === 0) this.inflights.add(last);
    else this.inflights.extendLast(last);
  }

  /** The follower holds entries up to n. Returns false if that is old news. */
  maybeUpdate(n: Index): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected an append probing `rejected`; `matchHint` is where the logs
   * may agree. 'stale': old news, nothing changes and nothing should be resent.
   * 'backtrack': next moved strictly back; probe again at once. 'lostLog': the follower
   * no longer holds an index it acknowledged (its disk was wiped or rolled back, or the
   * rejection was a late duplicate); match is forgotten, which is always safe (it only
   * makes the leader more cautious), and probing restarts at the hint.
   */
  maybeDecrTo(rejected: Index, matchHint: Index, unpaced = false): RejectOutcome {
    if (this.state === 'snapshot') return 'stale'; // the snapshot's outcome decides
    if (this.state === 'replicate') {
      // Only a rejection of something above match is news; then fall back to probing.
      if (rejected <= this.match) return 'stale';
      this.next = this.match + 1;
      return 'backtrack';
    }
    // Probe state: only the rejection of the index we last probed counts.
    if (this.next - 1 !== rejected) return 'stale';
    if (unpaced) {
      // Deliberate bug (FaultInjection.unpacedProbes): never below match + 1, resend on
      // every rejection — an endless append/reject exchange with a follower that lost its log.
      this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
      this.probeSent = false;
      return 'backtrack';
    }
    let outcome: RejectOutcome = 'backtrack';
    if (rejected <= this.match) {
      this.match = 0;
      outcome = 'lostLog';
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return outcome;
  }
}
