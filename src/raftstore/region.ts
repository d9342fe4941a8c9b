// RegionMeta: a region's key range, epoch and peers, and its protobuf form (metapb).
// For now one region spans all keys: start "" and end "" (unbounded).

import type { metapb } from '../gen/proto.js';
import type { PeerMeta, RegionEpoch } from './envelope.js';
import type { PeerId, RegionId, StoreId } from './ids.js';

/** A region: its key range, epoch and peers (metapb.Region). */
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

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

export function keyInRegion(key: Uint8Array, r: RegionMeta): boolean {
  return compareBytes(key, r.startKey) >= 0 && (r.endKey.length === 0 || compareBytes(key, r.endKey) < 0);
}

/** The one region for now: it covers every key. */
export const FIRST_REGION_ID = 1 as RegionId;

/** The region every store bootstraps with: all keys, one peer per store (peer id = store id). */
export function initialRegion(storeIds: readonly StoreId[]): RegionMeta {
  return {
    id: FIRST_REGION_ID,
    startKey: EMPTY,
    endKey: EMPTY,
    epoch: { confVer: 1, version: 1 },
    peers: storeIds.map((s) => ({ id: s as number as PeerId, storeId: s })),
  };
}

/** The Raft configuration a region's peers make. */
export function confStateOf(r: RegionMeta): { voters: PeerId[]; learners: PeerId[] } {
  return { voters: r.peers.filter((p) => !p.learner).map((p) => p.id), learners: r.peers.filter((p) => p.learner).map((p) => p.id) };
}
