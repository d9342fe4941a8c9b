// RaftEnvelope: a Raft message addressed between peers of a region, as it travels
// between stores (raft_serverpb.RaftMessage on the wire).

import type { Message } from '../raft/index.js';
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

export interface RaftEnvelope {
  readonly regionId: RegionId;
  readonly fromPeer: PeerMeta;
  readonly toPeer: PeerMeta;
  readonly regionEpoch: RegionEpoch;
  readonly message: Message;
  /**
   * A notice, not a Raft message (`message` is not stepped): the sender's region, at
   * `regionEpoch`, no longer has `toPeer` — it was removed and should destroy itself.
   */
  readonly tombstone?: boolean;
}
