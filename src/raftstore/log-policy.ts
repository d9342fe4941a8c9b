// What a leader proposes on its own to keep the region small: log compaction (CompactLog)
// and the expiry of idle client sessions (ExpireSessions). Both are decided once per
// election timeout of ticks, and only by the leader; every replica then applies the same
// command, so all of them truncate and forget at the same log index.

import { encodeCompactLogCommand, encodeExpireSessionsCommand } from './command.js';
import type { PeerCore } from './peer-core.js';

/**
 * How many election timeouts compaction waits for a peer that was sent a snapshot to
 * install it and answer; after that it is treated as down (the log may be compacted past it).
 */
const CATCH_UP_TICKS = 30;
/**
 * How long a generated snapshot holds back compaction until it is sent (the leader sends it
 * at its next try to reach the peer, within a heartbeat or two); after that it is stale.
 */
const SNAPSHOT_FRESH_MS = 5_000;

export class LogPolicy {
  private ticks = 0;
  private ticksSinceCheck = 0;
  /**
   * Peers this leader sent a snapshot to, with its index and the tick it went out: until
   * the peer has that index (or CATCH_UP_TICKS pass), compaction does not go past it, so
   * that once installed it can continue from the log instead of needing another snapshot.
   */
  private readonly catchingUp = new Map<number, { index: number; sinceTick: number }>();
  /** The last CompactLog this leader proposed, so it does not propose another before it applies. */
  private compactPending: { at: number; term: number } | undefined;
  /** When this peer, as leader, last proposed ExpireSessions (wall clock). */
  private lastExpiryProposalMs = -Infinity;

  constructor(private readonly peer: PeerCore) {}

  /** Counts a tick; once per election timeout, proposes what is due. */
  onTick(): void {
    this.ticks++;
    if (++this.ticksSinceCheck < this.peer.o.electionTick) return;
    this.ticksSinceCheck = 0;
    this.maybeProposeCompaction();
    this.maybeExpireSessions();
  }

  /** A snapshot at `index` went out to peer `to`: hold compaction for it (see catchingUp). */
  snapshotSent(to: number, index: number): void {
    this.catchingUp.set(to, { index, sinceTick: this.ticks });
  }

  /** Sending it failed: stop holding, unless a newer snapshot went to the peer meanwhile. */
  snapshotFailed(to: number, index: number): void {
    if (this.catchingUp.get(to)?.index === index) this.catchingUp.delete(to);
  }

  /**
   * The leader truncates the log once more than compactLogThreshold applied entries, or
   * more than compactLogMaxBytes of payload, sit above the truncated index. It keeps what
   * every peer still needs when that is cheap (all peers within one threshold of the
   * applied index); otherwise it truncates at its applied index, and a peer that is down
   * or far behind catches up by snapshot instead of holding everyone's log.
   */
  private maybeProposeCompaction(): void {
    const { node, o } = this.peer;
    const st = node.status();
    if (st.role !== 'leader') return;
    const { truncatedIndex, appliedIndex } = o.storage.applyState;
    const threshold = o.compactLogThreshold;
    const overBytes = o.storage.logBytes > o.compactLogMaxBytes;
    if (appliedIndex - truncatedIndex <= threshold && !overBytes) return;
    if (this.compactPending && this.compactPending.term === st.term && this.compactPending.at > appliedIndex) return;
    const { slowest, hold } = this.whatPeersNeed(appliedIndex);
    // Past a peer that is down or far behind (it will need a snapshot anyway), but never
    // past one catching up by snapshot, unless the log outgrew its byte cap.
    const point = overBytes ? appliedIndex : Math.min(hold, appliedIndex - slowest <= threshold ? slowest : appliedIndex);
    // Not worth a log entry for a small gain.
    if (point - truncatedIndex <= threshold / 2 && !overBytes) return;
    if (point <= truncatedIndex) return;
    this.proposeCompaction(point, { entries: point - truncatedIndex, slowest });
  }

  /**
   * The slowest match among peers replicating from the log, and how far a peer catching up
   * by snapshot (or a snapshot being generated) holds the log back.
   */
  private whatPeersNeed(appliedIndex: number): { slowest: number; hold: number } {
    const { node, o } = this.peer;
    const threshold = o.compactLogThreshold;
    let slowest = appliedIndex;
    let hold = appliedIndex;
    for (const p of this.peer.region.peers) {
      if (p.id === this.peer.meta.id) continue;
      const match = node.progress(p.id)?.match ?? 0;
      const c = this.catchingUp.get(p.id);
      // Caught up once within a threshold of our applied index; given up on after a deadline.
      if (c && ((match >= c.index && appliedIndex - match <= threshold) || this.ticks - c.sinceTick > CATCH_UP_TICKS * o.electionTick)) {
        this.catchingUp.delete(p.id);
      } else if (c && !o.bugs.compactPastSnapshotTarget) {
        // Installing (or about to install) a snapshot at c.index, or replaying the log
        // after it: keep what it still needs.
        hold = Math.min(hold, Math.max(c.index, match));
        continue;
      }
      slowest = Math.min(slowest, match);
    }
    // Nor past a snapshot being generated (or just generated, not yet sent) for a peer.
    const generating = o.storage.snapshotHold(SNAPSHOT_FRESH_MS);
    if (generating !== undefined && !o.bugs.compactPastSnapshotTarget) hold = Math.min(hold, generating);
    return { slowest, hold };
  }

  private proposeCompaction(point: number, why: { entries: number; slowest: number }): void {
    const { node, o, region } = this.peer;
    try {
      const term = o.storage.term(point);
      o.observer.proposed('compact_log');
      const at = node.propose(encodeCompactLogCommand({ regionId: region.id, index: point, term }, region.epoch));
      this.compactPending = { at: at.index, term: at.term };
      o.logger.info('proposed log compaction', { index: point, ...why, logBytes: o.storage.logBytes });
    } catch (e) {
      o.logger.warn('could not propose log compaction', { error: (e as Error).message });
    }
  }

  /**
   * The leader proposes ExpireSessions at most every quarter TTL, and only when some
   * session has been idle longer than the TTL; every replica applies the same cut.
   */
  private maybeExpireSessions(): void {
    const { node, o, region } = this.peer;
    if (node.status().role !== 'leader') return;
    const now = o.wallClock();
    const ttl = o.sessionTtlMs;
    // (A clock that stepped back counts as time passed, or expiry would stop until it caught up.)
    if (now >= this.lastExpiryProposalMs && now - this.lastExpiryProposalMs < ttl / 4) return;
    const idleBeforeMs = Math.max(0, Math.floor(now - ttl));
    if (o.sessions.oldestUseMs() >= idleBeforeMs) return;
    try {
      o.observer.proposed('expire_sessions');
      node.propose(encodeExpireSessionsCommand(region.id, { idleBeforeMs, rejectBeforeMs: idleBeforeMs + o.maxClockSkewMs }, region.epoch));
      this.lastExpiryProposalMs = now;
    } catch (e) {
      o.logger.warn('could not propose session expiry', { error: (e as Error).message });
    }
  }
}
