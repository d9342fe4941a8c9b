// Peer: one Raft member of a region on this store. It owns the RawNode, the peer
// storage, the proposal queue and the read queue, and runs the Ready loop:
//   persist (one synced raftdb batch) → send → apply (one kvdb batch with the apply
//   state) → answer callbacks → advance;
// a leader sends its appends before the persist, so that its fsync and the followers' run
// in parallel (src/raft sendableBeforePersist says which messages may go early).
// Inputs (raft messages, ticks, proposals, reads) are stepped synchronously as they
// arrive; the loop runs one Ready at a time, so proposals that arrive while a write is
// in flight join the next Ready and share its fsync (group commit).
// A Ready's snapshot is installed before anything else in it is persisted; a MsgSnapshot
// goes out through the snapshot manager with its file, and its fate is reported back to
// the raft core.

import type { DeliberateBugs } from './deliberate-bugs.js';
import type { CrashHook, CrashPoint } from './crash-points.js';
import { SimulatedCrashError } from './crash-points.js';
import type { KvEngine } from '../engine/kv-engine.js';
import { WriteBatch } from '../engine/kv-engine.js';
import * as keys from '../engine/keys.js';
import type { Logger, Message, Ready } from '../raft/index.js';
import { ProposalDroppedError, RawNode, seededRng, sendableBeforePersist } from '../raft/index.js';
import { applyEntries, rangeKey, rangesToRead } from './apply.js';
import type { RangeReads } from './apply.js';
import type { MsgSnapshot } from '../raft/index.js';
import type { SnapshotManager } from './snapshot-manager.js';
import { decodeDescriptor } from './snapshot-data.js';
import type { ReadOp, ReadResult, RequestHeader, WriteCommand, WriteResult } from './command.js';
import { encodeChangePeerCommand, encodeCompactLogCommand, encodeExpireSessionsCommand, encodeWriteCommand, opKey } from './command.js';
import type { ChangePeerCommand } from './command.js';
import { ConfChangeError, ConfChangePendingError } from '../raft/index.js';
import type { RegionMeta } from './region.js';
import type { PeerMeta, RaftEnvelope } from './envelope.js';
import {
  ChangePeerRefusedError, EpochNotMatchError, InvalidRequestError, KeyNotInRegionError, NotLeaderError, RegionError, RegionNotFoundError,
  StaleCommandError, StoreStoppedError,
} from './errors.js';
import { newPeerId } from './ids.js';
import type { PeerId, StoreId } from './ids.js';
import type { PeerStorage } from './peer-storage.js';
import { encodeApplyState } from './peer-storage.js';
import { SessionTable } from './session-table.js';
import { ProposalQueue } from './proposal-queue.js';
import type { PendingRead } from './read-queue.js';
import { ReadQueue } from './read-queue.js';
import { LeaderLease } from './leader-lease.js';
import { keyInRegion } from './region.js';
import type { Transport } from './transport.js';
import type { StoreObserver } from './observer.js';

export interface PeerOptions {
  readonly peer: PeerMeta;
  readonly storage: PeerStorage;
  readonly kv: KvEngine;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** Seeds the election-timeout randomness. */
  readonly seed: number;
  /** The region's client sessions, loaded from kvdb (session-table.ts). */
  readonly sessions: SessionTable;
  /** Wall clock (ms): stamps proposals, times session expiry. */
  readonly wallClock: () => number;
  /** Sessions idle this long are expired (the leader proposes it). */
  readonly sessionTtlMs: number;
  /** The most a client's clock may run ahead of a leader's; widens the refusal window. */
  readonly maxClockSkewMs: number;
  /** Called when the peer hits an error it cannot continue from (e.g. a failed write). */
  readonly onFatal: (err: Error) => void;
  /**
   * Called once this peer has applied its own removal from the region (and stopped): the
   * store destroys its data and leaves a tombstone. `region` is the region after removal.
   */
  readonly onRemoved?: (region: RegionMeta) => void;
  /** Tests only: deliberate bugs (see deliberate-bugs.ts). */
  readonly bugs: DeliberateBugs;
  /** Applied entries kept above the truncated index before the leader compacts the log. */
  readonly compactLogThreshold: number;
  /** Log payload bytes above the truncated index that make the leader compact regardless. */
  readonly compactLogMaxBytes: number;
  readonly snapshots: SnapshotManager;
  /** Told of proposals and Ready timings (metrics). */
  readonly observer: StoreObserver;
  /** Tests only: may kill the store at named points of the loop (see crash-points.ts). */
  readonly crashHook?: CrashHook;
  /** Tests only: awaited before each snapshot install (a slow disk or a big region). */
  readonly beforeInstall?: () => Promise<void>;
  /**
   * Lease reads (raft.read_mode: lease; see leader-lease.ts): how long a confirmed
   * ReadIndex round lets the leader answer reads alone, and its monotonic clock (ms; the
   * wall clock is `wallClock`).
   * Unset: every batch of reads takes a ReadIndex round.
   */
  readonly lease?: { readonly durationMs: number; readonly now: () => number };
}

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

