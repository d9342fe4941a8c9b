// Configuration of one Raft node. Time is counted in ticks; randomness comes from the
// seeded RNG given here. `validateConfig` rejects impossible settings up front.

import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { Rng } from '../util/rng.js';
import { seededRng } from '../util/rng.js';
import type { Index, NodeId } from './types.js';
import type { Storage } from './storage.js';

/**
 * Deliberate safety bugs, used only by the simulation's self-test to prove it can catch
 * real mistakes. Never set outside tests.
 */
export interface FaultInjection {
  /** Treat any minority (a single vote or acknowledgement besides our own) as a quorum. */
  readonly minorityQuorum?: boolean;
  /** Grant votes without the §5.4.1 "candidate's log is at least as up to date" check. */
  readonly skipLogUpToDateCheck?: boolean;
  /** Commit entries of earlier terms by counting replicas (the Figure 8 mistake). */
  readonly commitPreviousTermByCount?: boolean;
  /**
   * A follower restores a snapshot even when its log already holds the snapshot's
   * (index, term), throwing away entries after it that it may have acknowledged.
   */
  readonly restoreOverMatchingLog?: boolean;
  /**
   * The old probe loop: never probe below match + 1 and resend on every rejection, so a
   * follower that lost its log and the leader exchange appends and rejections endlessly.
   */
  readonly unpacedProbes?: boolean;
  /**
   * Answer an append acknowledgement that tells nothing new by sending again: with a
   * follower that acknowledges every append, the two exchange messages for ever.
   */
  readonly resendOnStaleAck?: boolean;
  /** Resend an unanswered append on every heartbeat answer (ReadIndex rounds included), not once per heartbeat interval. */
  readonly unpacedHeartbeatResends?: boolean;
  /** Take a new conf change while another is still pending (proposed, not applied). */
  readonly concurrentConfChanges?: boolean;
  /** Count learners' acknowledgements toward the commit quorum, as if they were voters. */
  readonly learnersCountInQuorum?: boolean;
  /** A leader transfer's election is held off by CheckQuorum's lease like any other. */
  readonly transferHeldOffByLease?: boolean;
  /**
   * A leader that applies its own removal steps down at once instead of handing over: a
   * voter that missed the commit may then wait for ever for a vote the old leader refuses.
   */
  readonly removedLeaderStepsDownAtOnce?: boolean;
  /**
   * Campaign while a committed conf change is not yet applied here, counting votes by a
   * configuration the group has already left: two changes behind, that configuration's
   * majority may share no voter with the newest one's, and two leaders of one term follow.
   */
  readonly campaignWithUnappliedConfChange?: boolean;
  /**
   * Join two appends of one Ready to one follower even when the second does not continue
   * the first (after a rejection the leader backs up): the entries then sit at the wrong
   * indexes of the joined message.
   */
  readonly mergeAppendsBlindly?: boolean;
}

/**
 * Configuration of one Raft node (RawNode's constructor); resolveConfig fills in defaults
 * and rejects impossible settings.
 */
export interface Config {
  readonly id: NodeId;
  /** Ticks without hearing a leader before campaigning; randomized in [e, 2e). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats; must be < electionTick. */
  readonly heartbeatTick: number;
  readonly storage: Storage;
  /** Entries already applied by the application (e.g. after a restart). */
  readonly applied?: Index;
  /** Upper bound on the payload bytes in one append message (at least one entry is sent). */
  readonly maxSizePerMsg?: number;
  /** Most append messages in flight to one follower in the replicate state. */
  readonly maxInflightMsgs?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /**
   * With checkQuorum: for the first election timeout after this node starts, ignore vote
   * requests (a transfer's excepted) as if a leader had just been heard. Leader leases need
   * it (the raftstore's lease reads): a voter that acknowledged a leader, restarted and so
   * forgot it, must not help elect another leader while the first may still hold a lease.
   */
  readonly leaseAfterStart?: boolean;
  readonly rng?: Rng;
  readonly logger?: Logger;
  /** Tests only: deliberate bugs to run with. The type is named only by ./testing/index.ts. */
  readonly faults?: FaultInjection;
}

export interface ResolvedConfig extends Required<Omit<Config, 'faults'>> {
  readonly faults: FaultInjection;
}

export function resolveConfig(c: Config): ResolvedConfig {
  const resolved: ResolvedConfig = {
    applied: 0,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
    preVote: true,
    checkQuorum: true,
    leaseAfterStart: false,
    logger: silentLogger,
    faults: {},
    ...c,
    rng: c.rng ?? seededRng(c.id),
  };
  validateConfig(resolved);
  return resolved;
}

function validateConfig(c: ResolvedConfig): void {
  if (!Number.isSafeInteger(c.id) || c.id <= 0) throw new RangeError(`raft config: invalid id ${c.id}`);
  if (!Number.isSafeInteger(c.heartbeatTick) || c.heartbeatTick <= 0) {
    throw new RangeError(`raft config: heartbeatTick must be a positive integer, got ${c.heartbeatTick}`);
  }
  if (!Number.isSafeInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new RangeError(`raft config: electionTick (${c.electionTick}) must exceed heartbeatTick (${c.heartbeatTick})`);
  }
  if (!Number.isSafeInteger(c.maxInflightMsgs) || c.maxInflightMsgs <= 0) {
    throw new RangeError(`raft config: maxInflightMsgs must be positive, got ${c.maxInflightMsgs}`);
  }
  if (!(c.maxSizePerMsg > 0)) throw new RangeError(`raft config: maxSizePerMsg must be positive`);
}
