// Branded identifiers shared by every layer that speaks about stores, peers and regions,
// so a region id is never passed where a store or peer id is expected.

export type StoreId = number & { readonly __brand?: 'StoreId' };
export type PeerId = number & { readonly __brand?: 'PeerId' };
export type RegionId = number & { readonly __brand?: 'RegionId' };

/**
 * Store ids are at most this: a peer id carries its store id in its low digits
 * (src/raftstore/ids.ts), and the cluster file loader refuses a larger one.
 */
export const MAX_STORE_ID = 999_999;

/**
 * The region every cluster starts with, covering every key (bootstrap writes it). Only
 * bootstrap and the region lookups (the store's router, the client's region cache) name
 * it; everything else takes a region id from the request or from a lookup.
 */
export const FIRST_REGION_ID = 1 as RegionId;
