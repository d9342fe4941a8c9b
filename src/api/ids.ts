// Branded identifiers shared by every layer that speaks about stores, peers and regions,
// so a region id is never passed where a store or peer id is expected.

export type StoreId = number & { readonly __brand?: 'StoreId' };
export type PeerId = number & { readonly __brand?: 'PeerId' };
export type RegionId = number & { readonly __brand?: 'RegionId' };
