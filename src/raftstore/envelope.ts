// RaftEnvelope: a Raft message addressed between peers of a region, as it travels
// between stores (raft_serverpb.RaftMessage on the wire).

import type { Message } from '../raft/index.js';
import type { PeerMeta, RegionEpoch } from '../api/meta.js';
import type { RegionId } from './ids.js';

export type { PeerMeta, RegionEpoch } from '../api/meta.js';

/**
 * A raft message between two peers of a region, with what the receiving store needs to
 * route it or create the peer.
 */
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
