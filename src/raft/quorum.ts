// Majority arithmetic over a set of voters: the committed index (the highest index
// acknowledged by a quorum) and election outcomes. Kept apart so it can be tested alone
// and so a deliberate fault (minority quorum) has one place to live.

import type { Index, NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export class MajorityConfig {
  readonly voters: readonly NodeId[];

  constructor(voters: Iterable<NodeId>, private readonly minority = false) {
    this.voters = [...new Set(voters)].sort((a, b) => a - b);
  }

  /** How many voters form a quorum (a deliberately broken config says 2, or 1 alone). */
  quorum(): number {
    if (this.minority) return Math.min(this.voters.length, 2);
    return Math.floor(this.voters.length / 2) + 1;
  }

  /** The largest index that at least a quorum of voters have acknowledged. */
  committedIndex(acked: (id: NodeId) => Index | undefined): Index {
    const n = this.voters.length;
    if (n === 0) return Number.MAX_SAFE_INTEGER; // no voters: nothing constrains commit
    const idx = this.voters.map((id) => acked(id) ?? 0).sort((a, b) => b - a);
    return idx[this.quorum() - 1]!;
  }

  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    if (this.voters.length === 0) return 'won';
    let granted = 0;
    let missing = 0;
    for (const id of this.voters) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const q = this.quorum();
    if (granted >= q) return 'won';
    if (granted + missing >= q) return 'pending';
    return 'lost';
  }
}
