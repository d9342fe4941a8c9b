// Peer: one Raft member of a region on this store. It takes the inputs — raft messages,
// ticks, proposals, reads, leader transfers — checks them, steps them into Raft and asks
// for a pass of the Ready loop; its parts do the rest:
//   peer-core.ts      the state they share (options, Raft node, stopped, removal)
//   ready-loop.ts     persist → send → apply → answer → advance, crash points
//   apply-results.ts  what applied entries mean (membership, proposal answers)
//   peer-reads.ts     ReadIndex rounds, the leader lease, serving reads
//   log-policy.ts     what the leader proposes on its own (compaction, session expiry)
//   peer-messages.ts  addressing raft messages, accepting and sending snapshots
// The peer's life ends here too: removal (applied, or told by a newer member), a broken
// invariant, kill and stop each fail what is pending with their reason.

import { ConfChangeError, ConfChangePendingError, ProposalDroppedError } from '../raft/index.js';
import type { ChangePeerCommand, ReadOp, ReadResult, RequestHeader, WriteCommand, WriteResult } from './command.js';
import { encodeChangePeerCommand, encodeWriteCommand, opKey } from './command.js';
import type { PeerMeta, RaftEnvelope } from './envelope.js';
import {
  ChangePeerRefusedError, EpochNotMatchError, InvalidRequestError, KeyNotInRegionError, NotLeaderError, RegionError, RegionNotFoundError,
  StoreStoppedError,
} from './errors.js';
import { newPeerId } from './ids.js';
import type { PeerId, StoreId } from './ids.js';
import { LogPolicy } from './log-policy.js';
import { PeerCore } from './peer-core.js';
import { PeerMessages } from './peer-messages.js';
import type { PeerOptions } from './peer-options.js';
import { PeerReads } from './peer-reads.js';
import { ProposalQueue } from './proposal-queue.js';
import { ReadyLoop } from './ready-loop.js';
import { keyInRegion } from './region.js';
import type { RegionMeta } from './region.js';

export type { PeerOptions } from './peer-options.js';

export class Peer {
  private readonly core: PeerCore;
  private readonly proposals = new ProposalQueue<WriteResult>();
  private readonly reads: PeerReads;
  private readonly policy: LogPolicy;
  private readonly messages: PeerMessages;
  private readonly loop: ReadyLoop;

  constructor(private readonly o: PeerOptions) {
    this.core = new PeerCore(o, () => this.loop.schedule());
    this.reads = new PeerReads(this.core);
    this.policy = new LogPolicy(this.core);
    this.messages = new PeerMessages(this.core, this.policy);
    this.loop = new ReadyLoop({
      peer: this.core, reads: this.reads, messages: this.messages, proposals: this.proposals,
      destroy: (region) => this.destroyed(region),
    });
  }

  get meta(): PeerMeta {
    return this.core.meta;
  }

  get peerId(): PeerId {
    return this.core.meta.id;
  }

  get region(): RegionMeta {
    return this.core.region;
  }

  status() {
    return this.core.node.status();
  }

  /** The leader's match index for a peer (undefined: not leading, or not tracked). */
  matchOf(id: PeerId): number | undefined {
    return this.core.node.progress(id)?.match;
  }

  get truncatedIndex(): number {
    return this.o.storage.applyState.truncatedIndex;
  }

  get logBytes(): number {
    return this.o.storage.logBytes;
  }

  leaderMeta(): PeerMeta | undefined {
    return this.core.leaderMeta();
  }

  /** Rows in the client session table. */
  get sessionCount(): number {
    return this.o.sessions.rows.size;
  }

  get pendingCount(): number {
    return this.proposals.size + this.reads.pendingCount;
  }

  // ---- inputs -------------------------------------------------------------------

  onTick(): void {
    const core = this.core;
    if (core.stopped) return;
    core.node.tick();
    if (core.pendingRemoval && !core.isLeader && !this.loop.isRunning) {
      this.destroyed(core.pendingRemoval);
      return;
    }
    this.policy.onTick();
    this.loop.schedule();
  }

