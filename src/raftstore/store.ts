// Store: one tinykv server's raft side. It loads (or bootstraps) its peers from the
// engines, drives their ticks from a Clock, and on stop settles everything pending and
// closes the engines. Built with createStore(options); nothing happens until start().
// Its parts:
//   router.ts          region id → peer; where messages and requests go
//   heard-terms.ts     the durable record of the terms heard from each store
//   peer-lifecycle.ts  loading, creating and destroying peers; tombstones
//   store-kv.ts        the key-value requests, checked and handed to a peer
//   store-status.ts    what the store reports about its peers
// A raft message passes heard-terms, then the router; a client request goes through
// store-kv to the router. Admin commands name a region or use the router's lookup.

import { keys } from '../engine/index.js';
import type { Logger } from '../raft/index.js';
import { silentLogger } from '../raft/index.js';
import type { ClientSession, RequestHeader, WriteResult } from './command.js';
import type { RaftEnvelope } from './envelope.js';
import { InvalidRequestError, StoreStoppedError } from './errors.js';
import { HeardTerms } from './heard-terms.js';
import type { RegionId, StoreId } from './ids.js';
import { PeerLifecycle } from './peer-lifecycle.js';
import type { RegionMeta } from './region.js';
import { Router } from './router.js';
import { SnapshotManager, SnapshotRefusedError } from './snapshot-manager.js';
import type { SnapshotReceiver } from './snapshot-manager.js';
import { StoreKv } from './store-kv.js';
import type { StoreOptions } from './store-options.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_SESSION_TTL_MS } from './store-options.js';
import { peerStatus } from './store-status.js';
import type { StoreStatus } from './store-status.js';

export type { ReadMode, StoreOptions } from './store-options.js';
export {
  DEFAULT_COMPACT_LOG_MAX_BYTES, DEFAULT_COMPACT_LOG_THRESHOLD, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES, DEFAULT_SESSION_TTL_MS,
} from './store-options.js';
export type { MemberStatus, StoreStatus } from './store-status.js';

/**
 * One store's raft side: its peers, their ticks and the key-value requests they serve.
 * Built by createStore; nothing runs until start(), and stop() settles everything pending.
 */
export class Store {
  private stopTicks: (() => void) | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  // Kept so a second stop() waits for the first one's engines to close instead of returning early.
  private stopping: Promise<void> | undefined;
  // A stop() during start() waits for loading to finish, so the engines are not closed under it.
  private starting: Promise<void> | undefined;
  private readonly logger: Logger;
  readonly snapshots: SnapshotManager;
  private readonly router: Router;
  private readonly lifecycle: PeerLifecycle;
  private readonly heard: HeardTerms;
  private readonly kv: StoreKv;

  constructor(private readonly o: StoreOptions) {
    this.logger = o.logger ?? silentLogger;
    this.snapshots = new SnapshotManager(o.snapshotFiles, o.transport, this.logger, o.snapshotLimits, o.whileGenerating);
    const running = (): boolean => this.state === 'running';
    this.router = new Router({
      storeId: o.storeId, transport: o.transport, logger: this.logger, running,
      unknownRegion: (env) => void this.lifecycle.createOnRequest(env),
    });
    this.lifecycle = new PeerLifecycle(o, { router: this.router, snapshots: this.snapshots, logger: this.logger, running, fatal: (e) => this.fatal(e) });
    this.heard = new HeardTerms(o.engines.kv, (env) => this.onRaftMessage(env), (e) => {
      if (running()) this.fatal(e);
    });
    this.kv = new StoreKv(o, (regionId) => this.router.peerFor(regionId));
  }

  get storeId(): StoreId {
    return this.o.storeId;
  }

