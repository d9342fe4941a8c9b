// Store: one tinykv server's raft side. It loads (or bootstraps) its peers from the
// engines, routes inbound raft messages and client requests to them, drives their
// ticks from a Clock, and on stop settles everything pending and closes the engines.
// Built with createStore(options); nothing happens until start().

import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from '../api/limits.js';
import { NO_BUGS, type DeliberateBugs } from './deliberate-bugs.js';
import type { CrashHook } from './crash-points.js';
import type { Logger, Message } from '../raft/index.js';
import { WriteBatch } from '../engine/kv-engine.js';
import { silentLogger } from '../raft/index.js';
import * as keys from '../engine/keys.js';
import type { ClientSession, ReadResult, RequestHeader, WriteOp, WriteResult } from './command.js';
import type { Clock } from './clock.js';
import type { RaftEnvelope } from './envelope.js';
import { InvalidRequestError, RegionNotFoundError, StoreStoppedError } from './errors.js';
import type { PeerId, RegionId, StoreId } from './ids.js';
import { Peer } from './peer.js';
import type { Engines } from './peer-storage.js';
import { bootstrapRegion, destroyRegion, PeerStorage, readTombstone, writeUninitializedRegion } from './peer-storage.js';
import type { RegionMeta } from './region.js';
import { leaseDurationMs } from './leader-lease.js';
import { SessionTable } from './session-table.js';
import { compareBytes, FIRST_REGION_ID, initialRegion } from './region.js';
import type { Transport } from './transport.js';
import { NO_OBSERVER, type StoreObserver } from './observer.js';
import type { SnapshotFiles } from './snapshot-files.js';
import { SnapshotManager, SnapshotRefusedError } from './snapshot-manager.js';
import type { SnapshotLimits, SnapshotReceiver } from './snapshot-manager.js';

export interface StoreOptions {
  readonly storeId: StoreId;
  /** Every store of the cluster; used to bootstrap region 1 on first start. */
  readonly clusterStoreIds: readonly StoreId[];
  readonly engines: Engines;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly tickMs: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxValueBytes?: number;
  readonly maxKeyBytes?: number;
  readonly logger?: Logger;
  /** Seeds election randomness; tests pass one so a run can be replayed. */
  readonly seed?: number;
  /** Called when the store hits an error it cannot continue from. */
  readonly onFatal?: (err: Error) => void;
  /** Applied log entries kept before the leader compacts the log (default 1000). */
  readonly compactLogThreshold?: number;
  /** Log payload bytes that make the leader compact whatever the entry count (default 64 MiB). */
  readonly compactLogMaxBytes?: number;
  /** Where snapshot files are generated and staged (the store's snap/ directory). */
  readonly snapshotFiles: SnapshotFiles;
  readonly snapshotLimits?: SnapshotLimits;
  /** Told of proposals and Ready timings as they happen (the store process's metrics). */
  readonly observer?: StoreObserver;
  /** Tests only: break the store on purpose (see deliberate-bugs.ts). */
  readonly deliberateBugs?: DeliberateBugs;
  /** Wall clock (ms) for proposal stamps and session expiry (default Date.now; tests fake it). */
  readonly wallClock?: () => number;
  /** Client sessions idle this long are forgotten (default 30 s). */
  readonly sessionTtlMs?: number;
  /** The most a client's clock may run ahead of the leader's (default 5 s); see session-table.ts. */
  readonly maxClockSkewMs?: number;
  /**
   * How a leader makes sure a read is linearizable: 'read_index' (default), a heartbeat
   * round per batch of reads; 'lease', no round while a recent one holds (leader-lease.ts).
   * Every store of a cluster must use the same mode.
   */
  readonly readMode?: ReadMode;
  /** Tests only: kills the store at named points of the Ready loop (see crash-points.ts). */
  readonly crashHook?: CrashHook;
  /** Tests only: awaited before each snapshot install, to make installs slow. */
  readonly beforeInstall?: () => Promise<void>;
  /** Tests only: awaited inside each snapshot generation, to make generation slow. */
  readonly whileGenerating?: () => Promise<void>;
  /**
   * A store being added to a running cluster: on an empty data directory it does not
   * bootstrap region 1; its peer is created when the region's leader first contacts it.
   */
  readonly join?: boolean;
  /**
   * A store that joined on an empty data directory: peers with ids at or below this may
   * have been its own before it lost its data, and are never created (src/node/identity.ts).
   */
  readonly minPeerId?: number;
}