  onRaftMessage(env: RaftEnvelope): void {
    const core = this.core;
    if (core.stopped) return;
    if (env.toPeer.id !== core.meta.id) return;
    if (!this.messages.accept(env)) return;
    try {
      core.node.step(env.message);
    } catch (e) {
      // RawNode.step refuses malformed input (a local message type, term 0, the wrong
      // addressee) with a TypeError before touching any state: drop it. Anything else is a
      // broken invariant, possibly thrown after part of the state changed: never go on.
      if (e instanceof TypeError || this.o.bugs.swallowStepErrors) {
        this.o.logger.warn('dropping malformed raft message', { error: (e as Error).message, type: env.message.type, from: env.fromPeer.id });
        return;
      }
      this.failLoudly(e as Error, `stepping ${env.message.type} from peer ${env.fromPeer.id}`);
      return;
    }
    this.loop.schedule();
  }

  /** Proposes a write; resolves once it is applied here (after a quorum fsynced it). */
  proposeWrite(cmd: WriteCommand): Promise<WriteResult> {
    this.checkHeader(cmd.header, cmd.ops.map(opKey));
    const done = this.propose('write', () => this.core.node.propose(encodeWriteCommand(cmd, this.region.epoch, Math.max(0, Math.floor(this.o.wallClock())))));
    if (this.o.bugs.ackBeforeCommit) {
      done.catch(() => undefined);
      return Promise.resolve({});
    }
    return done;
  }

  /**
   * Proposes a membership change of the peer on `storeId`: add it as a learner or a voter
   * (a new peer id), promote its learner, or remove it. Resolves with the region once the
   * change is applied here; ChangePeerRefusedError if it cannot apply (another change
   * pending, removing this leader: transfer first, a store already a member…).
   */
  async proposeChangePeer(change: ChangePeerCommand['change'], storeId: StoreId): Promise<RegionMeta> {
    const region = this.region;
    if (!this.core.isLeader) throw new NotLeaderError(region.id, this.leaderMeta());
    const peer = changeTarget(region, change, storeId);
    const cmd = encodeChangePeerCommand({ regionId: region.id, change, peer }, region.epoch);
    const done = this.propose('conf_change', () => {
      try {
        return this.core.node.proposeConfChange({ type: change, nodeId: peer.id }, cmd);
      } catch (e) {
        if (e instanceof ConfChangeError) throw new ChangePeerRefusedError(region.id, e.message, e instanceof ConfChangePendingError);
        throw e;
      }
    }, (index) => this.o.logger.info('proposed a membership change', { change, store: storeId, peer: peer.id, index }));
    await done;
    return this.region;
  }

  /** Proposes through `propose`; resolves with the entry's result once applied here. */
  private propose(kind: 'write' | 'conf_change', propose: () => { index: number; term: number }, proposed?: (index: number) => void): Promise<WriteResult> {
    let at: { index: number; term: number };
    try {
      this.o.observer.proposed(kind);
      at = propose();
    } catch (e) {
      if (e instanceof ProposalDroppedError) throw new NotLeaderError(this.region.id, this.leaderMeta());
      throw e;
    }
    proposed?.(at.index);
    const done = new Promise<WriteResult>((resolve, reject) => {
      this.proposals.push({ index: at.index, term: at.term, resolve, reject });
    });
    this.loop.schedule();
    return done;
  }

  /** A linearizable read through ReadIndex (or the lease); only the leader serves reads. */
  read(header: RequestHeader, op: ReadOp): Promise<ReadResult> {
    this.checkHeader(header, op.kind === 'get' ? [op.key] : []);
    const st = this.core.node.status();
    if (st.role !== 'leader') throw new NotLeaderError(this.region.id, this.leaderMeta());
    const p = this.reads.add(op, st.term, st.commit);
    this.loop.schedule();
    return p;
  }

  private checkHeader(h: RequestHeader, keysToCheck: readonly Uint8Array[]): void {
    const region = this.region;
    if (h.regionId !== region.id) throw new RegionNotFoundError(h.regionId);
    if (h.epoch && (h.epoch.version !== region.epoch.version || h.epoch.confVer !== region.epoch.confVer)) {
      throw new EpochNotMatchError(region.id, region.epoch, [region]);
    }
    for (const k of keysToCheck) if (!keyInRegion(k, region)) throw new KeyNotInRegionError(region.id, k, region.startKey, region.endKey);
    if (!this.core.isLeader) throw new NotLeaderError(region.id, this.leaderMeta());
  }