  /** Loads the bootstrap region (bootstrapping it on a fresh store) and starts ticking. */
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
    const storage = await this.lifecycle.loadAtStart();
    // Any install a crash interrupted is finished by now: every other snapshot file is a leftover.
    await this.snapshots.cleanup(new Set());
    await this.heard.load();
    if (storage) await this.lifecycle.start(storage);
    this.stopTicks = this.o.clock.every(this.o.tickMs, () => {
      for (const p of this.router.all()) p.onTick();
    });
    this.state = 'running';
  }

  private fatal(err: Error): void {
    this.logger.error('store failed', { error: err.message });
    if (this.o.onFatal) this.o.onFatal(err);
    else void this.stop();
  }

  // ---- raft messages ------------------------------------------------------------

  /** Delivers a raft message from another store (after recording its term; see heard-terms.ts). */
  onRaftMessage(env: RaftEnvelope): void {
    if (this.state !== 'running') return;
    if (this.heard.admit(env)) this.router.deliver(env);
  }

  /** The highest term durably recorded as heard from `storeId` (0: never). */
  heardTerm(storeId: StoreId): number {
    return this.heard.heardTerm(storeId);
  }

  /**
   * Starts staging an incoming snapshot (the transport writes the file into it, then hands
   * the message to onRaftMessage). Refused while the store is not running.
   */
  receiveSnapshot(env: RaftEnvelope): Promise<SnapshotReceiver> {
    if (this.state !== 'running') return Promise.reject(new SnapshotRefusedError(`store ${this.o.storeId} is not running`));
    if (!this.router.get(env.regionId)) return Promise.reject(new SnapshotRefusedError(`store ${this.o.storeId} has no peer of region ${env.regionId}`));
    return this.snapshots.receive(env);
  }

  // ---- key-value requests (store-kv.ts) -------------------------------------------

  put(h: RequestHeader, key: Uint8Array, value: Uint8Array, session?: ClientSession): Promise<void> {
    return this.kv.put(h, key, value, session);
  }

  delete(h: RequestHeader, key: Uint8Array, session?: ClientSession): Promise<void> {
    return this.kv.delete(h, key, session);
  }

  /** See StoreKv.deleteRange. */
  deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, session?: ClientSession): Promise<WriteResult> {
    return this.kv.deleteRange(h, start, end, session);
  }

  get(h: RequestHeader, key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.kv.get(h, key);
  }

  /** Pairs with start <= key < end (end empty = unbounded), in key order, at most `limit`. */
  scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number): Promise<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
    return this.kv.scan(h, start, end, limit);
  }

  /**
   * Reads a key straight from this store's kvdb, bypassing Raft: what this replica has
   * applied, for tests and diagnostics. Never use it to answer a client.
   */
  async localGet(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.o.engines.kv.get(keys.dataKey('default', key));
  }

  // ---- admin --------------------------------------------------------------------

  /**
   * A membership change of a region (default: the router's lookup), through its leader
   * here: see Peer.proposeChangePeer. Resolves with the region once applied on this store.
   */
  async changePeer(change: 'addVoter' | 'addLearner' | 'removeNode', storeId: StoreId, regionId: RegionId = this.router.lookup()): Promise<RegionMeta> {
    return this.router.peerFor(regionId).proposeChangePeer(change, storeId);
  }

  /** Whether a region (default: the lookup's) has a peer here, is waiting for a leader to add one, or was removed from here. */
  membership(regionId: RegionId = this.router.lookup()): 'member' | 'joining' | 'removed' {
    return this.lifecycle.membership(regionId);
  }

  /** A region (default: the lookup's) as this store has it (undefined: no peer here). */
  region(regionId: RegionId = this.router.lookup()): RegionMeta | undefined {
    return this.router.get(regionId)?.region;
  }

  /**
   * Leader transfer of a region (default: the lookup's) to the peer on `toStore`:
   * NotLeaderError (with the leader hint) unless this store leads, InvalidRequestError if
   * no peer of the region is there.
   */
  transferLeader(toStore: StoreId, regionId: RegionId = this.router.lookup()): void {
    const peer = this.router.get(regionId);
    if (!peer || this.state !== 'running') throw new StoreStoppedError(this.o.storeId);
    const to = peer.region.peers.find((p) => p.storeId === toStore);
    if (!to) throw new InvalidRequestError(`store ${toStore} has no peer in region ${peer.region.id}`);
    peer.transferLeader(to); // to itself: a no-op for a leader (Raft ignores it)
  }

  // ---- status -------------------------------------------------------------------

  status(): StoreStatus[] {
    return [...this.router.all()].map((p) => peerStatus(this.o.storeId, p));
  }

  /** Pending proposals and reads across peers (0 after stop()). */
  pendingCount(): number {
    let n = 0;
    for (const p of this.router.all()) n += p.pendingCount;
    return n;
  }

  /** Diagnostics for tests: each leading peer's view of its followers. */
  describeProgress(): string {
    return [...this.router.all()].map((p) => `${p.describeLoop()}; ${p.describeProgress()}`).join('; ');
  }

  /** Rows in the client session tables of this store's peers. */
  sessionCount(): number {
    let n = 0;
    for (const p of this.router.all()) n += p.sessionCount;
    return n;
  }

  // ---- the end ------------------------------------------------------------------

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
    for (const p of this.router.all()) p.kill(reason);
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
    await Promise.all([...this.router.all()].map((p) => p.stop(reason)));
    await Promise.all([this.o.engines.kv.close(), this.o.engines.raft.close()]);
  }
}

/** A new Store over the given options (defaults filled in); it touches nothing until started. */
export function createStore(o: StoreOptions): Store {
  const ttl = o.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const skew = o.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  // A refusal mark at or past "now" would refuse every new client.
  if (!(skew < ttl)) throw new RangeError(`maxClockSkewMs (${skew}) must be less than sessionTtlMs (${ttl})`);
  return new Store(o);
}
