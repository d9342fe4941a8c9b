// The state every part of a peer shares: its options, its Raft node, who it is, whether it
// has stopped, and how to ask for another pass of the Ready loop. Peer (peer.ts) owns one
// and hands it to its parts — the log policy, the reads, the messages and the Ready loop —
// so that each of them sees the same peer without reaching into the others.

import type { CrashPoint } from './crash-points.js';
import type { PeerMeta } from './envelope.js';
import type { PeerOptions } from './peer-options.js';
import type { RegionMeta } from './region.js';
import { RawNode, seededRng } from '../raft/index.js';

export class PeerCore {
  /** This peer as the region lists it (it changes when a learner is promoted). */
  meta: PeerMeta;
  /** Set once: after it nothing is stepped, sent, written or answered by this peer. */
  stopped = false;
  /**
   * Set when this peer applied (or was told of) its own removal; it is destroyed once it
   * no longer leads and no Ready is in flight.
   */
  pendingRemoval: RegionMeta | undefined;
  readonly node: RawNode;

  constructor(readonly o: PeerOptions, readonly schedule: () => void) {
    this.meta = o.peer;
    this.node = new RawNode({
      id: o.peer.id,
      storage: o.storage,
      applied: o.storage.applyState.appliedIndex,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      preVote: true,
      checkQuorum: true,
      leaseAfterStart: o.lease !== undefined,
      rng: seededRng(o.seed),
      logger: o.logger,
    });
  }

  get region(): RegionMeta {
    return this.o.storage.region;
  }

  get isLeader(): boolean {
    return this.node.status().role === 'leader';
  }

  /** The leader as the region lists it (undefined: none known, or not a member yet). */
  leaderMeta(): PeerMeta | undefined {
    const lead = this.node.status().lead;
    return this.region.peers.find((p) => p.id === lead);
  }

  /** Passes a crash point: true if the test's hook killed the store there. */
  crashed(point: CrashPoint): boolean {
    this.o.crashHook?.(point);
    return this.stopped;
  }
}