  /**
   * Asks Raft to hand leadership to `to` (leader transfer). Proposals are refused (as
   * NotLeader, naming this peer) until it completes or is given up after an election timeout.
   */
  transferLeader(to: PeerMeta): void {
    if (this.core.stopped) throw new StoreStoppedError(this.meta.storeId);
    if (!this.core.isLeader) throw new NotLeaderError(this.region.id, this.leaderMeta());
    this.o.logger.info('transferring leadership', { to: to.storeId, peer: to.id });
    // Lease reads stop while it is under way (PeerReads.leaseHolds) and for the rest of the
    // term once the MsgTimeoutNow goes out (ReadyLoop.persistAndSend).
    this.core.node.transferLeader(to.id);
    this.loop.schedule();
  }

  // ---- the end of a peer --------------------------------------------------------

  /** Stops this peer for good and reports why; the store exits on it (see Store.fatal). */
  private failLoudly(err: Error, during: string): void {
    if (this.core.stopped) return;
    this.core.stopped = true;
    const e = new Error(`peer ${this.meta.id} of region ${this.region.id}: invariant broken while ${during}: ${err.message}`);
    this.o.logger.error('raft invariant broken; stopping the peer', { error: err.message, during, stack: err.stack });
    this.failPending(new StoreStoppedError(this.meta.storeId));
    this.o.onFatal(e);
  }

  /**
   * A member of a newer configuration says this peer is not in it: it was removed and
   * missed the commit. It stops and is destroyed (after any Ready in flight).
   */
  removedElsewhere(region: RegionMeta): void {
    if (this.core.stopped || this.core.pendingRemoval) return;
    this.core.pendingRemoval = region;
    if (!this.loop.isRunning) this.destroyed(region);
  }

  /** This peer applied its own removal: it stops for good and the store destroys it. */
  private destroyed(region: RegionMeta): void {
    this.core.stopped = true;
    this.o.logger.info('removed from the region; destroying this peer', { region: region.id, confVer: region.epoch.confVer });
    this.failPending(new RegionNotFoundError(region.id));
    this.o.onRemoved?.(region);
  }

  /** Dies at once (Store.kill): nothing more happens; what is pending fails. */
  kill(reason: RegionError): void {
    this.core.stopped = true;
    this.failPending(reason);
  }

  /** Stops the peer: no more inputs; waits for the loop; settles everything pending. */
  async stop(reason: RegionError): Promise<void> {
    this.core.stopped = true;
    await this.loop.idle;
    this.failPending(reason);
  }

  private failPending(reason: Error): void {
    this.proposals.failAll(reason);
    this.reads.failAll(reason);
  }

  // ---- diagnostics --------------------------------------------------------------

  /** The Ready loop's state, for stuck-cluster reports. */
  describeLoop(): string {
    return this.loop.describe();
  }

  /** As leader, its view of each other peer's replication ("store 2: probe match 7 next 8"); for diagnostics. */
  describeProgress(): string {
    const node = this.core.node;
    if (!this.core.isLeader) return 'not leading';
    return this.region.peers.filter((p) => p.id !== this.meta.id).map((p) => {
      const pr = node.progress(p.id);
      const f = node.progressFlags(p.id);
      return pr ? `store ${p.storeId}: ${pr.state} match ${pr.match} next ${pr.next}${f?.recentActive ? ' active' : ''}${f?.paused ? ' paused' : ''}` : `store ${p.storeId}: -`;
    }).join(', ');
  }
}

/**
 * The peer a membership change is about: the existing one to remove or promote, or a new
 * one to add. InvalidRequestError when the change makes no sense for the region.
 */
function changeTarget(region: RegionMeta, change: ChangePeerCommand['change'], storeId: StoreId): PeerMeta {
  const existing = region.peers.find((p) => p.storeId === storeId);
  if (change === 'removeNode') {
    if (!existing) throw new InvalidRequestError(`store ${storeId} has no peer in region ${region.id}`);
    return existing;
  }
  if (existing) {
    if (change === 'addVoter' && existing.learner) return existing;
    throw new InvalidRequestError(`store ${storeId} already has ${existing.learner ? 'a learner' : 'a voter'} (peer ${existing.id}) in region ${region.id}`);
  }
  // Never an id used before in this region: conf_ver only grows.
  return { id: newPeerId(region.epoch.confVer, storeId), storeId };
}
