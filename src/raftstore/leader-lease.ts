// LeaderLease: lets a leader answer reads from its own state, without a heartbeat round,
// while a quorum has recently confirmed it (lease reads, Raft thesis §6.4.1). Only with
// `raft.read_mode: lease`; the default is a ReadIndex round per batch of reads.
//
// Why it holds. A ReadIndex round that a quorum answers started at time s on this leader;
// each voter of that quorum heard from the leader after s, and then ignores vote requests
// until electionTick of its ticks have passed (CheckQuorum's lease in src/raft; a voter
// that restarts ignores them for as long after it starts: leaseAfterStart). Ticks are at
// least tickMs apart less a millisecond (Node rounds timer times to whole milliseconds), but
// the first may come right after the message, so every voter of that quorum refuses votes
// until at least s + (electionTick − 1) × (tickMs − 1), and a new leader needs one of them.
// The lease ends sooner than that by LEASE_SHARE:
//   clock assumption: no store's clock runs more than 25% faster than this leader's.
// Time is measured on the monotonic clock (performance.now: a stalled event loop makes the
// lease look shorter, never longer) and on the wall clock (Date.now), and the lease holds
// only while both say it does: the monotonic clock stops while the machine is suspended
// (or, on some hypervisors, while a VM is paused), the wall clock does not; a wall-clock
// step forward only ends a lease early.
// Every store must run with the same read_mode and Raft timing: change them only with the
// whole cluster down (a voter restarted without leaseAfterStart, or with a shorter election
// timeout, could help elect a leader while the old one still holds its lease).
//
// The lease is void in any other term; for the rest of a term in which this leader asked
// another voter to take over (that election ignores leases, and a MsgTimeoutNow may arrive
// late); and after a membership change is applied, until a round of the new configuration
// confirms it again (the quorum that confirmed it may not be one of the new voters).

export const LEASE_SHARE = 0.8;

/** How long a confirmed round keeps the lease, for the given Raft timing. */
export function leaseDurationMs(electionTick: number, tickMs: number): number {
  return Math.max(0, (electionTick - 1) * Math.max(0, tickMs - 1) * LEASE_SHARE);
}

interface Round {
  readonly startedAt: number;
  readonly startedAtWall: number;
  readonly term: number;
}

export class LeaderLease {
  private term = 0;
  private expiresAt = -Infinity;
  private expiresAtWall = -Infinity;
  /** The term in which this leader asked a voter to take over: no lease in it any more. */
  private handedOverInTerm = -1;
  private readonly rounds = new Map<string, Round>();

  constructor(
    readonly durationMs: number,
    /** Monotonic milliseconds. */
    private readonly now: () => number,
    /** Wall-clock milliseconds. */
    private readonly wallNow: () => number = Date.now,
  ) {}

  /** A ReadIndex round with this context is about to go out, in `term`. */
  roundStarted(context: string, term: number): void {
    if (term === this.handedOverInTerm) return;
    this.rounds.set(context, { startedAt: this.now(), startedAtWall: this.wallNow(), term });
  }

  /** The round's ReadState arrived: a quorum heard from this leader after it started. */
  roundConfirmed(context: string): void {
    const r = this.rounds.get(context);
    if (!r) return;
    this.rounds.delete(context);
    // Stryker disable next-line ConditionalExpression: a second guard, never reached; no round of the handed-over term is ever recorded (handOver clears the rounds, roundStarted refuses that term). Hides the killed "true" variant too
    if (r.term === this.handedOverInTerm) return;
    const until = r.startedAt + this.durationMs;
    const untilWall = r.startedAtWall + this.durationMs;
    if (r.term !== this.term) {
      this.term = r.term;
      this.expiresAt = until;
      this.expiresAtWall = untilWall;
    } else {
      this.expiresAt = Math.max(this.expiresAt, until);
      this.expiresAtWall = Math.max(this.expiresAtWall, untilWall);
    }
  }

  /** Whether reads in `term` may be answered from this leader's state now. */
  holds(term: number): boolean {
    return (
      term === this.term &&
      // Stryker disable next-line ConditionalExpression: a second guard; handOver voids the expiry times and no round of that term can confirm again, so term === this.term fails or the times are past
      term !== this.handedOverInTerm &&
      this.now() < this.expiresAt &&
      this.wallNow() < this.expiresAtWall
    );
  }

  /** Held, but with less than half its length left: time for a round that renews it. */
  wantsRenewal(term: number): boolean {
    return !this.holds(term) || this.expiresAt - this.now() < this.durationMs / 2;
  }

  /**
   * Whether a round is still awaited (one older than the lease's length no longer counts:
   * Raft may drop a ReadIndex request without an answer).
   */
  roundPending(): boolean {
    const oldest = this.now() - this.durationMs;
    for (const [ctx, r] of this.rounds) if (r.startedAt < oldest) this.rounds.delete(ctx);
    return this.rounds.size > 0;
  }

  /** Leadership changed or the configuration did: nothing confirmed so far counts. */
  revoke(): void {
    this.expiresAt = -Infinity;
    this.expiresAtWall = -Infinity;
    this.rounds.clear();
  }

  /** This leader asked another voter to take over in `term`: no lease for the rest of it. */
  handOver(term: number): void {
    this.handedOverInTerm = term;
    this.revoke();
  }
}
