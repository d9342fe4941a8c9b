// Who is who in a region, as stores and clients exchange it: a peer (which store it lives
// on, voter or learner), the region's epoch, and the region itself (key range, epoch,
// peers) with its protobuf form (metapb.Region).

import type { metapb } from '../gen/proto.js';
import type { PeerId, RegionId, StoreId } from './ids.js';

export interface PeerMeta {
  readonly id: PeerId;
  readonly storeId: StoreId;
  /** Gets the log, neither votes nor counts toward quorums (absent: a voter). */
  readonly learner?: boolean;
}

export interface RegionEpoch {
  readonly confVer: number;
  readonly version: number;
}

/** A region: the keys it covers, its epoch and its peers. */
export interface RegionMeta {
  readonly id: RegionId;
  /** Inclusive. */
  readonly startKey: Uint8Array;
  /** Exclusive; empty means unbounded. */
  readonly endKey: Uint8Array;
  readonly epoch: RegionEpoch;
  readonly peers: readonly PeerMeta[];
}

const EMPTY = new Uint8Array(0);

export function regionToProto(r: RegionMeta): metapb.IRegion {
  return {
    id: r.id,
    start_key: r.startKey,
    end_key: r.endKey,
    region_epoch: { conf_ver: r.epoch.confVer, version: r.epoch.version },
    peers: r.peers.map((p) => ({ id: p.id, store_id: p.storeId, ...(p.learner ? { is_learner: true } : {}) })),
  };
}

export function regionFromProto(p: metapb.IRegion): RegionMeta {
  return {
    id: Number(p.id ?? 0),
    startKey: p.start_key ?? EMPTY,
    endKey: p.end_key ?? EMPTY,
    epoch: { confVer: Number(p.region_epoch?.conf_ver ?? 0), version: Number(p.region_epoch?.version ?? 0) },
    peers: (p.peers ?? []).map((x) => ({
      id: Number(x.id ?? 0) as PeerId, storeId: Number(x.store_id ?? 0) as StoreId, ...(x.is_learner ? { learner: true } : {}),
    })),
  };
}
