// What the raftstore does with regions: key order and membership of a key, the region a
// store bootstraps with, and the Raft configuration of a region's peers. The region's
// shape and its protobuf form are the wire vocabulary's (src/api/meta.ts), re-exported.

import type { PeerId, RegionId, StoreId } from './ids.js';
import { FIRST_REGION_ID } from '../api/ids.js';
import type { RegionMeta } from '../api/meta.js';

export { FIRST_REGION_ID };
export type { RegionMeta } from '../api/meta.js';
export { regionFromProto, regionToProto } from '../api/meta.js';

const EMPTY = new Uint8Array(0);

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