export class Peer {
  meta: PeerMeta;
  private readonly node: RawNode;
  private readonly proposals = new ProposalQueue<WriteResult>();
  private readonly reads: ReadQueue;
  private loopRunning = false;
  private loopDone: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;
  private ticksSinceCompactCheck = 0;
  private ticks = 0;
  /**
   * Peers this leader sent a snapshot to, with its index and the tick it went out: until
   * the peer has that index (or CATCH_UP_TICKS pass), compaction does not go past it, so
   * that once installed it can continue from the log instead of needing another snapshot.
   */
  private readonly catchingUp = new Map<number, { index: number; sinceTick: number }>();
  /** The last CompactLog this leader proposed, so it does not propose another before it applies. */
  private compactPending: { at: number; term: number } | undefined;
  /** The term of the last Ready handled; a change means pending ReadIndex requests were dropped. */
  private lastTerm = 0;
  /** Peers that sent this peer a message (the region may not name them yet: see sendMessages). */
  private readonly heardFrom = new Map<number, PeerMeta>();
  /** Set when this peer applied its own removal; it is destroyed once it no longer leads. */
  private pendingRemoval: RegionMeta | undefined;
  /** When this peer, as leader, last proposed ExpireSessions (wall clock). */
  private lastExpiryProposalMs = -Infinity;
  /** Lease reads (undefined: off). */
  private readonly lease: LeaderLease | undefined;
  /** A read was answered by the lease since the last look: renew it if it is past half. */
  private leaseUsed = false;
  private renewals = 0;

  constructor(private readonly o: PeerOptions) {
    this.meta = o.peer;
    this.reads = new ReadQueue(`${o.peer.id}-${o.seed}`, { ignoreAppliedIndex: o.bugs.readBeforeApplied === true });
    this.lease = o.lease ? new LeaderLease(o.lease.durationMs, o.lease.now, o.wallClock) : undefined;
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
    this.lastTerm = this.node.status().term;
  }

  get region() {
    return this.o.storage.region;
  }

  status() {
    return this.node.status();
  }

  /** The leader's match index for a peer (undefined: not leading, or not tracked). */
  matchOf(id: PeerId): number | undefined {
    return this.node.progress(id)?.match;
  }

  get truncatedIndex(): number {
    return this.o.storage.applyState.truncatedIndex;
  }

  get logBytes(): number {
    return this.o.storage.logBytes;
  }

  leaderMeta(): PeerMeta | undefined {
    const lead = this.node.status().lead;
    return this.region.peers.find((p) => p.id === lead);
  }

  // ---- inputs -------------------------------------------------------------------

  onTick(): void {
    if (this.stopped) return;
    this.ticks++;
    this.node.tick();
    if (this.pendingRemoval && this.node.status().role !== 'leader' && !this.loopRunning) {
      this.destroyed(this.pendingRemoval);
      return;
    }
    if (++this.ticksSinceCompactCheck >= this.o.electionTick) {
      this.ticksSinceCompactCheck = 0;
      this.maybeProposeCompaction();
      this.maybeExpireSessions();
    }
    this.schedule();
  }

