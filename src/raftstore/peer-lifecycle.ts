// A peer's life on this store: loaded (or bootstrapped) at start, created empty when a
// region's leader first contacts a store being added, destroyed with a tombstone once it
// is removed from its region. Tombstones outlive the peer: a late message of an epoch at or
// before the removal never recreates it, nor does a message for a peer id this store may
// have had before it lost its data.

import { NO_BUGS } from './deliberate-bugs.js';
import type { RaftEnvelope } from './envelope.js';
import type { RegionId } from './ids.js';
import type { Logger } from '../raft/index.js';
import { leaseDurationMs } from './leader-lease.js';
import { NO_OBSERVER } from './observer.js';
import { Peer } from './peer.js';
import type { PeerOptions } from './peer-options.js';
import { bootstrapRegion, destroyRegion, PeerStorage, readTombstone, writeUninitializedRegion } from './peer-storage.js';
import type { RegionMeta } from './region.js';
import { initialRegion } from './region.js';
import type { Router } from './router.js';
import { SessionTable } from './session-table.js';
import type { SnapshotManager } from './snapshot-manager.js';
import type { StoreOptions } from './store-options.js';
import {
  DEFAULT_COMPACT_LOG_MAX_BYTES, DEFAULT_COMPACT_LOG_THRESHOLD, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_SESSION_TTL_MS,
} from './store-options.js';

export interface LifecycleParts {
  readonly router: Router;
  readonly snapshots: SnapshotManager;
  readonly logger: Logger;
  /** Whether the store is (still) running: creation stops half-way if it is not. */
  readonly running: () => boolean;
  readonly fatal: (err: Error) => void;
}

export class PeerLifecycle {
  /** Regions removed from this store: messages of their epoch or older never recreate them. */
  private readonly tombstones = new Map<RegionId, RegionMeta>();
  /** Peers being created (by a leader's first message), so messages meanwhile do not create twice. */
  private readonly creating = new Set<RegionId>();
  private readonly warned = new Set<string>();

  constructor(private readonly o: StoreOptions, private readonly parts: LifecycleParts) {}

  /**
   * At start: the bootstrap region's peer, from its storage, bootstrapped on a fresh store
   * (unless it joins a running cluster), or nothing if it was removed from here.
   */
  async loadAtStart(): Promise<PeerStorage | undefined> {
    const { logger, snapshots } = this.parts;
    const o = this.o;
    const region = initialRegion(o.clusterStoreIds);
    const tomb = await readTombstone(o.engines, region.id);
    if (tomb) {
      this.tombstones.set(region.id, tomb);
      logger.info('region was removed from this store', { regionId: region.id, confVer: tomb.epoch.confVer });
      return undefined;
    }
    let storage = await PeerStorage.load(o.engines, o.storeId, region.id, snapshots, logger);
    if (!storage && !o.join) {
      logger.info('bootstrapping region', { regionId: region.id, stores: o.clusterStoreIds });
      await bootstrapRegion(o.engines, region);
      storage = await PeerStorage.load(o.engines, o.storeId, region.id, snapshots, logger);
    }
    if (!storage) logger.info('joining: waiting for the region\'s leader to add this store', { regionId: region.id });
    return storage;
  }

  /** Whether `regionId` has a peer here, is waiting for a leader to add one, or was removed from here. */
  membership(regionId: RegionId): 'member' | 'joining' | 'removed' {
    if (this.parts.router.get(regionId)) return 'member';
    return this.tombstones.has(regionId) ? 'removed' : 'joining';
  }

  /** Starts the peer `storage` holds and routes its region to it. */
  async start(storage: PeerStorage): Promise<void> {
    const region = storage.region;
    const self = region.peers.find((p) => p.storeId === this.o.storeId);
    if (!self) throw new Error(`store ${this.o.storeId} has no peer in region ${region.id}`);
    const sessions = this.o.deliberateBugs?.skipSessionReloadAtRestart ? new SessionTable() : await SessionTable.load(this.o.engines.kv, region.id);
    const peer: Peer = new Peer(this.peerOptions(storage, self, sessions, (r) => void this.destroy(peer, r)));
    this.parts.router.register(peer);
  }

