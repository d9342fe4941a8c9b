// Which region a request goes to. The client asks this module, never names a region
// itself: today one region covers every key (the bootstrap region), so the answer is
// always that one; with many regions (multi-raft), this is where a key is looked up in
// the cached ranges, a miss asks the cluster, and an EpochNotMatch answer (which carries
// the current regions) refreshes the cache — without touching the callers.

import type { RegionId } from '../api/ids.js';
import { FIRST_REGION_ID } from '../api/ids.js';

/** The client's map from keys to regions (today: one region for every key). */
export class RegionCache {
  /**
   * The region holding `key` (for a range, its start key) as far as this client knows.
   * Today: the one region every cluster starts with, whatever the key.
   */
  regionFor(_key: Uint8Array): RegionId {
    return FIRST_REGION_ID;
  }
}
