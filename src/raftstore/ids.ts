// Peer id allocation; the branded id types themselves live in src/api (re-exported here).

import { MAX_STORE_ID, type PeerId, type StoreId } from '../api/ids.js';
export type { PeerId, RegionId, StoreId } from '../api/ids.js';

// Store ids are at most MAX_STORE_ID (the cluster file loader enforces it), so that a
// peer id can carry its store id in its low digits.
const PEER_ID_STRIDE = MAX_STORE_ID + 1;

/**
 * The id of a peer added to a region whose conf_ver is `confVer` (before the change):
 * never an id used before in that region, since conf_ver only grows and every earlier
 * added peer's id is below (confVer + 1) * stride. The bootstrap peers have id = store id.
 */
export function newPeerId(confVer: number, storeId: StoreId): PeerId {
  if (!Number.isSafeInteger(storeId) || storeId < 1 || storeId > MAX_STORE_ID) throw new RangeError(`store id ${storeId} is out of range`);
  return ((confVer + 1) * PEER_ID_STRIDE + storeId) as PeerId;
}

/**
 * The highest peer id any store can have been given in a region whose conf_ver is at most
 * `confVer`: a store that lost its data and rejoins refuses to recreate any peer at or
 * below it (the peers it had then may have voted or acknowledged entries it no longer has).
 */
export function highestPeerIdAt(confVer: number): PeerId {
  return (confVer * PEER_ID_STRIDE + MAX_STORE_ID) as PeerId;
}