export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES };
/** Applied entries above the truncated index that make the leader compact the log. */
export const DEFAULT_COMPACT_LOG_THRESHOLD = 1000;
export const DEFAULT_COMPACT_LOG_MAX_BYTES = 64 * 1024 * 1024;
/** How a leader confirms it may answer a read (see StoreOptions.readMode). */
export type ReadMode = 'read_index' | 'lease';

/**
 * Longer than any client's retry window (the CLI's whole budget is 10 s), so an expired
 * session is one nobody is still retrying; a late retry is refused, never applied twice.
 */
export const DEFAULT_SESSION_TTL_MS = 30_000;
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5_000;

export interface StoreStatus {
  readonly storeId: StoreId;
  readonly regionId: RegionId;
  readonly role: string;
  readonly term: number;
  readonly leaderStoreId: StoreId | undefined;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  /** Log entries at or below it have been compacted away. */
  readonly truncatedIndex: number;
  /** Payload bytes of the log above the truncated index. */
  readonly logBytes: number;
  /** The region's conf_ver and members as this store has applied them. */
  readonly confVer: number;
  readonly members: readonly MemberStatus[];
}

/** One member of the region; `match` is known on the leader only (undefined elsewhere). */
export interface MemberStatus {
  readonly peerId: PeerId;
  readonly storeId: StoreId;
  readonly learner: boolean;
  readonly match: number | undefined;
}

export class Store {
  private readonly peers = new Map<RegionId, Peer>();
  private stopTicks: (() => void) | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  // Kept so a second stop() waits for the first one's engines to close instead of returning early.
  private stopping: Promise<void> | undefined;
  // A stop() during start() waits for loading to finish, so the engines are not closed under it.
  private starting: Promise<void> | undefined;
  private readonly logger: Logger;
  readonly snapshots: SnapshotManager;
  /**
   * What each other store has said, as durably recorded in kvdb: the newest of its peers
   * heard from, and the highest term heard from that peer. A message that raises either
   * waits (with any that follow it from that store) until the new record is fsynced: so
   * whatever this store acts on (a vote, an acknowledgement), it can later tell a store
   * that comes back with less (src/node/identity.ts).
   */
  private readonly heardTerms = new Map<StoreId, keys.HeardRecord>();
  private readonly heardWaiting = new Map<StoreId, RaftEnvelope[]>();

  constructor(private readonly o: StoreOptions) {
    this.logger = o.logger ?? silentLogger;
    this.snapshots = new SnapshotManager(o.snapshotFiles, o.transport, this.logger, o.snapshotLimits, o.whileGenerating);
  }

  get storeId(): StoreId {
    return this.o.storeId;
  }

