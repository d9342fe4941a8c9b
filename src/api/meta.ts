// Who is who in a region, as stores and clients exchange it: a peer (which store it lives
// on, voter or learner) and the region's epoch.

import type { PeerId, StoreId } from './ids.js';

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
