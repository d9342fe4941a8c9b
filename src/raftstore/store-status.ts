// What a store reports about each of its peers (the Admin service's status, metrics and
// the CLI's `cluster status`): role, term, leader, indexes, log size and members.

import type { Peer } from './peer.js';
import type { PeerId, RegionId, StoreId } from './ids.js';

/** What a store reports about its peer of a region: role, term, leader, log positions. */
export interface StoreStatus {
  readonly storeId: StoreId;
  readonly regionId: RegionId;
  readonly role: string;
  readonly term: number;
  readonly leaderStoreId: StoreId | undefined;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  /** Log entries at or below it have been compacted away. */
  readonly truncatedIndex: number;
  /** Payload bytes of the log above the truncated index. */
  readonly logBytes: number;
  /** The region's conf_ver and members as this store has applied them. */
  readonly confVer: number;
  readonly members: readonly MemberStatus[];
}

/** One member of the region; `match` is known on the leader only (undefined elsewhere). */
export interface MemberStatus {
  readonly peerId: PeerId;
  readonly storeId: StoreId;
  readonly learner: boolean;
  readonly match: number | undefined;
}

/** One peer as its store sees it; `match` of each member only on the leader. */
export function peerStatus(storeId: StoreId, p: Peer): StoreStatus {
  const s = p.status();
  return {
    storeId, regionId: p.region.id, role: s.role, term: s.term,
    leaderStoreId: p.leaderMeta()?.storeId, commitIndex: s.commit, appliedIndex: s.applied, lastIndex: s.lastIndex,
    truncatedIndex: p.truncatedIndex, logBytes: p.logBytes, confVer: p.region.epoch.confVer,
    members: p.region.peers.map((m) => ({
      peerId: m.id, storeId: m.storeId, learner: Boolean(m.learner),
      match: s.role !== 'leader' ? undefined : m.id === p.meta.id ? s.lastIndex : (p.matchOf(m.id) ?? 0),
    })),
  };
}
