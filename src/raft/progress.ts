// Progress: the leader's view of one follower's log. The state decides how appends flow:
//   probe     — one append at a time until we learn where the logs match;
//   replicate — stream appends optimistically, bounded by the inflights window;
//   snapshot  — waiting for a snapshot to be installed (reserved for later).
// Invariant: match < next.

import { Inflights } from './inflights.js';
import type { Index } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: Index = 0;
  /** Index of the next entry to send. */
  next: Index;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and no answer or heartbeat response has come. */
  probeSent = false;
  /** Heard from the follower since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: Index, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    this.resetState('probe');
    this.next = this.match + 1;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
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
   * may agree. Returns false if the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: Index, matchHint: Index): boolean {
    if (this.state === 'replicate') {
      // Only a rejection of something above match is news; then fall back to probing.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe state: only the rejection of the index we last probed counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }
}
