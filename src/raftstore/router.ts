// The router: which peer of this store holds each region, where an inbound raft message
// or client request goes, and what happens to one for a region this store has no peer of
// (handed to the peer lifecycle, which may create the peer). It also answers the region
// lookup — which region a request means when it does not say — in one place: today the one
// region there is; with many regions, a search of their key ranges.

import type { Peer } from './peer.js';
import type { RaftEnvelope } from './envelope.js';
import { RegionNotFoundError, StoreStoppedError } from './errors.js';
import type { RegionId, StoreId } from './ids.js';
import type { Logger } from '../raft/index.js';
import { FIRST_REGION_ID } from './region.js';
import type { Transport } from './transport.js';

export interface RouterOptions {
  readonly storeId: StoreId;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Whether the store is running (requests to a store that is not fail with StoreStopped). */
  readonly running: () => boolean;
  /** A message for a region with no peer here (the lifecycle decides whether to create one). */
  readonly unknownRegion: (env: RaftEnvelope) => void;
}

export class Router {
  private readonly peers = new Map<RegionId, Peer>();

  constructor(private readonly o: RouterOptions) {}

  register(peer: Peer): void {
    this.peers.set(peer.region.id, peer);
  }

  /** Forgets `peer` if it is still the one routed to for `regionId`; false if it was not. */
  unregister(regionId: RegionId, peer: Peer): boolean {
    if (this.peers.get(regionId) !== peer) return false;
    this.peers.delete(regionId);
    return true;
  }

  get(regionId: RegionId): Peer | undefined {
    return this.peers.get(regionId);
  }

  all(): IterableIterator<Peer> {
    return this.peers.values();
  }

  /**
   * The region a request that names none means (an admin command, a client that has not
   * looked one up): today the one region a cluster has, which is the region this store
   * bootstrapped or joined. The multi-raft work replaces this lookup, not its callers.
   */
  lookup(): RegionId {
    for (const id of this.peers.keys()) return id;
    return FIRST_REGION_ID;
  }

  /** The peer a request for `regionId` goes to: StoreStopped / RegionNotFound if none. */
  peerFor(regionId: RegionId): Peer {
    if (!this.o.running()) throw new StoreStoppedError(this.o.storeId);
    const p = this.peers.get(regionId);
    if (!p) throw new RegionNotFoundError(regionId);
    return p;
  }

  /** Delivers a raft message from another store (its sender's term already recorded). */
  deliver(env: RaftEnvelope): void {
    const peer = this.peers.get(env.regionId);
    if (env.tombstone) {
      this.onTombstoneNotice(peer, env);
      return;
    }
    if (!peer) {
      this.o.unknownRegion(env);
      return;
    }
    const region = peer.region;
    if (!region.peers.some((p) => p.id === env.fromPeer.id) && env.regionEpoch.confVer < region.epoch.confVer && region.epoch.confVer > 0) {
      this.tellRemoved(peer, env);
      return;
    }
    peer.onRaftMessage(env);
  }

  /**
   * From a peer removed at an earlier conf_ver that never heard of it (it missed the
   * commit): tell it, so it destroys itself instead of campaigning for ever.
   */
  private tellRemoved(peer: Peer, env: RaftEnvelope): void {
    const region = peer.region;
    this.o.transport.send({
      regionId: region.id, fromPeer: peer.meta, toPeer: env.fromPeer, regionEpoch: region.epoch, tombstone: true,
      // Our own term: the receiver records it as heard from us (identity checks).
      message: { type: 'MsgHeartbeatResponse', from: peer.meta.id, to: env.fromPeer.id, term: Math.max(1, peer.status().term), context: new Uint8Array(0) },
    });
  }

  /** Another store's region, newer than ours, does not have our peer: it was removed. */
  private onTombstoneNotice(peer: Peer | undefined, env: RaftEnvelope): void {
    if (!peer || peer.meta.id !== env.toPeer.id || env.regionEpoch.confVer <= peer.region.epoch.confVer) return;
    this.o.logger.info('told by a newer member that this peer was removed', { regionId: env.regionId, by: env.fromPeer.storeId, confVer: env.regionEpoch.confVer });
    peer.removedElsewhere({ ...peer.region, epoch: env.regionEpoch, peers: peer.region.peers.filter((p) => p.id !== peer.meta.id) });
  }
}
