// The wire form of a RaftEnvelope (raft_serverpb.RaftMessage). The gRPC transport
// sends these bytes; MemoryTransport round-trips through them in tests so the codec is
// exercised by every in-process run.

import { raft_serverpb } from '../gen/proto.js';
import { messageFromProto, messageToProto } from './codec.js';
import type { RaftEnvelope } from './envelope.js';
import type { PeerId, StoreId } from './ids.js';

/** The protobuf form of a RaftEnvelope (raft_serverpb.RaftMessage). */
export function envelopeToProto(e: RaftEnvelope): raft_serverpb.IRaftMessage {
  return {
    region_id: e.regionId,
    from_peer: { id: e.fromPeer.id, store_id: e.fromPeer.storeId },
    to_peer: { id: e.toPeer.id, store_id: e.toPeer.storeId },
    region_epoch: { conf_ver: e.regionEpoch.confVer, version: e.regionEpoch.version },
    message: messageToProto(e.message),
    ...(e.tombstone ? { is_tombstone: true } : {}),
  };
}

/** A RaftEnvelope from its protobuf form; throws TypeError when the message is missing. */
export function envelopeFromProto(p: raft_serverpb.IRaftMessage): RaftEnvelope {
  if (!p.message) throw new TypeError('raft message envelope without a message');
  return {
    regionId: Number(p.region_id ?? 0),
    fromPeer: { id: Number(p.from_peer?.id ?? 0) as PeerId, storeId: Number(p.from_peer?.store_id ?? 0) as StoreId },
    toPeer: { id: Number(p.to_peer?.id ?? 0) as PeerId, storeId: Number(p.to_peer?.store_id ?? 0) as StoreId },
    regionEpoch: { confVer: Number(p.region_epoch?.conf_ver ?? 0), version: Number(p.region_epoch?.version ?? 0) },
    message: messageFromProto(p.message),
    ...(p.is_tombstone ? { tombstone: true } : {}),
  };
}

/** RaftEnvelope to bytes and back (raft_serverpb.RaftMessage). */
export const envelopeCodec = {
  encode(e: RaftEnvelope): Uint8Array {
    return raft_serverpb.RaftMessage.encode(envelopeToProto(e)).finish();
  },
  decode(b: Uint8Array): RaftEnvelope {
    return envelopeFromProto(raft_serverpb.RaftMessage.decode(b));
  },
};