  private peerOptions(storage: PeerStorage, self: PeerOptions['peer'], sessions: SessionTable, onRemoved: (r: RegionMeta) => void): PeerOptions {
    const o = this.o;
    return {
      onRemoved, peer: self, storage, kv: o.engines.kv, transport: o.transport,
      logger: this.parts.logger, electionTick: o.electionTick, heartbeatTick: o.heartbeatTick,
      seed: o.seed ?? (o.storeId * 7919 + Date.now()) >>> 0,
      sessions,
      wallClock: o.wallClock ?? Date.now,
      sessionTtlMs: o.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
      maxClockSkewMs: o.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
      onFatal: (e) => this.parts.fatal(e),
      bugs: o.deliberateBugs ?? NO_BUGS,
      observer: o.observer ?? NO_OBSERVER,
      ...(o.crashHook ? { crashHook: o.crashHook } : {}),
      ...(o.beforeInstall ? { beforeInstall: o.beforeInstall } : {}),
      compactLogThreshold: o.compactLogThreshold ?? DEFAULT_COMPACT_LOG_THRESHOLD,
      compactLogMaxBytes: o.compactLogMaxBytes ?? DEFAULT_COMPACT_LOG_MAX_BYTES,
      snapshots: this.parts.snapshots,
      ...(o.readMode === 'lease'
        ? {
          lease: {
            durationMs: o.deliberateBugs?.leaseTooLong ? 100 * o.electionTick * o.tickMs : leaseDurationMs(o.electionTick, o.tickMs),
            now: () => o.clock.now(),
          },
        }
        : {}),
    };
  }

  /**
   * A message for a region this store has no peer of: a leader contacting a store that is
   * being added. The peer is created empty (writeUninitializedRegion) and catches up by
   * snapshot. Not for a region removed from here at that epoch or later (a late message).
   */
  async createOnRequest(env: RaftEnvelope): Promise<void> {
    const regionId = env.regionId;
    if (!this.mayCreate(env)) return;
    const { logger, snapshots, running } = this.parts;
    this.creating.add(regionId);
    try {
      logger.info('creating a peer on the leader\'s request', { regionId, peer: env.toPeer.id, from: env.fromPeer.storeId });
      await writeUninitializedRegion(this.o.engines, regionId, env.toPeer);
      if (!running()) return;
      const storage = await PeerStorage.load(this.o.engines, this.o.storeId, regionId, snapshots, logger);
      if (!storage || !running()) return;
      this.tombstones.delete(regionId);
      await this.start(storage);
      this.parts.router.get(regionId)!.onRaftMessage(env);
    } catch (e) {
      this.parts.fatal(e as Error);
    } finally {
      this.creating.delete(regionId);
    }
  }

  private mayCreate(env: RaftEnvelope): boolean {
    const { regionId, message: m } = env;
    const o = this.o;
    if (env.toPeer.storeId !== o.storeId || this.creating.has(regionId)) return false;
    if (m.type !== 'MsgAppend' && m.type !== 'MsgHeartbeat' && m.type !== 'MsgSnapshot') return false;
    if (env.toPeer.id <= (o.minPeerId ?? 0) && !o.deliberateBugs?.recreateOldPeers) {
      // A peer this store may have had before it lost its data (see src/node/identity.ts):
      // recreated empty it could vote again or forget entries it acknowledged.
      this.warnOnce(`old-peer-${env.toPeer.id}`, 'refusing to recreate a peer this store may have had before its data was lost; ' +
        'remove it and add this store again (tinykv store replace)', { regionId, peer: env.toPeer.id, minPeerId: o.minPeerId, from: env.fromPeer.storeId });
      return false;
    }
    const tomb = this.tombstones.get(regionId);
    if (tomb && env.regionEpoch.confVer <= tomb.epoch.confVer && !o.deliberateBugs?.ignoreTombstones) {
      this.parts.logger.debug('dropping a message for a removed region', { regionId, from: env.fromPeer.storeId, confVer: env.regionEpoch.confVer });
      return false;
    }
    return true;
  }

  /** The peer applied its removal: destroy its data, leave a tombstone (destroyRegion). */
  private async destroy(peer: Peer, region: RegionMeta): Promise<void> {
    if (!this.parts.router.unregister(region.id, peer)) return;
    this.tombstones.set(region.id, region);
    try {
      await destroyRegion(this.o.engines, region);
      this.parts.logger.info('peer destroyed; region tombstoned', { regionId: region.id, confVer: region.epoch.confVer });
    } catch (e) {
      if (this.parts.running()) this.parts.fatal(e as Error);
    }
  }

  /** Logs a warning once per `key` (a condition that repeats with every message). */
  private warnOnce(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.parts.logger.warn(message, fields);
  }
}
