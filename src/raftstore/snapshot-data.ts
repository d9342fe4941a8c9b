// What a region snapshot is made of, and the helpers generation and install share: the
// SnapshotDescriptor that rides in the raft Snapshot's data (region, file size, checksum,
// pair count), and the kvdb key ranges that belong to a region's state machine — its user
// data in every column family and its client sessions. A snapshot file holds exactly the
// pairs of those ranges; installing one replaces exactly those ranges.

import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Snapshot } from '../raft/index.js';
import type { RegionMeta } from './region.js';
import { compareBytes, regionFromProto, regionToProto } from './region.js';

export interface SnapshotDescriptor {
  readonly region: RegionMeta;
  readonly fileSize: number;
  /** SHA-256 of the file, lower-case hex. */
  readonly checksum: string;
  readonly pairCount: number;
}

export function encodeDescriptor(d: SnapshotDescriptor): Uint8Array {
  return raft_serverpb.SnapshotDescriptor.encode(descriptorToProto(d)).finish();
}

export function descriptorToProto(d: SnapshotDescriptor): raft_serverpb.ISnapshotDescriptor {
  return { region: regionToProto(d.region), file_size: d.fileSize, checksum: d.checksum, pair_count: d.pairCount };
}

export function descriptorFromProto(p: raft_serverpb.ISnapshotDescriptor): SnapshotDescriptor {
  if (!p.region) throw new TypeError('snapshot descriptor without a region');
  // Stryker disable next-line StringLiteral: every caller passes a decoded message, whose absent string field reads as '' already; any other fallback fails the pattern below the same way
  const checksum = p.checksum ?? '';
  if (!/^[0-9a-f]{64}$/.test(checksum)) throw new TypeError(`snapshot descriptor with a malformed checksum ${JSON.stringify(checksum)}`);
  return { region: regionFromProto(p.region), fileSize: Number(p.file_size ?? 0), checksum, pairCount: Number(p.pair_count ?? 0) };
}

/** The descriptor a MsgSnapshot carries; TypeError if it is not one of ours. */
export function decodeDescriptor(s: Snapshot): SnapshotDescriptor {
  let p: raft_serverpb.SnapshotDescriptor;
  try {
    p = raft_serverpb.SnapshotDescriptor.decode(s.data);
  } catch (e) {
    throw new TypeError(`snapshot data is not a snapshot descriptor (${(e as Error).message})`);
  }
  return descriptorFromProto(p);
}

/** The kvdb ranges that make up a region's state machine, in key order. */
export function regionStateRanges(region: RegionMeta): keys.KeyRange[] {
  return [keys.clientSessionRange(region.id), ...keys.CFS.map((cf) => keys.dataRange(cf, region.startKey, region.endKey))];
}

/** Whether a kvdb key belongs to one of the region's state-machine ranges. */
export function inRegionState(ranges: readonly keys.KeyRange[], key: Uint8Array): boolean {
  return ranges.some(([start, end]) => compareBytes(key, start) >= 0 && compareBytes(key, end) < 0);
}