  /** Loads region 1 (bootstrapping it on a fresh store) and starts ticking. */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error(`store ${this.o.storeId}: start() called twice`));
    this.state = 'starting';
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      // The store owns its engines: a failed start must not leave RocksDB's lock held.
      this.state = 'stopped';
      await Promise.allSettled([this.o.engines.kv.close(), this.o.engines.raft.close()]);
      throw err;
    }
  }

  private async load(): Promise<void> {
    const region = initialRegion(this.o.clusterStoreIds);
    const tomb = await readTombstone(this.o.engines, region.id);
    let storage: PeerStorage | undefined;
    if (tomb) {
      this.tombstones.set(region.id, tomb);
      this.logger.info('region was removed from this store', { regionId: region.id, confVer: tomb.epoch.confVer });
    } else {
      storage = await PeerStorage.load(this.o.engines, this.o.storeId, region.id, this.snapshots, this.logger);
      if (!storage && !this.o.join) {
        this.logger.info('bootstrapping region', { regionId: region.id, stores: this.o.clusterStoreIds });
        await bootstrapRegion(this.o.engines, region);
        storage = await PeerStorage.load(this.o.engines, this.o.storeId, region.id, this.snapshots, this.logger);
      }
      if (!storage) this.logger.info('joining: waiting for the region\'s leader to add this store', { regionId: region.id });
    }
    // Any install a crash interrupted is finished by now: every other snapshot file is a leftover.
    await this.snapshots.cleanup(new Set());
    for (const [k, v] of await this.o.engines.kv.scan({ start: keys.peerTermRange()[0], end: keys.peerTermRange()[1] })) {
      this.heardTerms.set(keys.decodePeerTermKey(k) as StoreId, keys.decodeHeardRecord(v));
    }
    if (storage) await this.startPeer(storage);
    this.stopTicks = this.o.clock.every(this.o.tickMs, () => {
      for (const p of this.peers.values()) p.onTick();
    });
    this.state = 'running';
  }

  /** Regions removed from this store: messages of their epoch or older never recreate them. */
  private readonly tombstones = new Map<RegionId, RegionMeta>();
  /** Peers being created (by a leader's first message), so messages meanwhile do not create twice. */
  private readonly creating = new Set<RegionId>();

  private async startPeer(storage: PeerStorage): Promise<void> {
    const region = storage.region;
    const self = region.peers.find((p) => p.storeId === this.o.storeId);
    if (!self) throw new Error(`store ${this.o.storeId} has no peer in region ${region.id}`);
    const peer: Peer = new Peer({
      onRemoved: (r) => void this.destroyPeer(peer, r),
      peer: self, storage: storage!, kv: this.o.engines.kv, transport: this.o.transport,
      logger: this.logger, electionTick: this.o.electionTick, heartbeatTick: this.o.heartbeatTick,
      seed: this.o.seed ?? (this.o.storeId * 7919 + Date.now()) >>> 0,
      sessions: this.o.deliberateBugs?.skipSessionReloadAtRestart ? new SessionTable() : await SessionTable.load(this.o.engines.kv, region.id),
      wallClock: this.o.wallClock ?? Date.now,
      sessionTtlMs: this.o.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
      maxClockSkewMs: this.o.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
      onFatal: (e) => this.fatal(e),
      bugs: this.o.deliberateBugs ?? NO_BUGS,
      observer: this.o.observer ?? NO_OBSERVER,
      ...(this.o.crashHook ? { crashHook: this.o.crashHook } : {}),
      ...(this.o.beforeInstall ? { beforeInstall: this.o.beforeInstall } : {}),
      compactLogThreshold: this.o.compactLogThreshold ?? DEFAULT_COMPACT_LOG_THRESHOLD,
      compactLogMaxBytes: this.o.compactLogMaxBytes ?? DEFAULT_COMPACT_LOG_MAX_BYTES,
      snapshots: this.snapshots,
      ...(this.o.readMode === 'lease'
        ? {
          lease: {
            durationMs: this.o.deliberateBugs?.leaseTooLong ? 100 * this.o.electionTick * this.o.tickMs : leaseDurationMs(this.o.electionTick, this.o.tickMs),
            now: () => this.o.clock.now(),
          },
        }
        : {}),
    });
    this.peers.set(region.id, peer);
  }

  /**
   * A message for a region this store has no peer of: a leader contacting a store that is
   * being added. The peer is created empty (writeUninitializedRegion) and catches up by
   * snapshot. Not for a region removed from here at that epoch or later (a late message).
   */
  private async maybeCreatePeer(env: RaftEnvelope): Promise<void> {
    const regionId = env.regionId;
    const m = env.message;
    if (env.toPeer.storeId !== this.o.storeId || this.creating.has(regionId)) return;
    if (m.type !== 'MsgAppend' && m.type !== 'MsgHeartbeat' && m.type !== 'MsgSnapshot') return;
    if (env.toPeer.id <= (this.o.minPeerId ?? 0) && !this.o.deliberateBugs?.recreateOldPeers) {
      // A peer this store may have had before it lost its data (see src/node/identity.ts):
      // recreated empty it could vote again or forget entries it acknowledged.
      this.warnOnce(`old-peer-${env.toPeer.id}`, 'refusing to recreate a peer this store may have had before its data was lost; ' +
        'remove it and add this store again (tinykv store replace)', { regionId, peer: env.toPeer.id, minPeerId: this.o.minPeerId, from: env.fromPeer.storeId });
      return;
    }
    const tomb = this.tombstones.get(regionId);
    if (tomb && env.regionEpoch.confVer <= tomb.epoch.confVer && !this.o.deliberateBugs?.ignoreTombstones) {
      this.logger.debug('dropping a message for a removed region', { regionId, from: env.fromPeer.storeId, confVer: env.regionEpoch.confVer });
      return;
    }
    this.creating.add(regionId);
    try {
      this.logger.info('creating a peer on the leader\'s request', { regionId, peer: env.toPeer.id, from: env.fromPeer.storeId });
      await writeUninitializedRegion(this.o.engines, regionId, env.toPeer);
      if (this.state !== 'running') return;
      const storage = await PeerStorage.load(this.o.engines, this.o.storeId, regionId, this.snapshots, this.logger);
      if (!storage || this.state !== 'running') return;
      this.tombstones.delete(regionId);
      await this.startPeer(storage);
      this.peers.get(regionId)!.onRaftMessage(env);
    } catch (e) {
      this.fatal(e as Error);
    } finally {
      this.creating.delete(regionId);
    }
  }

  /** The peer applied its removal: destroy its data, leave a tombstone (destroyRegion). */
  private async destroyPeer(peer: Peer, region: RegionMeta): Promise<void> {
    if (this.peers.get(region.id) !== peer) return;
    this.peers.delete(region.id);
    this.tombstones.set(region.id, region);
    try {
      await destroyRegion(this.o.engines, region);
      this.logger.info('peer destroyed; region tombstoned', { regionId: region.id, confVer: region.epoch.confVer });
    } catch (e) {
      if (this.state === 'running') this.fatal(e as Error);
    }
  }

  /**
   * A membership change of region 1, through its leader here: see Peer.proposeChangePeer.
   * Resolves with the region once applied on this store.
   */
  async changePeer(change: 'addVoter' | 'addLearner' | 'removeNode', storeId: StoreId): Promise<RegionMeta> {
    return this.peerFor(1 as RegionId).proposeChangePeer(change, storeId);
  }

  /** Whether region 1 has a peer here, is waiting for a leader to add one, or was removed from here. */
  membership(): 'member' | 'joining' | 'removed' {
    if (this.peers.has(FIRST_REGION_ID)) return 'member';
    return this.tombstones.has(FIRST_REGION_ID) ? 'removed' : 'joining';
  }

  /** Region 1 as this store has it (undefined: no peer here). */
  region(): RegionMeta | undefined {
    return this.peers.get(1 as RegionId)?.region;
  }


  private readonly warned = new Set<string>();

  /** Logs a warning once per `key` (a condition that repeats with every message). */
  private warnOnce(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(message, fields);
  }

  private fatal(err: Error): void {
    this.logger.error('store failed', { error: err.message });
    if (this.o.onFatal) this.o.onFatal(err);
    else void this.stop();
  }

  /** Delivers a raft message from another store (after recording its term; see heardTerms). */
  onRaftMessage(env: RaftEnvelope): void {
    if (this.state !== 'running') return;
    const from = env.fromPeer.storeId;
    const waiting = this.heardWaiting.get(from);
    if (waiting) {
      if (waiting.length < MAX_WAITING_MESSAGES) waiting.push(env); // beyond: dropped, Raft resends
      return;
    }
    const term = recordedTerm(env.message);
    const heard = this.heardTerms.get(from);
    const peerId = env.fromPeer.id as number;
    // A message from an older peer of that store (a late one) changes nothing.
    if (term > 0 && (!heard || peerId > heard.peerId || (peerId === heard.peerId && term > heard.term))) {
      this.recordHeardTerm(from, { peerId, term }, env);
      return;
    }
    const peer = this.peers.get(env.regionId);
    if (env.tombstone) {
      this.onTombstoneNotice(peer, env);
      return;
    }
    if (!peer) {
      void this.maybeCreatePeer(env);
      return;
    }
    const region = peer.region;
    if (!region.peers.some((p) => p.id === env.fromPeer.id) && env.regionEpoch.confVer < region.epoch.confVer && region.epoch.confVer > 0) {
      // From a peer removed at an earlier conf_ver that never heard of it (it missed the
      // commit): tell it, so it destroys itself instead of campaigning for ever.
      this.o.transport.send({
        regionId: region.id, fromPeer: peer.meta, toPeer: env.fromPeer, regionEpoch: region.epoch, tombstone: true,
        // Our own term: the receiver records it as heard from us (identity checks).
        message: { type: 'MsgHeartbeatResponse', from: peer.meta.id, to: env.fromPeer.id, term: Math.max(1, peer.status().term), context: new Uint8Array(0) },
      });
      return;
    }
    peer.onRaftMessage(env);
  }

  /** Another store's region, newer than ours, does not have our peer: it was removed. */
  private onTombstoneNotice(peer: Peer | undefined, env: RaftEnvelope): void {
    if (!peer || peer.meta.id !== env.toPeer.id || env.regionEpoch.confVer <= peer.region.epoch.confVer) return;
    this.logger.info('told by a newer member that this peer was removed', { regionId: env.regionId, by: env.fromPeer.storeId, confVer: env.regionEpoch.confVer });
    peer.removedElsewhere({ ...peer.region, epoch: env.regionEpoch, peers: peer.region.peers.filter((p) => p.id !== peer.meta.id) });
  }

  private recordHeardTerm(from: StoreId, rec: keys.HeardRecord, first: RaftEnvelope): void {
    const queue = [first];
    this.heardWaiting.set(from, queue);
    const wb = new WriteBatch();
    wb.put(keys.peerTermKey(from), keys.encodeHeardRecord(rec));
    this.o.engines.kv.write(wb, { sync: true }).then(() => {
      this.heardTerms.set(from, rec);
      this.heardWaiting.delete(from);
      for (const env of queue) this.onRaftMessage(env);
    }, (e: Error) => {
      this.heardWaiting.delete(from);
      if (this.state === 'running') this.fatal(e);
    });
  }

  /** The highest term durably recorded as heard from `storeId` (0: never). */
  heardTerm(storeId: StoreId): number {
    return this.heardTerms.get(storeId)?.term ?? 0;
  }

  /**
   * Starts staging an incoming snapshot (the transport writes the file into it, then hands
   * the message to onRaftMessage). Refused while the store is not running.
   */
  receiveSnapshot(env: RaftEnvelope): Promise<SnapshotReceiver> {
    if (this.state !== 'running') return Promise.reject(new SnapshotRefusedError(`store ${this.o.storeId} is not running`));
    if (!this.peers.has(env.regionId)) return Promise.reject(new SnapshotRefusedError(`store ${this.o.storeId} has no peer of region ${env.regionId}`));
    return this.snapshots.receive(env);
  }

  private peerFor(regionId: RegionId): Peer {
    if (this.state !== 'running') throw new StoreStoppedError(this.o.storeId);
    const p = this.peers.get(regionId);
    if (!p) throw new RegionNotFoundError(regionId);
    return p;
  }

  private checkKey(key: Uint8Array): void {
    if (key.length === 0) throw new InvalidRequestError('key must not be empty');
    const max = this.o.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
    if (key.length > max) throw new InvalidRequestError(`key is ${key.length} bytes; the maximum is ${max}`);
  }

  async put(h: RequestHeader, key: Uint8Array, value: Uint8Array, session?: ClientSession): Promise<void> {
    this.checkKey(key);
    const max = this.o.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    if (value.length > max) throw new InvalidRequestError(`value is ${value.length} bytes; the maximum is ${max}`);
    await this.write(h, [{ kind: 'put', key, value }], session);
  }

  async delete(h: RequestHeader, key: Uint8Array, session?: ClientSession): Promise<void> {
    this.checkKey(key);
    await this.write(h, [{ kind: 'delete', key }], session);
  }

  /**
   * Deletes every key in [start, end) (end empty: to the last key) in one replicated
   * command; resolves with how many it removed (unknown for a duplicate of a write that
   * had already applied).
   */
  async deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, session?: ClientSession): Promise<WriteResult> {
    if (end.length > 0 && compareBytes(start, end) >= 0) throw new InvalidRequestError('delete range: start must sort before end');
    return this.write(h, [{ kind: 'deleteRange', start, end }], session);
  }

  private async write(h: RequestHeader, ops: WriteOp[], session?: ClientSession): Promise<WriteResult> {
    return this.peerFor(h.regionId).proposeWrite({ header: h, ops, ...(session ? { session } : {}) });
  }

  async get(h: RequestHeader, key: Uint8Array): Promise<Uint8Array | undefined> {
    this.checkKey(key);
    const r: ReadResult = await this.peerFor(h.regionId).read(h, { kind: 'get', key });
    if (r.kind !== 'get') throw new Error('internal: get answered with a scan result');
    return r.value;
  }

  /** Pairs with start <= key < end (end empty = unbounded), in key order, at most `limit`. */
  async scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number): Promise<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
    if (end.length > 0 && compareBytes(start, end) > 0) {
      throw new InvalidRequestError('scan start is after its end');
    }
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidRequestError(`invalid scan limit ${limit}`);
    const r = await this.peerFor(h.regionId).read(h, { kind: 'scan', start, end, limit });
    if (r.kind !== 'scan') throw new Error('internal: scan answered with a get result');
    return r.pairs;
  }

  /**
   * Reads a key straight from this store's kvdb, bypassing Raft: what this replica has
   * applied, for tests and diagnostics. Never use it to answer a client.
   */
  async localGet(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.o.engines.kv.get(keys.dataKey('default', key));
  }

  status(): StoreStatus[] {
    return [...this.peers.values()].map((p) => {
      const s = p.status();
      return {
        storeId: this.o.storeId, regionId: p.region.id, role: s.role, term: s.term,
        leaderStoreId: p.leaderMeta()?.storeId, commitIndex: s.commit, appliedIndex: s.applied, lastIndex: s.lastIndex,
        truncatedIndex: p.truncatedIndex, logBytes: p.logBytes, confVer: p.region.epoch.confVer,
        members: p.region.peers.map((m) => ({
          peerId: m.id, storeId: m.storeId, learner: Boolean(m.learner),
          match: s.role !== 'leader' ? undefined : m.id === p.meta.id ? s.lastIndex : (p.matchOf(m.id) ?? 0),
        })),
      };
    });
  }

  /** Pending proposals and reads across peers (0 after stop()). */
  pendingCount(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.pendingCount;
    return n;
  }

  /**
   * Leader transfer of region 1 to the peer on `toStore`: NotLeaderError (with the leader
   * hint) unless this store leads, InvalidRequestError if no peer of the region is there.
   */
  transferLeader(toStore: StoreId): void {
    const peer = this.peers.get(1 as RegionId);
    if (!peer || this.state !== 'running') throw new StoreStoppedError(this.o.storeId);
    const to = peer.region.peers.find((p) => p.storeId === toStore);
    if (!to) throw new InvalidRequestError(`store ${toStore} has no peer in region ${peer.region.id}`);
    peer.transferLeader(to); // to itself: a no-op for a leader (Raft ignores it)
  }

  /** Diagnostics for tests: each leading peer's view of its followers. */
  describeProgress(): string {
    return [...this.peers.values()].map((p) => `${p.describeLoop()}; ${p.describeProgress()}`).join('; ');
  }

  /** Rows in the client session tables of this store's peers. */
  sessionCount(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.sessionCount;
    return n;
  }

  /**
   * Tests only: dies at once, as a killed process does. Nothing more is stepped, sent or
   * written by it; pending requests fail with StoreStopped; the engines are left to the
   * caller (which may then cut their power: PowerLossEngine).
   */
  kill(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.stopTicks?.();
    const reason = new StoreStoppedError(this.o.storeId);
    for (const p of this.peers.values()) p.kill(reason);
  }

  /** Stops ticking, settles everything pending with StoreStopped, closes both engines. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.state === 'starting') await this.starting?.catch(() => undefined);
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.stopTicks?.();
    const reason = new StoreStoppedError(this.o.storeId);
    await Promise.all([...this.peers.values()].map((p) => p.stop(reason)));
    await Promise.all([this.o.engines.kv.close(), this.o.engines.raft.close()]);
  }
}

/** Messages from one store held while its new term is being recorded; more are dropped. */
const MAX_WAITING_MESSAGES = 4096;

/**
 * The term a message proves its sender had durably reached, or 0. Pre-vote messages carry
 * a term the sender has not adopted (a pre-candidate asks in term + 1 without moving), so
 * they prove nothing.
 */
function recordedTerm(m: Message): number {
  return m.type === 'MsgRequestPreVote' || m.type === 'MsgRequestPreVoteResponse' ? 0 : m.term;
}

export function createStore(o: StoreOptions): Store {
  const ttl = o.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const skew = o.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  // A refusal mark at or past "now" would refuse every new client.
  if (!(skew < ttl)) throw new RangeError(`maxClockSkewMs (${skew}) must be less than sessionTtlMs (${ttl})`);
  return new Store(o);
}