  /**
   * The leader truncates the log once more than compactLogThreshold applied entries, or
   * more than compactLogMaxBytes of payload, sit above the truncated index. It keeps what
   * every peer still needs when that is cheap (all peers within one threshold of the
   * applied index); otherwise it truncates at its applied index, and a peer that is down
   * or far behind catches up by snapshot instead of holding everyone's log.
   */
  private maybeProposeCompaction(): void {
    const st = this.node.status();
    if (st.role !== 'leader') return;
    const { truncatedIndex, appliedIndex } = this.o.storage.applyState;
    const threshold = this.o.compactLogThreshold;
    const overBytes = this.o.storage.logBytes > this.o.compactLogMaxBytes;
    if (appliedIndex - truncatedIndex <= threshold && !overBytes) return;
    if (this.compactPending && this.compactPending.term === st.term && this.compactPending.at > appliedIndex) return;
    let slowest = appliedIndex;
    let hold = appliedIndex;
    for (const p of this.region.peers) {
      if (p.id === this.meta.id) continue;
      const match = this.node.progress(p.id)?.match ?? 0;
      const c = this.catchingUp.get(p.id);
      // Caught up once within a threshold of our applied index; given up on after a deadline.
      if (c && ((match >= c.index && appliedIndex - match <= threshold) || this.ticks - c.sinceTick > CATCH_UP_TICKS * this.o.electionTick)) {
        this.catchingUp.delete(p.id);
      } else if (c && !this.o.bugs.compactPastSnapshotTarget) {
        // Installing (or about to install) a snapshot at c.index, or replaying the log
        // after it: keep what it still needs.
        hold = Math.min(hold, Math.max(c.index, match));
        continue;
      }
      slowest = Math.min(slowest, match);
    }
    // Nor past a snapshot being generated (or just generated, not yet sent) for a peer.
    const generating = this.o.storage.snapshotHold(SNAPSHOT_FRESH_MS);
    if (generating !== undefined && !this.o.bugs.compactPastSnapshotTarget) hold = Math.min(hold, generating);
    // Past a peer that is down or far behind (it will need a snapshot anyway), but never
    // past one catching up by snapshot, unless the log outgrew its byte cap.
    const point = overBytes ? appliedIndex : Math.min(hold, appliedIndex - slowest <= threshold ? slowest : appliedIndex);
    // Not worth a log entry for a small gain.
    if (point - truncatedIndex <= threshold / 2 && !overBytes) return;
    if (point <= truncatedIndex) return;
    try {
      const term = this.o.storage.term(point);
      this.o.observer.proposed('compact_log');
      const at = this.node.propose(encodeCompactLogCommand({ regionId: this.region.id, index: point, term }, this.region.epoch));
      this.compactPending = { at: at.index, term: at.term };
      this.o.logger.info('proposed log compaction', { index: point, entries: point - truncatedIndex, slowest, logBytes: this.o.storage.logBytes });
    } catch (e) {
      this.o.logger.warn('could not propose log compaction', { error: (e as Error).message });
    }
  }

  /**
   * The leader proposes ExpireSessions at most every quarter TTL, and only when some
   * session has been idle longer than the TTL; every replica applies the same cut.
   */
  private maybeExpireSessions(): void {
    if (this.node.status().role !== 'leader') return;
    const now = this.o.wallClock();
    const ttl = this.o.sessionTtlMs;
    // (A clock that stepped back counts as time passed, or expiry would stop until it caught up.)
    if (now >= this.lastExpiryProposalMs && now - this.lastExpiryProposalMs < ttl / 4) return;
    const idleBeforeMs = Math.max(0, Math.floor(now - ttl));
    if (this.o.sessions.oldestUseMs() >= idleBeforeMs) return;
    try {
      this.o.observer.proposed('expire_sessions');
      this.node.propose(encodeExpireSessionsCommand(this.region.id, { idleBeforeMs, rejectBeforeMs: idleBeforeMs + this.o.maxClockSkewMs }, this.region.epoch));
      this.lastExpiryProposalMs = now;
    } catch (e) {
      this.o.logger.warn('could not propose session expiry', { error: (e as Error).message });
    }
  }

  onRaftMessage(env: RaftEnvelope): void {
    if (this.stopped) return;
    if (env.toPeer.id !== this.meta.id) return;
    if (!this.heardFrom.has(env.fromPeer.id)) this.heardFrom.set(env.fromPeer.id, env.fromPeer);
    if (env.message.type === 'MsgSnapshot' && !this.acceptableSnapshot(env.message)) return;
    try {
      this.node.step(env.message);
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
    this.schedule();
  }

  /**
   * A snapshot must be of this region and not from an older epoch of it (a stale leader's
   * view); anything else is dropped with a warning. Staleness by index is Raft's call.
   */
  private acceptableSnapshot(m: MsgSnapshot): boolean {
    let region;
    try {
      region = decodeDescriptor(m.snapshot).region;
    } catch (e) {
      this.o.logger.warn('dropping a snapshot with an unreadable descriptor', { error: (e as Error).message, from: m.from });
      return false;
    }
    const ours = this.region.epoch;
    if (region.id !== this.region.id || region.epoch.confVer < ours.confVer || region.epoch.version < ours.version) {
      this.o.logger.warn('dropping a snapshot of another region or an older epoch', {
        from: m.from, region: region.id, epoch: region.epoch, ours,
      });
      return false;
    }
    return true;
  }

  /** Proposes a write; resolves once it is applied here (after a quorum fsynced it). */
  proposeWrite(cmd: WriteCommand): Promise<WriteResult> {
    this.checkHeader(cmd.header, cmd.ops.map(opKey));
    let at: { index: number; term: number };
    try {
      this.o.observer.proposed('write');
      at = this.node.propose(encodeWriteCommand(cmd, this.region.epoch, Math.max(0, Math.floor(this.o.wallClock()))));
    } catch (e) {
      if (e instanceof ProposalDroppedError) throw new NotLeaderError(this.region.id, this.leaderMeta());
      throw e;
    }
    const done = new Promise<WriteResult>((resolve, reject) => {
      this.proposals.push({ index: at.index, term: at.term, resolve, reject });
    });
    this.schedule();
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
    if (this.node.status().role !== 'leader') throw new NotLeaderError(region.id, this.leaderMeta());
    const existing = region.peers.find((p) => p.storeId === storeId);
    let peer: PeerMeta;
    if (change === 'removeNode') {
      if (!existing) throw new InvalidRequestError(`store ${storeId} has no peer in region ${region.id}`);
      peer = existing;
    } else if (existing) {
      if (change === 'addVoter' && existing.learner) peer = existing;
      else throw new InvalidRequestError(`store ${storeId} already has ${existing.learner ? 'a learner' : 'a voter'} (peer ${existing.id}) in region ${region.id}`);
    } else {
      // Never an id used before in this region: conf_ver only grows.
      peer = { id: newPeerId(region.epoch.confVer, storeId), storeId };
    }
    let at: { index: number; term: number };
    try {
      this.o.observer.proposed('conf_change');
      at = this.node.proposeConfChange({ type: change, nodeId: peer.id }, encodeChangePeerCommand({ regionId: region.id, change, peer }, region.epoch));
    } catch (e) {
      if (e instanceof ProposalDroppedError) throw new NotLeaderError(region.id, this.leaderMeta());
      if (e instanceof ConfChangeError) throw new ChangePeerRefusedError(region.id, e.message, e instanceof ConfChangePendingError);
      throw e;
    }
    this.o.logger.info('proposed a membership change', { change, store: storeId, peer: peer.id, index: at.index });
    const done = new Promise<void>((resolve, reject) => this.proposals.push({ index: at.index, term: at.term, resolve: () => resolve(), reject }));
    this.schedule();
    await done;
    return this.region;
  }

  /** A linearizable read through ReadIndex; only the leader serves reads. */
  read(header: RequestHeader, op: ReadOp): Promise<ReadResult> {
    this.checkHeader(header, op.kind === 'get' ? [op.key] : []);
    const st = this.node.status();
    if (st.role !== 'leader') throw new NotLeaderError(this.region.id, this.leaderMeta());
    const byLease = this.leaseHolds(st.term);
    const p = new Promise<ReadResult>((resolve, reject) => {
      // Under the lease no other leader can have committed anything: our commit index
      // covers every write acknowledged before this read arrived.
      if (byLease) this.reads.addIndexed({ op, resolve, reject }, st.commit);
      else this.reads.add({ op, resolve, reject });
    });
    if (byLease) this.leaseUsed = true;
    this.schedule();
    return p;
  }

  /** Whether this leader may answer a read from its own state now (lease reads only). */
  private leaseHolds(term: number): boolean {
    if (!this.lease || !this.lease.holds(term) || this.pendingRemoval) return false;
    // A transfer under way, by request or Raft's own hand-over: the transferee's election
    // ignores leases.
    return this.o.bugs.leaseSurvivesTransfer === true || this.node.leadTransferee() === 0;
  }

  private checkHeader(h: RequestHeader, keysToCheck: readonly Uint8Array[]): void {
    const region = this.region;
    if (h.regionId !== region.id) throw new RegionNotFoundError(h.regionId);
    if (h.epoch && (h.epoch.version !== region.epoch.version || h.epoch.confVer !== region.epoch.confVer)) {
      throw new EpochNotMatchError(region.id, region.epoch);
    }
    for (const k of keysToCheck) if (!keyInRegion(k, region)) throw new KeyNotInRegionError(region.id, k);
    if (this.node.status().role !== 'leader') throw new NotLeaderError(region.id, this.leaderMeta());
  }

  // ---- the Ready loop -----------------------------------------------------------

  /** Runs the loop after the current synchronous pass, so inputs batch together. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.stopped) return;
      const ctx = this.reads.flush();
      if (ctx) {
        this.o.observer.proposed('read_index');
        this.lease?.roundStarted(textOf(ctx), this.node.status().term);
        this.node.readIndex(ctx);
      } else if (this.leaseUsed) {
        this.leaseUsed = false;
        this.maybeRenewLease();
      }
      if (this.loopRunning) return;
      // Lease reads may be servable at once (they wait for nothing but the applied index).
      if (this.lease) void this.serveReads();
      if (this.node.hasReady()) this.loopDone = this.runLoop();
    });
  }

  /** Past half its length, a lease in use is renewed by a ReadIndex round of its own. */
  private maybeRenewLease(): void {
    const st = this.node.status();
    if (!this.lease || st.role !== 'leader' || !this.lease.wantsRenewal(st.term) || this.lease.roundPending()) return;
    const key = `${this.meta.id}-${this.o.seed}:renew:${++this.renewals}`;
    this.o.observer.proposed('read_index');
    this.lease.roundStarted(key, st.term);
    this.node.readIndex(new TextEncoder().encode(key));
  }

  /** For each range, the user keys kvdb holds in it now (undefined when there is none). */
  private async readRanges(list: { start: Uint8Array; end: Uint8Array }[]): Promise<RangeReads | undefined> {
    if (list.length === 0) return undefined;
    const out = new Map<string, Uint8Array[]>();
    for (const r of list) {
      const k = rangeKey(r.start, r.end);
      if (out.has(k)) continue;
      const end = r.end.length === 0 ? keys.dataKeyEnd('default') : keys.dataKey('default', r.end);
      const pairs = await this.o.kv.scan({ start: keys.dataKey('default', r.start), end });
      out.set(k, pairs.map(([key]) => keys.decodeDataKey(key).key));
    }
    return out;
  }

  private async runLoop(): Promise<void> {
    this.loopRunning = true;
    try {
      while (!this.stopped && this.node.hasReady()) {
        const started = performance.now();
        await this.handleReady(this.node.ready());
        this.o.observer.readyHandled(performance.now() - started);
      }
    } catch (e) {
      if (!this.stopped) this.o.onFatal(e as Error);
    } finally {
      this.loopRunning = false;
    }
  }

  /** Where the Ready loop is (diagnostics for stuck-cluster reports). */
  private phase = 'idle';

  private async handleReady(rd: Ready): Promise<void> {
    const storage = this.o.storage;
    let removed: RegionMeta | undefined;
    this.phase = 'ready';
    if (rd.snapshot) {
      this.phase = `installing snapshot ${rd.snapshot.metadata.index}`;
      if (this.o.beforeInstall) {
        await this.o.beforeInstall();
        if (this.stopped) return;
      }
      const started = Date.now();
      await storage.installSnapshot(rd.snapshot, {
        skipIntent: this.o.bugs.installWithoutIntent === true,
        at: (step) => {
          if (this.crashed(`snapshot-${step}`)) throw new SimulatedCrashError(`snapshot-${step}`);
        },
      });
      if (this.stopped) return;
      // The client sessions came with the snapshot: take them as kvdb now has them.
      if (!this.o.bugs.skipSessionReloadAfterSnapshot) {
        this.o.sessions.replaceWith(await SessionTable.load(this.o.kv, this.region.id));
      }
      this.o.logger.info('installed snapshot', { index: rd.snapshot.metadata.index, term: rd.snapshot.metadata.term, ms: Date.now() - started });
    }
    // Asking a voter to take over ends this leader's lease for the term, before the ask leaves.
    if (this.lease && !this.o.bugs.leaseSurvivesTransfer && rd.messages.some((m) => m.type === 'MsgTimeoutNow')) {
      this.lease.handOver(this.node.status().term);
    }
    // A leader's appends go out while it writes them (src/raft sendableBeforePersist); the
    // rest only once the Ready is durable. The planted bug sends everything first.
    const persistedTerm = storage.initialState().hardState.term;
    const early = this.o.bugs.sendBeforePersist ? rd.messages : rd.messages.filter((m) => sendableBeforePersist(m, rd, persistedTerm));
    this.sendMessages(early);
    this.phase = 'persisting';
    await storage.saveReady(rd);
    if (this.stopped || this.crashed('persisted')) return;
    if (early.length < rd.messages.length) this.sendMessages(early.length === 0 ? rd.messages : rd.messages.filter((m) => !early.includes(m)));
    if (this.crashed('sent')) return;
    const termChanged = rd.hardState !== undefined && rd.hardState.term !== this.lastTerm;
    if (rd.hardState) this.lastTerm = rd.hardState.term;
    if ((rd.softState && rd.softState.role !== 'leader') || termChanged) this.onLostLeadership();
    for (const rs of rd.readStates) {
      this.lease?.roundConfirmed(textOf(rs.context));
      this.reads.onReadState(rs.context, rs.index);
    }
    if (this.o.bugs.readBeforeApplied) void this.serveReads();
    if (rd.committedEntries.length > 0) {
      // A range delete needs the keys kvdb holds in its range (apply itself reads nothing).
      const ranges = await this.readRanges(rangesToRead(rd.committedEntries));
      if (this.stopped) return;
      const out = applyEntries(rd.committedEntries, this.region, storage.applyState, this.o.sessions, this.o.bugs, ranges);
      if (this.o.bugs.applyStateInSeparateBatch) {
        const ahead = new WriteBatch();
        ahead.put(keys.applyStateKey(this.region.id), encodeApplyState(out.applyState));
        await this.o.kv.write(ahead, { sync: false });
        if (this.stopped) return;
      }
      // Synced when it truncates the log: raftdb must not lose entries kvdb still needs.
      this.phase = 'applying';
      await this.o.kv.write(out.batch, { sync: out.compacted });
      if (this.stopped || this.crashed('applied')) return;
      storage.setApplyState(out.applyState);
      if (out.compacted) {
        if (this.crashed('compacting')) return;
        this.phase = 'deleting compacted entries';
        await storage.deleteCompactedEntries();
        if (this.stopped) return;
      }
      out.sessions.commit();
      // Membership: Raft's configuration changes with each applied change, in log order.
      for (const c of out.confChanges) this.node.applyConfChange(c.change);
      if (out.confChanges.length > 0) {
        // The quorum that confirmed the lease may not be one of the new configuration.
        this.lease?.revoke();
        storage.region = out.region;
        const self = out.region.peers.find((p) => p.id === this.meta.id);
        this.o.logger.info('region membership changed', {
          confVer: out.region.epoch.confVer, peers: out.region.peers.map((p) => `${p.id}@${p.storeId}${p.learner ? ' (learner)' : ''}`),
        });
        if (!self) removed = out.region;
        else if (self.learner !== this.meta.learner) this.meta = self;
      }
      if (out.sessionsExpired > 0) this.o.logger.info('expired idle client sessions', { dropped: out.sessionsExpired, left: this.o.sessions.rows.size });
      for (const r of out.results) {
        const p = this.proposals.take(r.index, r.term);
        if (!p) continue;
        if (r.error) p.reject(r.error);
        else p.resolve(r.result ?? {});
      }
    }
    this.node.advance(rd);
    this.phase = 'idle';
    if (removed) this.pendingRemoval = removed;
    // A removed leader first hands leadership over (Raft does it), then goes.
    if (this.pendingRemoval && this.node.status().role !== 'leader') {
      this.destroyed(this.pendingRemoval);
      return;
    }
    void this.serveReads();
  }

  /** Passes a crash point: true if the test's hook killed the store there. */
  private crashed(point: CrashPoint): boolean {
    this.o.crashHook?.(point);
    return this.stopped;
  }

  /** Stops this peer for good and reports why; the store exits on it (see Store.fatal). */
  private failLoudly(err: Error, during: string): void {
    if (this.stopped) return;
    this.stopped = true;
    const e = new Error(`peer ${this.meta.id} of region ${this.region.id}: invariant broken while ${during}: ${err.message}`);
    this.o.logger.error('raft invariant broken; stopping the peer', { error: err.message, during, stack: err.stack });
    const reason = new StoreStoppedError(this.meta.storeId);
    this.proposals.failAll(reason);
    this.reads.failAll(reason);
    this.o.onFatal(e);
  }

  /** Only once the Ready's entries and hard state are durable: a message is a promise. */
  private sendMessages(messages: readonly Message[]): void {
    for (const m of messages) {
      // A peer not yet initialized knows no other peer from its region: it answers the
      // peers that wrote to it.
      const to = this.region.peers.find((p) => p.id === m.to) ?? this.heardFrom.get(m.to);
      if (!to) continue;
      const env: RaftEnvelope = { regionId: this.region.id, fromPeer: this.meta, toPeer: to, regionEpoch: this.region.epoch, message: m };
      if (m.type === 'MsgSnapshot') this.sendSnapshot(env, m);
      else this.o.transport.send(env);
    }
  }

  private sendSnapshot(env: RaftEnvelope, m: MsgSnapshot): void {
    const report = (status: 'finish' | 'failure'): void => {
      if (this.stopped) return;
      this.node.reportSnapshot(m.to, status);
      this.schedule();
    };
    const { index, term } = m.snapshot.metadata;
    const file = this.o.storage.generatedFile(index, term);
    if (!file) {
      this.o.logger.warn('snapshot file already replaced; reporting the send failed', { index, term, to: m.to });
      queueMicrotask(() => report('failure'));
      return;
    }
    this.o.logger.info('sending snapshot', { to: env.toPeer.storeId, index, term });
    this.catchingUp.set(m.to, { index, sinceTick: this.ticks });
    this.o.snapshots.send(env, file, (status) => {
      // Only if no newer snapshot went to it meanwhile.
      if (status === 'failure' && this.catchingUp.get(m.to)?.index === index) this.catchingUp.delete(m.to);
      report(status);
    });
  }

  private onLostLeadership(): void {
    this.lease?.revoke();
    const err = new StaleCommandError('leadership changed before the command was applied');
    this.proposals.failAll(err);
    this.reads.failAll(new NotLeaderError(this.region.id, this.leaderMeta()));
  }

  private async serveReads(): Promise<void> {
    const ready = this.reads.takeReady(this.o.storage.applyState.appliedIndex);
    if (ready.length === 0) return;
    await Promise.all(ready.map((r) => this.serveRead(r)));
  }

  private async serveRead(r: PendingRead): Promise<void> {
    try {
      const op = r.op;
      if (op.kind === 'get') {
        r.resolve({ kind: 'get', value: await this.o.kv.get(keys.dataKey('default', op.key)) });
      } else {
        const pairs = await this.o.kv.scan({
          start: keys.dataKey('default', op.start),
          end: op.end.length > 0 ? keys.dataKey('default', op.end) : keys.dataKeyEnd('default'),
          limit: op.limit,
        });
        r.resolve({ kind: 'scan', pairs: pairs.map(([k, v]) => [keys.decodeDataKey(k).key, v] as const) });
      }
    } catch (e) {
      r.reject(e as Error);
    }
  }

  /**
   * A member of a newer configuration says this peer is not in it: it was removed and
   * missed the commit. It stops and is destroyed (after any Ready in flight).
   */
  removedElsewhere(region: RegionMeta): void {
    if (this.stopped || this.pendingRemoval) return;
    this.pendingRemoval = region;
    if (!this.loopRunning) this.destroyed(region);
  }

  /** This peer applied its own removal: it stops for good and the store destroys it. */
  private destroyed(region: RegionMeta): void {
    this.stopped = true;
    this.o.logger.info('removed from the region; destroying this peer', { region: region.id, confVer: region.epoch.confVer });
    const reason = new RegionNotFoundError(region.id);
    this.proposals.failAll(reason);
    this.reads.failAll(reason);
    this.o.onRemoved?.(region);
  }

  /** Dies at once (Store.kill): nothing more happens; what is pending fails. */
  kill(reason: RegionError): void {
    this.stopped = true;
    this.proposals.failAll(reason);
    this.reads.failAll(reason);
  }

  /** Stops the peer: no more inputs; waits for the loop; settles everything pending. */
  async stop(reason: RegionError): Promise<void> {
    this.stopped = true;
    await this.loopDone;
    this.proposals.failAll(reason);
    this.reads.failAll(reason);
  }

  /**
   * Asks Raft to hand leadership to `to` (leader transfer). Proposals are refused (as
   * NotLeader, naming this peer) until it completes or is given up after an election timeout.
   */
  transferLeader(to: PeerMeta): void {
    if (this.stopped) throw new StoreStoppedError(this.meta.storeId);
    if (this.node.status().role !== 'leader') throw new NotLeaderError(this.region.id, this.leaderMeta());
    this.o.logger.info('transferring leadership', { to: to.storeId, peer: to.id });
    // Lease reads stop while it is under way (leaseHolds) and for the rest of the term once
    // the MsgTimeoutNow goes out (handleReady).
    this.node.transferLeader(to.id);
    this.schedule();
  }

  /** The Ready loop's state, for stuck-cluster reports. */
  describeLoop(): string {
    const st = this.node.status();
    return `loop ${this.loopRunning ? 'running' : 'idle'} (${this.phase}), ready ${this.node.hasReady()}, commit ${st.commit}, last ${st.lastIndex}, lead ${st.lead}`;
  }

  /** As leader, its view of each other peer's replication ("store 2: probe match 7 next 8"); for diagnostics. */
  describeProgress(): string {
    if (this.node.status().role !== 'leader') return 'not leading';
    return this.region.peers.filter((p) => p.id !== this.meta.id).map((p) => {
      const pr = this.node.progress(p.id);
      const f = this.node.progressFlags(p.id);
      return pr ? `store ${p.storeId}: ${pr.state} match ${pr.match} next ${pr.next}${f?.recentActive ? ' active' : ''}${f?.paused ? ' paused' : ''}` : `store ${p.storeId}: -`;
    }).join(', ');
  }

  /** Rows in the client session table. */
  get sessionCount(): number {
    return this.o.sessions.rows.size;
  }

  get pendingCount(): number {
    return this.proposals.size + this.reads.pendingCount;
  }

  get peerId(): PeerId {
    return this.meta.id;
  }
}

const textDecoder = new TextDecoder();
/** A ReadIndex context as the string it was made from (ReadQueue and lease renewals). */
function textOf(ctx: Uint8Array): string {
  return textDecoder.decode(ctx);
}
